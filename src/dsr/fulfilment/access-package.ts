/**
 * The access package of a data-subject request (GDPR Art. 15): one ZIP with the person's own data from every
 * record discovery found, the sealed PDFs of the documents they signed, their KYC answers, identification
 * evidence and uploads, a manifest of every file's SHA-256 and a README in plain language.
 *
 * Nobody else's personal data: of a signing request only the person's own signer row and audit events go in;
 * other signers are counted, never named; the organisation's events show what happened and when, without who
 * (member ids), IPs or details. Reviewers of a KYC case are not named. The one exception is the sealed PDF,
 * which is the document as signed (its audit page lists every signer): it is included as it is, and the
 * README says so.
 *
 * Stored at orgs/<org>/dsr/<dsrId>/access-package.zip, where the blob store encrypts it under the request's
 * record key; a retried activity builds it again and overwrites it (same key).
 */
import { withKycCustomerContact } from '../../kyc/kyc-customer-contact';
import { withUploadNames } from '../../kyc/kyc-upload-names';
import { createHash } from 'node:crypto';
import { readIdentificationEvidence } from '../../identity/identification-evidence';
import { decryptAnswers } from '../../kyc/get-kyc-case';
import { readKycAuditTrail } from '../../kyc/kyc-audit-trail';
import { readAuditTrail } from '../../signing/audit-trail';
import { openRequestText, openSignerContact } from '../../signing/round-personal-data';
import { zipArchive } from '../../kyc/zip-archive';
import type { SigningContext } from '../../signing/signing-context';
import { discoverSubjectRecordDetails, type DiscoveredRecord } from './discover-subject-records';
import type { DataSubject } from './subject-record';

export interface AccessPackage {
  blobKey: string;
  sha256: string;
  size: number;
  recordCount: number;
}

export const accessPackageBlobKey = (organizationId: string, dsrId: string) => `orgs/${organizationId}/dsr/${dsrId}/access-package.zip`;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
const iso = (value: Date | string | null | undefined) => (value ? new Date(value).toISOString() : null);
const safeName = (name: string) => name.replace(/[^\p{L}\p{N}._-]/gu, '_');
/** Who acted, as far as the person may be told: themselves, Sigill, or the organisation (not which member or key). */
const actorShown = (actor: string, own: string) => (actor === own ? 'you' : actor === 'system' ? 'Sigill' : 'the organisation');

type Entry = { name: string; bytes: Uint8Array };

export async function buildAccessPackage(context: SigningContext, dsrId: string, subject: DataSubject): Promise<AccessPackage> {
  const createdAt = new Date();
  const found = await discoverSubjectRecordDetails(context, subject);
  const files: Entry[] = [];
  const index: Array<Record<string, unknown>> = [];
  for (const item of found) {
    const { record } = item;
    const folder = record.kind === 'signing_request' ? `signing-requests/${record.id}` : record.kind === 'kyc_case' ? `kyc-cases/${record.id}` : undefined;
    index.push({ ...record, ...(folder ? { folder } : {}) });
    if (!folder) continue;
    if (record.kind === 'signing_request') files.push(...(await signingRequestFiles(context, item, folder)));
    if (record.kind === 'kyc_case') files.push(...(await kycCaseFiles(context, item, folder)));
  }
  const auditEntries = found.filter((item) => item.record.kind === 'audit_entry').map((item) => item.record);
  const contents: Entry[] = [
    { name: 'README.txt', bytes: Buffer.from(readme(createdAt, found), 'utf8') },
    { name: 'records.json', bytes: json({ requestId: dsrId, createdAt: createdAt.toISOString(), records: index }) },
    ...(auditEntries.length > 0 ? [{ name: 'organization-audit-log.json', bytes: json(auditEntries) }] : []),
    ...files,
  ];
  contents.push({
    name: 'manifest.json',
    bytes: json({ requestId: dsrId, createdAt: createdAt.toISOString(), files: contents.map((file) => ({ name: file.name, bytes: file.bytes.length, sha256: sha256(file.bytes) })) }),
  });
  const archive = zipArchive(contents, createdAt);
  const blobKey = accessPackageBlobKey(subject.organizationId, dsrId);
  await context.adapters.blobStore.put(blobKey, archive);
  return { blobKey, sha256: sha256(archive), size: archive.length, recordCount: found.length };
}

async function signingRequestFiles(context: SigningContext, item: DiscoveredRecord, folder: string): Promise<Entry[]> {
  const db = context.dataSource;
  const [stored]: Array<{
    title: string | null;
    message: string | null;
    text_sealed: Buffer | null;
    status: string;
    document_filename: string | null;
    document_code: string;
    created_at: Date;
    expires_at: Date;
    completed_at: Date | null;
    sealed_at: Date | null;
    sealed_blob_key: string | null;
    sealed_sha256: string | null;
    signer_count: number;
  }> = await db.query(
    `SELECT r.title, r.message, r.text_sealed, r.status, r.document_filename, r.document_code, r.created_at, r.expires_at, r.completed_at, r.sealed_at,
            r.sealed_blob_key, r.sealed_sha256, (SELECT count(*)::int FROM signers s WHERE s.request_id = r.id) AS signer_count
       FROM signing_requests r WHERE r.id = $1`,
    [item.record.id],
  );
  if (!stored) return [];
  // Title, message, file name and contacts are under the request's key (src/signing/round-personal-data.ts).
  const request = { ...stored, ...(await openRequestText(db, item.record.id, stored)) };
  const storedSigners: Array<{
    id: string;
    name: string | null;
    email: string | null;
    phone: string | null;
    contact_sealed: Buffer | null;
    locale: string;
    status: string;
    position: number;
    invited_at: Date | null;
    opened_at: Date | null;
    signed_at: Date | null;
    declined_at: Date | null;
    reminders_sent: number;
    identification_method: string;
    identification_id: string | null;
  }> = await db.query(`SELECT * FROM signers WHERE id = ANY($1::uuid[]) ORDER BY position`, [item.signerIds]);
  const signers = await Promise.all(storedSigners.map(async (signer) => ({ ...signer, ...(await openSignerContact(db, item.record.id, signer)) })));
  // Read through the trail's reader: IPs, user agents and personal detail are stored under the record key.
  const events = (await readAuditTrail(db, item.record.id)).map((event) => ({
    sequence: event.sequence,
    type: event.type,
    signer_id: event.signerId,
    actor: event.actor,
    channel: event.channel,
    ip: event.ip,
    user_agent: event.userAgent,
    detail: event.detail,
    occurred_at: event.occurredAt,
  }));
  const own = new Set(item.signerIds);
  const you = await Promise.all(
    signers.map(async (signer) => ({
      name: signer.name,
      email: signer.email,
      phone: signer.phone,
      language: signer.locale,
      position: signer.position,
      status: signer.status,
      invitedAt: iso(signer.invited_at),
      openedAt: iso(signer.opened_at),
      signedAt: iso(signer.signed_at),
      declinedAt: iso(signer.declined_at),
      remindersSent: signer.reminders_sent,
      identificationMethod: signer.identification_method,
      identification: signer.identification_id ? ((await readIdentificationEvidence(db, signer.identification_id)) ?? null) : null,
    })),
  );
  const data = {
    signingRequest: {
      id: item.record.id,
      title: request.title,
      message: request.message,
      status: request.status,
      documentFilename: request.document_filename,
      documentCode: request.document_code,
      createdAt: iso(request.created_at),
      expiresAt: iso(request.expires_at),
      endedAt: iso(request.completed_at),
      sealedAt: iso(request.sealed_at),
      sealedSha256: request.sealed_sha256,
    },
    you,
    otherSigners: { count: request.signer_count - signers.length, note: 'Other signers are not named here: their data is theirs.' },
    erasure: item.record.erasure,
    // What the person did on their link, in full. What others did about them (the sender's PIN reset carries
    // that member's IP and browser) as what, how and when; so is an eID identification that did not match them
    // (someone else's eID evidence, IP and browser): its reason only. The request's own events (no signer) as
    // what and when; other signers' events not at all.
    auditTrail: events
      .filter((event) => event.signer_id === null || own.has(event.signer_id))
      .map((event) =>
        event.signer_id === null
          ? { sequence: event.sequence, type: event.type, by: event.actor === 'system' ? 'Sigill' : 'the organisation', occurredAt: iso(event.occurred_at) }
          : event.type === 'identification_mismatch'
          ? { sequence: event.sequence, type: event.type, by: 'someone on your link', channel: event.channel, reason: event.detail?.reason ?? null, occurredAt: iso(event.occurred_at) }
          : event.actor !== 'signer'
          ? { sequence: event.sequence, type: event.type, by: event.actor === 'system' ? 'Sigill' : 'the organisation', channel: event.channel, occurredAt: iso(event.occurred_at) }
          : {
              sequence: event.sequence,
              type: event.type,
              by: 'you',
              channel: event.channel,
              ip: event.ip,
              userAgent: event.user_agent,
              detail: event.detail,
              occurredAt: iso(event.occurred_at),
            },
      ),
  };
  const files: Entry[] = [{ name: `${folder}/your-data.json`, bytes: json(data) }];
  if (request.status === 'completed' && request.sealed_blob_key) {
    const sealed = await context.adapters.blobStore.get(request.sealed_blob_key);
    if (sealed) files.push({ name: `${folder}/signed-${safeName(request.document_filename ?? 'document.pdf')}`, bytes: sealed });
  }
  return files;
}

async function kycCaseFiles(context: SigningContext, item: DiscoveredRecord, folder: string): Promise<Entry[]> {
  const db = context.dataSource;
  const [stored]: Array<{
    id: string;
    status: string;
    customer_type: string;
    customer_sealed: Buffer | null;
    customer_name: string | null;
    customer_email: string | null;
    customer_phone: string | null;
    customer_business_id: string | null;
    customer_locale: string;
    identification: string;
    identification_id: string | null;
    answers: Buffer | null;
    draft: Buffer | null;
    submitted_at: Date | null;
    changes_reason: string | null;
    created_at: Date;
    expires_at: Date;
    ended_at: Date | null;
  }> = await db.query(`SELECT * FROM kyc_cases WHERE id = $1`, [item.record.id]);
  if (!stored) return [];
  const row = await withKycCustomerContact(db, stored);
  const reviews: Array<{ decision: string; reason: string | null; at: Date }> = await db.query(
    `SELECT decision, reason, at FROM kyc_reviews WHERE case_id = $1 ORDER BY position`,
    [row.id],
  );
  const uploads = await withUploadNames(
    db,
    row.id,
    (await db.query(`SELECT * FROM kyc_uploads WHERE case_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`, [row.id])) as Array<{
      id: string;
      question_key: string;
      filename: string | null;
      filename_sealed: Buffer | null;
      media_type: string;
      bytes: number;
      sha256: string;
      blob_key: string;
      created_at: Date;
    }>,
  );
  const trail = await readKycAuditTrail(db, row.id);
  const files: Entry[] = [];
  const uploadFiles: Array<Record<string, unknown>> = [];
  for (const upload of uploads) {
    const name = `${folder}/uploads/${upload.id}-${safeName(upload.filename ?? 'upload')}`;
    const bytes = await context.adapters.blobStore.get(upload.blob_key);
    if (bytes) files.push({ name, bytes });
    uploadFiles.push({
      question: upload.question_key,
      filename: upload.filename,
      mediaType: upload.media_type,
      bytes: upload.bytes,
      sha256: upload.sha256,
      uploadedAt: iso(upload.created_at),
      file: bytes ? name : null,
    });
  }
  const data = {
    kycCase: { id: row.id, status: row.status, createdAt: iso(row.created_at), expiresAt: iso(row.expires_at), endedAt: iso(row.ended_at), submittedAt: iso(row.submitted_at) },
    you: {
      type: row.customer_type,
      name: row.customer_name,
      email: row.customer_email,
      phone: row.customer_phone,
      businessId: row.customer_business_id,
      language: row.customer_locale,
      identificationMethod: row.identification,
      identification: row.identification_id ? ((await readIdentificationEvidence(db, row.identification_id)) ?? null) : null,
    },
    answers: (await decryptAnswers(context, row.id, 'answers', row.answers)) ?? null,
    unsubmittedDraft: row.answers ? null : ((await decryptAnswers(context, row.id, 'draft', row.draft)) ?? null),
    uploads: uploadFiles,
    // Decisions and their reasons (about you); not who reviewed.
    reviews: reviews.map((review) => ({ decision: review.decision, reason: review.reason, at: iso(review.at) })),
    changesRequested: row.changes_reason,
    erasure: item.record.erasure,
    // An eID identification that did not match the customer carries someone else's evidence, IP and browser: its reason only.
    auditTrail: trail.map((event) =>
      event.type === 'identification_mismatch'
        ? { sequence: event.sequence, type: event.type, by: 'someone on your link', reason: event.detail?.reason ?? null, occurredAt: iso(event.occurredAt) }
        : event.actor === 'customer'
        ? { sequence: event.sequence, type: event.type, by: 'you', ip: event.ip, userAgent: event.userAgent, detail: event.detail, occurredAt: iso(event.occurredAt) }
        : { sequence: event.sequence, type: event.type, by: actorShown(event.actor, 'customer'), occurredAt: iso(event.occurredAt) },
    ),
  };
  files.unshift({ name: `${folder}/your-data.json`, bytes: json(data) });
  return files;
}

function readme(createdAt: Date, found: DiscoveredRecord[]): string {
  const count = (kind: string) => found.filter((item) => item.record.kind === kind).length;
  return [
    'Your data: the answer to your access request',
    '============================================',
    '',
    `Made ${createdAt.toISOString()}. It holds what this organisation keeps about you in Sigill, its e-signature service:`,
    `${count('signing_request')} signing request(s) you were asked to sign, ${count('kyc_case')} customer check(s) (KYC)` +
      `${count('audit_entry') ? `, and ${count('audit_entry')} entry(ies) of the organisation's audit log naming them` : ''}.`,
    '',
    'What is in it',
    '- records.json: every record found, how it was matched to you (email, phone or national id), and what an erasure',
    '  request would do with it: erased, or kept with the legal reason and until when.',
    '- signing-requests/<id>/your-data.json: the request, your details as signer, your identification, and the events',
    '  of its audit trail that concern you (times, IP addresses, browsers). Other signers are counted, never named.',
    '- signing-requests/<id>/signed-*.pdf: the document you signed, sealed, exactly as it was signed. Its last pages',
    '  are the audit trail printed at sealing, which lists every signer of the document, as every signer received it.',
    '- kyc-cases/<id>/your-data.json: your answers, identification, uploaded files list, the decisions and the',
    '  case audit trail; kyc-cases/<id>/uploads/: the files you uploaded.',
    '- manifest.json: the SHA-256 checksum of every file, so you can check that nothing was changed.',
    '',
    "Other people's personal data is left out: other signers, and who at the organisation handled your records.",
    'If something is wrong, you may ask the organisation to correct it; you may also ask for erasure, restriction,',
    'or object to the processing. records.json says what the law requires to be kept.',
    '',
  ].join('\n');
}
