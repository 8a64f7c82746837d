/**
 * What a signer's page knows and records besides the actions in signer-access.ts: the state of a link
 * before any PIN (an ended or unknown link says so and nothing else), the facts of the request once the
 * PIN was accepted, and the truthful reading events — `link_opened`, `viewed` (the first page was displayed
 * to the signer, reported by the page after rendering it, not when the PDF was fetched) and
 * `last_page_reached`.
 */
import type { DataSource } from 'typeorm';
import { Organization, Signer, SigningRequest } from '../database/entities';
import type { SignerRoundView } from '../contract/signing-requests';
import type { ActorContext } from '../workflows/signing-round';
import { defaultLocale, isLocale, type Locale } from '../i18n/locales';
import { AppError } from '../errors';
import { recordAuditEvent } from './audit-trail';
import type { SigningContext } from './signing-context';
import { SignerCredentials } from './signer-credentials';
import type { IdentificationMethod } from '../contract/identification';
import { readIdentificationEvidence } from '../identity/identification-evidence';

export type LinkState =
  | { state: 'unknown' }
  | { state: 'ended'; locale: Locale }
  | { state: 'locked'; locale: Locale }
  | { state: 'open'; locale: Locale; identification: IdentificationMethod };

/** The signer's language: their own (set per signer, defaulting to the organisation's when the request was made). */
export function localeOfSigner(signer: Signer, organization?: Organization | null): Locale {
  if (isLocale(signer.locale)) return signer.locale;
  return isLocale(organization?.defaultLocale) ? organization.defaultLocale : defaultLocale;
}

/** The signer a personal link token names, if the token is valid for their current link version. */
export async function signerOfToken(context: SigningContext, token: string): Promise<Signer | undefined> {
  const signerId = SignerCredentials.signerIdOfToken(token);
  const signer = signerId ? await context.dataSource.getRepository(Signer).findOneBy({ id: signerId }) : null;
  if (!signer || !context.credentials.linkTokenMatches(token, { signerId: signer.id, linkVersion: signer.linkVersion })) return undefined;
  return signer;
}

/** A link's state as the page shows it before asking for a PIN. Completed rounds stay open: the signer may download the sealed PDF. */
export async function describeSignerLink(context: SigningContext, token: string): Promise<LinkState> {
  const signer = await signerOfToken(context, token);
  if (!signer) return { state: 'unknown' };
  const request = await context.dataSource.getRepository(SigningRequest).findOneByOrFail({ id: signer.requestId });
  const organization = await context.dataSource.getRepository(Organization).findOneBy({ id: request.organizationId });
  const locale = localeOfSigner(signer, organization);
  // A deleted (shredded) request reads as ended: nothing of it can be opened any more.
  if (request.deletedAt || (request.status !== 'pending' && request.status !== 'completed')) return { state: 'ended', locale };
  if (signer.lockedAt) return { state: 'locked', locale };
  return { state: 'open', locale, identification: signer.identificationMethod };
}

/**
 * `link_opened` when the page loads for a link that can still be used. Repeated openings within the same
 * hour are one event (a reload is not news); the PIN acceptance after it is recorded every time.
 */
export async function recordLinkOpened(context: SigningContext, token: string, actor: ActorContext, now: Date): Promise<LinkState> {
  const link = await describeSignerLink(context, token);
  if (link.state !== 'open') return link;
  const signer = (await signerOfToken(context, token))!;
  await recordAuditEvent(context.dataSource, {
    requestId: signer.requestId,
    eventKey: `link_opened:${signer.id}:${now.toISOString().slice(0, 13)}`,
    type: 'link_opened',
    signerId: signer.id,
    actor: 'signer',
    channel: 'link',
    ip: actor.ip,
    userAgent: actor.userAgent,
    occurredAt: now,
  });
  return link;
}

export type { SignerRoundView };

/** The request as the signer may see it, once their PIN was accepted. */
export async function describeRoundForSigner(context: SigningContext, session: { signer: Signer; request: SigningRequest }): Promise<SignerRoundView> {
  const { dataSource } = context;
  const request = await dataSource.getRepository(SigningRequest).findOneByOrFail({ id: session.request.id });
  const organization = await dataSource.getRepository(Organization).findOneByOrFail({ id: request.organizationId });
  const signers = await dataSource.getRepository(Signer).find({ where: { requestId: request.id }, order: { position: 'ASC' } });
  const you = signers.find((signer) => signer.id === session.signer.id)!;
  const reading = await readingEventsOf(dataSource, request.id, you.id);
  return {
    title: request.title,
    message: request.message,
    organization: { name: organization.name, timeZone: organization.timeZone },
    sender: await senderNameOf(dataSource, request.createdByUserId),
    status: request.status,
    expiresAt: request.expiresAt.toISOString(),
    document: { filename: request.documentFilename, pageCount: request.pageCount, sealed: request.status === 'completed' && request.sealedBlobKey !== null },
    locale: localeOfSigner(you, organization),
    you: {
      id: you.id,
      name: you.name,
      status: you.status,
      displayedAt: reading.viewed,
      lastPageReachedAt: reading.last_page_reached,
      signedAt: you.signedAt?.toISOString(),
      identification: {
        method: you.identificationMethod,
        ...(you.identificationId ? { evidence: await readIdentificationEvidence(dataSource, you.identificationId) } : {}),
      },
    },
    signers: signers.map((signer) => ({ name: signer.name, status: signer.status, you: signer.id === you.id })),
    declinedBy: request.status === 'declined' ? signers.find((signer) => signer.status === 'declined')?.name : undefined,
  };
}

/** The person who sent the request, by the name they gave (null for requests sent by a back-office system's key). */
async function senderNameOf(dataSource: DataSource, userId: string | null): Promise<string | null> {
  if (!userId) return null;
  const rows: Array<{ name: string | null; email: string }> = await dataSource.query(`SELECT name, email FROM users WHERE id = $1`, [userId]);
  return rows[0] ? (rows[0].name ?? rows[0].email) : null;
}

async function readingEventsOf(dataSource: DataSource, requestId: string, signerId: string): Promise<Partial<Record<'viewed' | 'last_page_reached', string>>> {
  const rows: Array<{ type: 'viewed' | 'last_page_reached'; occurred_at: Date }> = await dataSource.query(
    // By key: `viewed` events from before display was reported (recorded when the PDF was fetched) do not count.
    `SELECT type, occurred_at FROM audit_events
      WHERE request_id = $1 AND event_key IN ('viewed:' || $2, 'last_page_reached:' || $2)`,
    [requestId, signerId],
  );
  return Object.fromEntries(rows.map((row) => [row.type, new Date(row.occurred_at).toISOString()]));
}

export type ReadingEvent = 'document_displayed' | 'last_page_reached' | 'document_downloaded';

const auditTypeOf = { document_displayed: 'viewed', last_page_reached: 'last_page_reached', document_downloaded: 'downloaded' } as const;

/**
 * Records what the page reports it showed the signer. One `viewed`, one `last_page_reached` and one
 * `downloaded` (the page's fallback when this device cannot display the document) per signer (keyed, so a
 * replayed or repeated report changes nothing), and only while the signer can still act: after they signed
 * or the round ended, reading again is not evidence about the signature.
 */
export async function recordReadingEvent(
  context: SigningContext,
  session: { signer: Signer; request: SigningRequest },
  input: { event: ReadingEvent; page: number; pageCount: number; actor: ActorContext; now: Date },
): Promise<{ recorded: boolean }> {
  const request = await context.dataSource.getRepository(SigningRequest).findOneByOrFail({ id: session.request.id });
  const signer = await context.dataSource.getRepository(Signer).findOneByOrFail({ id: session.signer.id });
  if (request.status !== 'pending' || (signer.status !== 'invited' && signer.status !== 'opened')) return { recorded: false };
  const type = auditTypeOf[input.event];
  // The page's numbers go into the evidence: they must describe this document.
  if (input.pageCount !== request.pageCount || input.page > request.pageCount) {
    throw new AppError('unprocessable', `body.pageCount: this document has ${request.pageCount} page(s); the page reported ${input.pageCount}.`);
  }
  if (type === 'last_page_reached' && input.page !== request.pageCount) {
    throw new AppError('unprocessable', `body.page: the last page of this document is page ${request.pageCount}.`);
  }
  await recordAuditEvent(context.dataSource, {
    requestId: request.id,
    eventKey: `${type}:${signer.id}`,
    type,
    signerId: signer.id,
    actor: 'signer',
    channel: 'link',
    ip: input.actor.ip,
    userAgent: input.actor.userAgent,
    detail: type === 'downloaded' ? { reason: 'not_displayable', pageCount: input.pageCount } : { page: input.page, pageCount: input.pageCount },
    occurredAt: input.now,
  });
  return { recorded: true };
}
