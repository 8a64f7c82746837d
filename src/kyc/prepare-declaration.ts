/**
 * Step 3 of a case: the declaration PDF from the submitted answers and the identification, recorded as a
 * signing request whose one signer is the customer, without starting its round: the case's workflow starts
 * it as its child. Keyed by case and attempt (an Idempotency-Key of the signing request), so a retried
 * activity finds the request it recorded and never makes a second one. The round does not email an
 * invitation (`invitations: 'caller'`) or reminders: the case's page hands the customer over, and the case
 * reminds them.
 */
import { everyPermission } from '../accounts/access';
import { Organization } from '../database/entities';
import { readIdentificationEvidence } from '../identity/identification-evidence';
import { translator } from '../i18n';
import { createSigningRequestInput, recordSigningRequest, reservedIdempotencyKeyPrefix, roundInputFor } from '../signing/create-signing-request';
import type { SigningContext } from '../signing/signing-context';
import type { SigningRoundInput } from '../workflows/signing-round';
import { renderDeclaration } from './declaration-pdf';
import { decryptAnswers, readKycCaseRow } from './get-kyc-case';
import { getQuestionnaire } from './questionnaires';
import { uploadsOf } from './customer-case';

export async function prepareDeclaration(
  context: SigningContext,
  input: { caseId: string; attempt: number; expiresAt: string; now: Date },
): Promise<{ requestId: string; roundInput: SigningRoundInput }> {
  const db = context.dataSource;
  const row = await readKycCaseRow(db, input.caseId);
  if (!row) throw new Error(`KYC case ${input.caseId} does not exist`);
  const [existing]: Array<{ request_id: string }> = await db.query(`SELECT request_id FROM kyc_declarations WHERE case_id = $1 AND attempt = $2`, [row.id, input.attempt]);
  // In a namespace the public API refuses (reservedIdempotencyKeyPrefix), so no caller's key can take it.
  const key = `${reservedIdempotencyKeyPrefix}${row.id}:${input.attempt}`;
  let requestId = existing?.request_id;
  if (!requestId) {
    const organization = await db.getRepository(Organization).findOneByOrFail({ id: row.organization_id });
    const questionnaire = await getQuestionnaire(db, row.organization_id, row.questionnaire_id, row.questionnaire_version);
    const answers = (await decryptAnswers(context, row.id, 'answers', row.answers)) ?? {};
    const evidence = row.identification_id ? await readIdentificationEvidence(db, row.identification_id) : undefined;
    const pdf = await renderDeclaration({
      locale: row.customer_locale,
      timeZone: organization.timeZone,
      organizationName: organization.name,
      customer: { type: row.customer_type, name: row.customer_name, email: row.customer_email, businessId: row.customer_business_id },
      identification: { method: row.identification, ...(evidence ? { evidence } : {}) },
      questionnaire: { version: questionnaire.version, definition: questionnaire.definition },
      answers,
      uploads: new Map((await uploadsOf(context, row.id)).map((upload) => [upload.id, upload.filename])),
      submittedAt: row.submitted_at ?? input.now,
      caseId: row.id,
    });
    const request = createSigningRequestInput.parse({
      title: translator(row.customer_locale)('email:kyc.declaration.title'),
      folderId: row.folder_id,
      document: { filename: 'declaration.pdf', contentBase64: Buffer.from(pdf).toString('base64') },
      // On an eID case the customer signs with eID only: no PIN can open the declaration.
      signers: [
        {
          name: row.customer_name,
          email: row.customer_email,
          pinDelivery: 'sender',
          locale: row.customer_locale,
          ...(row.identification === 'eid' ? { identification: { method: 'eid' as const } } : {}),
        },
      ],
      reminders: { firstAfter: 'P1D', every: 'P1D', max: 0 },
      // A submission in the case's last minutes still gets a round that can start (a round needs a deadline
      // at least a minute ahead): two minutes' grace rather than a declaration that can never be made.
      expiresAt: new Date(Math.max(Date.parse(input.expiresAt), input.now.getTime() + 2 * 60_000)).toISOString(),
    });
    const recorded = await recordSigningRequest(context, {
      scope: { organizationId: row.organization_id, permissions: everyPermission },
      request,
      idempotencyKey: key,
      // The PDF may differ between attempts of this activity (fonts, time); the case and attempt name it.
      fingerprint: key,
      now: input.now,
    });
    requestId = recorded.requestId;
    await db.query(`INSERT INTO kyc_declarations (case_id, attempt, request_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [row.id, input.attempt, requestId]);
    // The signer is the customer already identified by the case: the declaration's evidence names how.
    if (row.identification_id) await db.query(`UPDATE signers SET identification_id = $2 WHERE request_id = $1`, [requestId, row.identification_id]);
  }
  const { roundInput } = await roundInputFor(context, requestId, row.organization_id);
  return { requestId, roundInput: { ...roundInput, invitations: 'caller' } };
}
