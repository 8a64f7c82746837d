/**
 * Records workflow histories for the replay tests (test/integration/replay.test.ts). Runs the real service
 * on embedded defaults in a temporary folder, drives each workflow through a representative path, and saves
 * the event histories as JSON fixtures.
 *
 * Re-record only for a deliberate, versioned workflow change: an existing fixture that stops replaying
 * means running workflows would break on deploy.   Usage: npm run record-fixtures [-- --only NAME,NAME]
 * (`--only` writes just those fixtures, e.g. a new path, and leaves the recorded ones as they are).
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { createOrganization } from '../src/accounts/create-organization';
import { parseConfig } from '../src/config';
import { createDataSource } from '../src/database/data-source';
import { ShutdownSequence } from '../src/lifecycle';
import { createLogger } from '../src/logger';
import { startService } from '../src/service';
import { PDFDocument } from 'pdf-lib';
import { createAdapters } from '../src/adapters';
import { sigillDataConverter } from '../src/adapters/data-converter';
import { organizationScope } from '../src/accounts/access';
import { createSigningRequest, createSigningRequestInput, recordSigningRequest, roundInputFor, workflowIdForRequest } from '../src/signing/create-signing-request';
import { createSigningContext } from '../src/signing/signing-context';
import { Signer } from '../src/database/entities';
import { deliverDueRoundSignals } from '../src/signing/round-signal-relay';
import { openSignerSession } from '../src/signing/signer-access';
import { acknowledgeProbeUpdate } from '../src/workflows/probe';
import { cancelUpdate, remindNowUpdate, roundStateQuery, signUpdate } from '../src/workflows/signing-round';

const fixturesDir = path.resolve(__dirname, '..', 'test', 'fixtures', 'histories');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Replaces every encrypted payload in a JSON history (base64 fields) by its decrypted form. */
async function decryptPayloads(node: unknown, codec: PayloadCodec): Promise<unknown> {
  if (Array.isArray(node)) return Promise.all(node.map((item) => decryptPayloads(item, codec)));
  if (!node || typeof node !== 'object') return node;
  const record = node as Record<string, unknown>;
  const metadata = record.metadata as Record<string, string> | undefined;
  if (metadata && typeof record.data === 'string' && metadata.encoding) {
    const payload = {
      metadata: Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
      data: Buffer.from(record.data, 'base64'),
    };
    const [plain] = await codec.decode([payload]);
    return {
      ...record,
      metadata: Object.fromEntries(Object.entries(plain!.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
      data: Buffer.from(plain!.data ?? []).toString('base64'),
    };
  }
  const entries = await Promise.all(Object.entries(record).map(async ([key, value]) => [key, await decryptPayloads(value, codec)] as const));
  return Object.fromEntries(entries);
}

const onlyFlag = process.argv.indexOf('--only');
const only = onlyFlag >= 0 ? new Set((process.argv[onlyFlag + 1] ?? '').split(',')) : undefined;

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigill-fixtures-'));
  const config = parseConfig({
    ...process.env,
    DATABASE_URL: '',
    TEMPORAL_ADDRESS: '',
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_DEV_UI_PORT: String(await freePort()),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
  });
  const log = createLogger('warn');
  const shutdown = new ShutdownSequence(log);
  try {
    await startService(config, log, { api: false, worker: true }, shutdown);
    const dataSource = await createDataSource(
      `postgres://postgres:postgres@127.0.0.1:${config.database.mode === 'embedded' ? config.database.port : 0}/postgres`,
    ).initialize();
    shutdown.add('data source', () => dataSource.destroy());
    const { orgId: organizationId } = await createOrganization(dataSource, { name: 'Fixtures', ownerEmail: 'fixtures@example.test' });
    const connection = await Connection.connect({ address: `127.0.0.1:${config.temporal.mode === 'embedded' ? config.temporal.port : 0}` });
    shutdown.add('client', () => connection.close());
    // The same key service and record keys as the running worker (same DATA_DIR and database), so this client
    // reads its encrypted payloads, which are under each record's own key.
    const adapters = createAdapters(config);
    shutdown.add('adapters', () => adapters.close());
    const signing = await createSigningContext(config, dataSource, adapters);
    const codec = signing.payloadCodec;
    const client = new Client({ connection, dataConverter: sigillDataConverter(codec) });

    const record = async (name: string, drive: (workflowId: string) => Promise<void>) => {
      const probeId = crypto.randomUUID();
      const workflowId = `probe-${probeId}`;
      await client.workflow.start('probeWorkflow', {
        taskQueue: config.temporal.taskQueue,
        workflowId,
        args: [{ probeId, organizationId, timeoutMs: name === 'probe-timed-out' ? 1000 : 600_000 }],
      });
      await drive(workflowId);
      await writeFixture(name, workflowId);
    };
    const writeFixture = async (name: string, workflowId: string) => {
      if (only && !only.has(name)) return;
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      fs.mkdirSync(fixturesDir, { recursive: true });
      // Fixtures are stored decrypted: replaying them must not depend on this run's throwaway master key.
      const decrypted = await decryptPayloads(JSON.parse(historyToJSON(history)), codec);
      fs.writeFileSync(path.join(fixturesDir, `${name}.json`), JSON.stringify(decrypted, null, 1));
      process.stdout.write(`recorded ${name} (${history.events?.length} events)\n`);
    };
    const saveHistory = (name: string, requestId: string) => writeFixture(name, workflowIdForRequest(requestId));

    await record('probe-acknowledged', async (workflowId) => {
      const handle = client.workflow.getHandle(workflowId);
      await handle.executeUpdate(acknowledgeProbeUpdate);
      await handle.executeUpdate(acknowledgeProbeUpdate);
      await handle.result();
    });
    await record('probe-timed-out', async (workflowId) => {
      await client.workflow.getHandle(workflowId).result();
    });

    // A signing round: sequential, two signers, a manual reminder, a double signature, sealed and archived.
    const pdf = await PDFDocument.create();
    pdf.addPage().drawText('Fixture agreement');
    const pdfBase64 = Buffer.from(await pdf.save()).toString('base64');
    /** A round created the way the API creates one, and its workflow handle. */
    const startFixtureRound = async (title: string, signers: Array<{ name: string; email: string; pinDelivery?: 'sender' }>, routing?: 'sequential') => {
      const request = await createSigningRequest(signing, { client, taskQueue: config.temporal.taskQueue }, {
        scope: organizationScope(organizationId),
        now: new Date(),
        request: createSigningRequestInput.parse({ title, document: { filename: 'fixture.pdf', contentBase64: pdfBase64 }, signers, routing }),
      });
      const handle = client.workflow.getHandle(workflowIdForRequest(request.id));
      // The Updates below reach the round after its first task, as when these fixtures were first recorded
      // (a reminder that arrives with the start is a fixture of its own, below).
      for (let tries = 0; (await handle.query(roundStateQuery).catch(() => undefined))?.signers[0]?.status !== 'invited'; tries++) {
        if (tries > 100) throw new Error(`the round of ${title} never invited anyone`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return { request, handle };
    };

    const { request: created, handle: round } = await startFixtureRound(
      'Fixture agreement',
      [
        { name: 'First Fixture', email: 'first@example.test' },
        { name: 'Second Fixture', email: 'second@example.test' },
      ],
      'sequential',
    );
    await round.executeUpdate(remindNowUpdate);
    for (const signer of created.signers) {
      const signature = { signerId: signer.id, typedName: signer.name, ip: '192.0.2.1', userAgent: 'fixture' };
      await round.executeUpdate(signUpdate, { args: [signature] });
      await round.executeUpdate(signUpdate, { args: [signature] });
    }
    const completed = await round.result();
    if (completed.status !== 'completed') throw new Error(`fixture round ended ${completed.status}`);
    await saveHistory('signing-round-completed', created.id);

    const cancelled = await startFixtureRound('Fixture cancelled', [{ name: 'Third Fixture', email: 'third@example.test' }]);
    await cancelled.handle.executeUpdate(cancelUpdate, { args: [{ reason: 'fixture' }] });
    await cancelled.handle.result();
    await saveHistory('signing-round-cancelled', cancelled.request.id);

    // A round whose audit event the database refuses (a NUL that got past the API): it ends `failed`.
    const failed = await startFixtureRound('Fixture failed', [{ name: 'Fourth Fixture', email: 'fourth@example.test' }]);
    await failed.handle.executeUpdate(signUpdate, { args: [{ signerId: failed.request.signers[0]!.id, typedName: 'Fourth\u0000' }] });
    const failedResult = await failed.handle.result();
    if (failedResult.status !== 'failed') throw new Error(`fixture round ended ${failedResult.status}`);
    await saveHistory('signing-round-failed', failed.request.id);

    // A signer's link locks after five wrong PINs: the lock reaches the round through the outbox and the
    // relay, the round tells the senders (one activity), then the sender cancels.
    const locking = await startFixtureRound('Fixture locked', [{ name: 'Fifth Fixture', email: 'fifth@example.test', pinDelivery: 'sender' }]);
    const temporal = { client, taskQueue: config.temporal.taskQueue };
    const [lockedSigner] = await dataSource.getRepository(Signer).findBy({ id: locking.request.signers[0]!.id });
    const token = signing.credentials.linkToken({ signerId: lockedSigner!.id, linkVersion: lockedSigner!.linkVersion });
    const wrongPin = locking.request.signers[0]!.pin === '000000' ? '111111' : '000000';
    for (let attempt = 0; attempt < 5; attempt++) {
      await openSignerSession(signing, temporal, { token, pin: wrongPin, actor: { ip: '192.0.2.5' }, now: new Date() }).catch(() => undefined);
    }
    await deliverDueRoundSignals(dataSource, temporal);
    // A script, not a test: it polls the history until the notice activity has completed.
    for (let tries = 0; ; tries++) {
      const events = (await locking.handle.fetchHistory()).events ?? [];
      const notice = events.find((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'notifySignerLocked');
      const noticed = notice && events.some((event) => String(event.activityTaskCompletedEventAttributes?.scheduledEventId) === String(notice.eventId));
      if (noticed) break;
      if (tries > 100) throw new Error('the lock notice was never sent');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await locking.handle.executeUpdate(cancelUpdate, { args: [{ reason: 'fixture' }] });
    await locking.handle.result();
    await saveHistory('signing-round-locked', locking.request.id);

    // A reminder that reaches the round together with its start (update-with-start makes that certain): it
    // finds both signers invited (the patch 'invite-before-update-handlers'), then the sender cancels.
    const early = await recordSigningRequest(signing, {
      scope: organizationScope(organizationId),
      now: new Date(),
      request: createSigningRequestInput.parse({
        title: 'Fixture reminded at start',
        document: { filename: 'fixture.pdf', contentBase64: pdfBase64 },
        signers: [
          { name: 'Sixth Fixture', email: 'sixth@example.test' },
          { name: 'Seventh Fixture', email: 'seventh@example.test' },
        ],
      }),
    });
    const { roundInput } = await roundInputFor(signing, early.requestId, organizationId);
    const remindedAtStart = await client.workflow.executeUpdateWithStart(remindNowUpdate, {
      startWorkflowOperation: new WithStartWorkflowOperation('signingRoundWorkflow', {
        taskQueue: config.temporal.taskQueue,
        workflowId: workflowIdForRequest(early.requestId),
        workflowIdConflictPolicy: 'FAIL',
        args: [roundInput],
      }),
    });
    if (remindedAtStart.reminded !== 2) throw new Error(`the reminder at the start reminded ${remindedAtStart.reminded} signers, not 2`);
    const earlyRound = client.workflow.getHandle(workflowIdForRequest(early.requestId));
    await earlyRound.executeUpdate(cancelUpdate, { args: [{ reason: 'fixture' }] });
    await earlyRound.result();
    await saveHistory('signing-round-reminded-at-start', early.requestId);
  } finally {
    await shutdown.run();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
