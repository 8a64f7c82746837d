/**
 * The shapes of what /v1 answers about signing requests, written once for the server that builds them
 * and the pages that read them (src/web/client). Types only, with no imports beyond the language list:
 * the browser code type-checks this file too, so nothing of the server (entities, Node) may come in.
 */
import type { Locale } from '../i18n/locales';
import type { IdentificationEvidenceView, IdentificationMethod, SignerIdentificationView } from './identification';

export type RequestStatus = 'pending' | 'completed' | 'declined' | 'expired' | 'cancelled' | 'failed';
/** A signer's progress as the round keeps it. */
export type RoundSignerStatus = 'waiting' | 'invited' | 'opened' | 'signed' | 'declined';
/** As the API shows it: `locked` while the link is locked after wrong PINs. */
export type SignerStatus = RoundSignerStatus | 'locked';

/** `GET /v1/signing-requests/:id`. */
export interface SigningRequestView {
  id: string;
  title: string;
  status: RequestStatus;
  routing: 'parallel' | 'sequential';
  documentCode: string;
  createdAt: string;
  expiresAt: string;
  remindersSent: number;
  nextReminderAt?: string;
  sealedAt?: string;
  sha256?: string;
  /** Set when the request was deleted (shredded): this is its tombstone; title, names and emails read empty. */
  deletedAt?: string;
  /** The deletion's receipt, rule and reason (GET /v1/deletion-receipts/:id has the whole receipt). */
  deletion?: { receiptId: string; rule: string; reason: string };
  /** Set while a legal hold keeps it from deletion: its own, or (with `folderId`) its folder's or one above. */
  legalHold?: { placedAt: string; reason: string; placedBy: string; folderId?: string };
  signers: Array<{
    id: string;
    name: string;
    email: string;
    locale: Locale;
    status: SignerStatus;
    invitedAt?: string;
    openedAt?: string;
    signedAt?: string;
    declinedAt?: string;
    identification: SignerIdentificationView;
  }>;
}

/** One item of `GET /v1/signing-requests`. */
export interface ListedRequest {
  id: string;
  title: string;
  status: RequestStatus;
  documentCode: string;
  folderId: string;
  createdAt: string;
  expiresAt: string;
  /** Set when the request was deleted (shredded): title, names and emails read empty. */
  deletedAt?: string;
  signers: Array<{ name: string; email: string; status: SignerStatus }>;
}

/** `GET /v1/signer/round`: the request as its signer may see it. */
export interface SignerRoundView {
  title: string;
  message: string | null;
  organization: { name: string; timeZone: string };
  /** The member who sent it; null when a back-office system did, with its API key. */
  sender: string | null;
  status: RequestStatus;
  expiresAt: string;
  document: { filename: string; pageCount: number; sealed: boolean };
  locale: Locale;
  you: {
    id: string;
    name: string;
    status: RoundSignerStatus;
    displayedAt?: string;
    lastPageReachedAt?: string;
    signedAt?: string;
    /** How this signer identifies and, once identified with eID, the evidence. */
    identification: { method: IdentificationMethod; evidence?: IdentificationEvidenceView };
  };
  /** Everyone in the round, in order: the signers see each other's names on the sealed audit page anyway. */
  signers: Array<{ name: string; status: RoundSignerStatus; you: boolean }>;
  /** Who declined, when the round was declined. */
  declinedBy?: string;
}

/** One step of `GET /v1/signing-requests/:id/history`: the round's Temporal history, without payloads. */
export interface TimelineStep {
  eventId: number;
  at: string;
  event: string;
  /** The step in English words, for back-office clients and logs; pages build their own from the fields below. */
  summary: string;
  attempt?: number;
  failure?: string;
  /** Activity steps (scheduled, started, completed, failed, timed out): the activity's name, e.g. `sendInvitation`. */
  activity?: string;
  /** The signer an activity, Update or Signal was for, when its input names one. */
  signerId?: string;
  /** `recordAuditEvent` steps: the type of the audit event recorded (`signed`, `viewed`, …). */
  auditEvent?: string;
  /** Timer steps: how long the round waits and when the timer fires (the next reminder or the deadline). */
  timer?: { seconds: number; firesAt: string };
  /** Update steps: the Update's name (`sign`, `decline`, `cancel`, `remindNow`, `resendPin`). */
  update?: string;
  /** Signal steps: the Signal's name (`signerOpened`, `signerLocked`). */
  signal?: string;
  /** The round's end (`WorkflowExecutionCompleted`): its final status. */
  outcome?: string;
}
