/**
 * Languages, time zones and what people are told (issue 10 §4, §5), through the real API, Temporal,
 * PostgreSQL and SMTP: organisation settings, a signer's language, emails as HTML and text whose links
 * survive quoted-printable wrapping in the raw .eml, a PIN lockout told to the sender by the round, and
 * the sealed audit page in the organisation's language and zone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { DataSource, QueryRunner } from 'typeorm';
import { migrations } from '../../migrations';
import { LanguagesAndTimeZones1763905000000 } from '../../migrations/1763905000000-languages-and-time-zones';
import { workflowIdForRequest } from '../../src/signing/create-signing-request';
import { signerLockedSignal } from '../../src/workflows/signing-round';
import { apiClient, type Json } from '../support/api-client';
import { createTestOrganization } from '../support/factories';
import { harness, openTestDataSource, startTestApi, type TestApi } from '../support/harness';
import { goodPassword, signIn, tokenOf } from '../support/members';
import { createTestPdf } from '../support/pdf-factories';
import { pageText } from '../support/pdf-validators';
import { signingTokenIn, startSmtpCatcher, type CaughtMail } from '../support/smtp-catcher';
import { waitFor } from '../support/wait-for';
import { reportDocumentDisplayed } from '../support/signer-reading';
import { expectBothPartsCarry } from '../support/raw-mail';

// Long, with `=` and `&` in it: quoted-printable encodes `=` and wraps lines at 76 characters, and a link
// must come out of both intact. Links only need to be read here, never followed.
const publicUrl = `http://sign.example.test/tenant=acme-nordic/${'long-path-segment-'.repeat(4)}x=1&y=2`;

let dataSource: DataSource;
let smtp: Awaited<ReturnType<typeof startSmtpCatcher>>;
let api: TestApi;
let org: { orgId: string; apiKey: string };
let pdfBase64: string;

beforeAll(async () => {
  dataSource = await openTestDataSource();
  smtp = await startSmtpCatcher();
  api = await startTestApi(dataSource, { env: { SMTP_URL: smtp.url, PUBLIC_URL: publicUrl } });
  org = await createTestOrganization(dataSource, { name: 'Nordisk Byrå Ab' });
  pdfBase64 = Buffer.from(await createTestPdf([{}])).toString('base64');
});

afterAll(async () => {
  await api?.close();
  await smtp?.close();
  await dataSource?.destroy();
});

const call = apiClient(() => api.url, () => org.apiKey);
const unique = (name: string) => `${name}-${randomUUID().slice(0, 8)}@example.test`;

/** Both parts are quoted-printable and carry `link` intact (test/support/raw-mail.ts), wrapped with an escaped `=` in the raw message. */
function expectLinkSurvives(mail: CaughtMail, link: string): void {
  expectBothPartsCarry(mail, link);
  expect(mail.raw.toString('latin1')).toContain('=3D');
}

describe('the migration', () => {
  test('gives existing signers their organisation’s default language and lets a lock reach the outbox', async () => {
    const runner: QueryRunner = dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      // The schema before this migration, in a scratch schema of this transaction only.
      const schema = `legacy_${randomBytes(4).toString('hex')}`;
      await runner.query(`CREATE SCHEMA ${schema}`);
      await runner.query(`SET LOCAL search_path = ${schema}, public`);
      const before = migrations.slice(0, migrations.indexOf(LanguagesAndTimeZones1763905000000));
      for (const Migration of before) await new Migration().up(runner);
      const [organization] = await runner.query(`INSERT INTO organizations (name) VALUES ('Legacy Oy') RETURNING id`);
      const folderId = randomUUID();
      await runner.query(`INSERT INTO folders (id, organization_id, name, is_default) VALUES ($1, $2, 'Legacy', false)`, [folderId, organization.id]);
      const requestId = randomUUID();
      await runner.query(
        `INSERT INTO signing_requests (id, organization_id, folder_id, title, document_filename, document_code, original_blob_key, original_sha256,
           page_count, routing, reminder_first_after_ms, reminder_every_ms, reminder_max, status, created_at, expires_at)
         VALUES ($1, $2, $3, 'Legacy', 'legacy.pdf', 'SGL-LEGA-CY00-0001', 'none', $4, 1, 'parallel', 1000, 1000, 0, 'pending', now(), now() + interval '1 day')`,
        [requestId, organization.id, folderId, '0'.repeat(64)],
      );
      const signerId = randomUUID();
      await runner.query(
        `INSERT INTO signers (id, request_id, position, name, email, pin_delivery, link_version, pin_version, failed_pin_attempts)
         VALUES ($1, $2, 0, 'Old Signer', 'old@example.test', 'sender', 1, 1, 0)`,
        [signerId, requestId],
      );

      await new LanguagesAndTimeZones1763905000000().up(runner);

      expect(await runner.query(`SELECT default_locale, time_zone FROM organizations WHERE id = $1`, [organization.id])).toEqual([
        { default_locale: 'en', time_zone: 'UTC' },
      ]);
      expect(await runner.query(`SELECT locale FROM signers WHERE id = $1`, [signerId])).toEqual([{ locale: 'en' }]);
      await runner.query(`INSERT INTO round_signal_outbox (id, request_id, signer_id, kind) VALUES ($1, $2, $3, 'locked')`, [randomUUID(), requestId, signerId]);
      // Last: a statement that fails aborts the transaction.
      await expect(runner.query(`UPDATE signers SET locale = NULL WHERE id = $1`, [signerId])).rejects.toThrow(/null value/);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });
});

describe('organisation settings', () => {
  test('anyone of the organisation reads them; admins change them, each change in the audit log; an unknown zone is 422', async () => {
    const own = await createTestOrganization(dataSource);
    const admin = apiClient(() => api.url, () => own.apiKey);
    expect((await admin('/v1/organization')).body).toMatchObject({ id: own.orgId, defaultLocale: 'en', timeZone: 'UTC' });

    const sender = await admin('/v1/api-keys', { body: { name: 'sender', permissions: ['send', 'view'] } });
    expect(sender.status).toBe(201);
    const asSender = apiClient(() => api.url, () => sender.body.key);
    expect((await asSender('/v1/organization')).status).toBe(200);
    expect((await asSender('/v1/organization', { method: 'PATCH', body: { defaultLocale: 'fi' } })).status).toBe(403);

    const badZone = await admin('/v1/organization', { method: 'PATCH', body: { timeZone: 'Europe/Atlantis' } });
    expect(badZone.status).toBe(422);
    expect(badZone.body.error.details.issues).toEqual([{ path: 'body.timeZone', message: expect.stringContaining('IANA') }]);
    expect((await admin('/v1/organization', { method: 'PATCH', body: { timeZone: '+02:00' } })).status).toBe(422);
    expect((await admin('/v1/organization', { method: 'PATCH', body: { defaultLocale: 'de' } })).status).toBe(400);

    const changed = await admin('/v1/organization', { method: 'PATCH', body: { defaultLocale: 'fi', timeZone: 'Europe/Helsinki' } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ defaultLocale: 'fi', timeZone: 'Europe/Helsinki' });
    expect((await asSender('/v1/organization')).body).toMatchObject({ defaultLocale: 'fi', timeZone: 'Europe/Helsinki' });

    const log = await admin('/v1/audit-log');
    const entries = (log.body.events as Json[]).filter((event) => event.type === 'organization.settings_changed');
    expect(entries).toHaveLength(1);
    expect(entries[0].detail).toEqual({ defaultLocale: { from: 'en', to: 'fi' }, timeZone: { from: 'UTC', to: 'Europe/Helsinki' } });
    expect(log.body.chain.valid).toBe(true);

    // A signer given no language gets the organisation's default.
    const created = await admin('/v1/signing-requests', {
      body: { title: 'Oletuskieli', document: { filename: 'a.pdf', contentBase64: pdfBase64 }, signers: [{ name: 'Olli', email: unique('olli') }] },
    });
    expect(created.status).toBe(201);
    expect(created.body.signers[0].locale).toBe('fi');
    expect((await admin(`/v1/signing-requests/${created.body.id}`)).body.signers[0].locale).toBe('fi');
    expect((await admin(`/v1/signing-requests/${created.body.id}/cancel`, { body: { reason: 'test' } })).status).toBe(200);
  });
});

describe('a round in Swedish and Finnish, sent by a member', () => {
  test('each signer reads their language, links survive quoted-printable, completion links the console and the signing pages, the audit page is in the organisation’s language and zone', async () => {
    expect((await call('/v1/organization', { method: 'PATCH', body: { defaultLocale: 'sv', timeZone: 'Europe/Stockholm' } })).status).toBe(200);
    // The sending person: a member who signs in and creates the request in their own name.
    const memberEmail = unique('sara');
    const invited = await call('/v1/members', { body: { email: memberEmail, role: 'admin', name: 'Sara Sändare', phone: '+46701234567' } });
    expect(invited.status).toBe(201);
    const [invitation] = await smtp.waitForMail(memberEmail, '');
    const passwordLink = /(https?:\/\/\S+\/login\/password\?token=[A-Za-z0-9_%-]+)/.exec(invitation!.text)![1]!;
    expect((await apiClient(() => api.url, () => null)('/v1/auth/password', { body: { token: tokenOf(passwordLink), password: goodPassword } })).status).toBe(200);
    const { browser } = await signIn(api, memberEmail, goodPassword);

    const svEmail = unique('sven');
    const fiEmail = unique('aino');
    const created = await browser.call('/v1/signing-requests', {
      body: {
        title: 'Hyresavtal 2026',
        message: 'Hej! Se särskilt punkt 4 om uppsägningstid.',
        document: { filename: 'avtal.pdf', contentBase64: pdfBase64 },
        signers: [
          { name: 'Sven Svensson', email: svEmail, locale: 'sv', pinDelivery: 'sender' },
          { name: 'Aino Äijälä', email: fiEmail, locale: 'fi', pinDelivery: 'sender' },
        ],
      },
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    expect(created.body.signers.map((s: Json) => s.locale)).toEqual(['sv', 'fi']);

    const [toSven] = await smtp.waitForMail(svEmail, 'Dokument att signera: Hyresavtal 2026');
    const [toAino] = await smtp.waitForMail(fiEmail, 'Allekirjoituspyyntö: Hyresavtal 2026');
    expect(toSven!.text).toContain('Sara Sändare på Nordisk Byrå Ab ber dig skriva under ”Hyresavtal 2026”.');
    expect(toSven!.text).toContain('> Hej! Se särskilt punkt 4 om uppsägningstid.');
    expect(toAino!.text).toContain('Sara Sändare (Nordisk Byrå Ab) on lähettänyt asiakirjan ”Hyresavtal 2026” allekirjoitettavaksi.');
    expect(toAino!.html).toContain('<html lang="fi">');
    for (const mail of [toSven!, toAino!]) expectLinkSurvives(mail, `${publicUrl}/s/${signingTokenIn(mail)}`);

    const signers = [
      { mail: toSven!, pin: created.body.signers[0].pin as string, name: 'Sven Svensson' },
      { mail: toAino!, pin: created.body.signers[1].pin as string, name: 'Aino Äijälä' },
    ];
    for (const { mail, pin, name } of signers) {
      const session = await call('/v1/signer/session', { key: null, body: { token: signingTokenIn(mail), pin } });
      expect(session.status).toBe(200);
      const auth = { authorization: `Bearer ${session.body.sessionToken}` };
      await reportDocumentDisplayed(call, session.body.sessionToken);
      expect((await call('/v1/signer/sign', { key: null, headers: auth, body: { typedName: name, consent: true } })).status).toBe(200);
    }
    expect((await api.client.workflow.getHandle(workflowIdForRequest(id)).result()).status).toBe('completed');

    // Signers: to their own signing page, in their language. The sender: to the request's console page.
    const [svDone] = await smtp.waitForMail(svEmail, 'Underskrivet: Hyresavtal 2026');
    const [fiDone] = await smtp.waitForMail(fiEmail, 'Allekirjoitettu: Hyresavtal 2026');
    const [senderDone] = await smtp.waitForMail(memberEmail, 'Underskrivet: Hyresavtal 2026');
    expect(svDone!.text).toContain('underskrivet av alla 2 parter och förseglat');
    expect(fiDone!.text).toContain('Kaikki 2 osapuolta ovat allekirjoittaneet');
    expectLinkSurvives(svDone!, `${publicUrl}/s/${signingTokenIn(toSven!)}`);
    expectLinkSurvives(fiDone!, `${publicUrl}/s/${signingTokenIn(toAino!)}`);
    expectLinkSurvives(senderDone!, `${publicUrl}/requests/${id}`);
    expect(senderDone!.text).toContain('Skickat via Sigill för Sara Sändare, Nordisk Byrå Ab.');
    expect(senderDone!.text).not.toContain('/v1/');

    // The sealed audit page: Swedish labels saying what happened, Stockholm time with UTC beside it.
    const sealed = await call(`/v1/signing-requests/${id}/document`);
    expect(sealed.status).toBe(200);
    const file = path.join(harness.tempDir('languages'), 'sealed.pdf');
    fs.writeFileSync(file, sealed.body);
    const audit = pageText(file, 2).replace(/\s+/g, ' ');
    expect(audit).toContain('Händelselogg');
    expect(audit).toContain('Aino Äijälä');
    expect(audit).toContain('Tider i Europe/Stockholm, med UTC inom parentes.');
    for (const { name } of signers) {
      const opened = audit.indexOf(`${name} — PIN-koden godkänd`);
      const viewed = audit.indexOf(`${name} — Dokumentet visat`);
      const signed = audit.indexOf(`${name} — Signerat`);
      expect({ name, opened: opened >= 0, inOrder: opened < viewed && viewed < signed }).toEqual({ name, opened: true, inOrder: true });
    }
    const signedAt = new Date((await call(`/v1/signing-requests/${id}`)).body.signers[0].signedAt);
    const utc = signedAt.toISOString().slice(0, 19).replace('T', ' ');
    const stockholm = new Intl.DateTimeFormat('sv-SE', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Stockholm' }).format(signedAt);
    expect(audit).toContain(`${stockholm} `);
    expect(audit).toContain(`(${utc} UTC)`);
  });
});

describe('a PIN lockout', () => {
  test('tells the sender once, in the organisation’s language: who, and to issue a new PIN', async () => {
    const own = await createTestOrganization(dataSource, { ownerEmail: unique('owner') });
    const admin = apiClient(() => api.url, () => own.apiKey);
    expect((await admin('/v1/organization', { method: 'PATCH', body: { defaultLocale: 'fi', timeZone: 'Europe/Helsinki' } })).status).toBe(200);
    const [owner] = await dataSource.query(`SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1`, [own.orgId]);
    const email = unique('locked');
    const created = await admin('/v1/signing-requests', {
      body: {
        title: 'Lukittu sopimus',
        document: { filename: 'a.pdf', contentBase64: pdfBase64 },
        signers: [{ name: 'Lauri Lukko', email, locale: 'sv', pinDelivery: 'sender' }],
      },
    });
    expect(created.status).toBe(201);
    const [invitation] = await smtp.waitForMail(email, 'Dokument att signera');
    const token = signingTokenIn(invitation!);
    const wrong = created.body.signers[0].pin === '000000' ? '111111' : '000000';
    for (let attempt = 1; attempt <= 5; attempt++) {
      const answer = await call('/v1/signer/session', { key: null, body: { token, pin: wrong } });
      expect(answer.status).toBe(attempt < 5 ? 401 : 423);
    }

    const [notice] = await smtp.waitForMail(owner.email, 'Allekirjoituslinkki on lukittu: Lukittu sopimus');
    expect(notice!.text).toContain(`Allekirjoittajan Lauri Lukko (${email}) linkki asiakirjaan ”Lukittu sopimus” lukittiin`);
    expect(notice!.text).toContain('väärin 5 kertaa');
    expect(notice!.text).toContain('on saanut uuden PIN-koodin');
    expectLinkSurvives(notice!, `${publicUrl}/requests/${created.body.id}`);
    await waitFor('the outbox emptied', async () => (await dataSource.query(`SELECT 1 FROM round_signal_outbox WHERE request_id = $1`, [created.body.id])).length === 0);

    // Delivered again (at least once is the relay's promise): the round tells nobody twice.
    const handle = api.client.workflow.getHandle(workflowIdForRequest(created.body.id));
    const signalled = (events: Json[]) => events.filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'signerLocked');
    const notices = (events: Json[]) => events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'notifySignerLocked');
    const first = (await handle.fetchHistory()).events as Json[];
    expect(signalled(first)).toHaveLength(1);
    const [payload] = await api.signing.payloadCodec.decode(signalled(first)[0].workflowExecutionSignaledEventAttributes.input.payloads);
    const lock = defaultPayloadConverter.fromPayload<{ signerId: string; lockId: string }>(payload!);
    expect(lock.signerId).toBe(created.body.signers[0].id);
    await handle.signal(signerLockedSignal, lock);
    const after = await waitFor('the repeated signal handled', async () => {
      const events = (await handle.fetchHistory()).events as Json[];
      const repeated = events.indexOf(signalled(events)[1]);
      return repeated >= 0 && events.slice(repeated).some((event) => event.workflowTaskCompletedEventAttributes) && events;
    });
    expect(notices(after)).toHaveLength(1);
    expect(smtp.to(owner.email, 'Allekirjoituslinkki on lukittu')).toHaveLength(1);
    expect((await admin(`/v1/signing-requests/${created.body.id}/cancel`, { body: { reason: 'test' } })).status).toBe(200);
  });
});
