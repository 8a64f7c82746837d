/**
 * What the request pages read from /v1 (docs/API.md, "Signing requests"), who may do what there, and the
 * organisation's time zone every date is shown in.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Locale } from '../../../../i18n';
import type { ConsoleContext, MemberRole } from '../context';
import type { HistoryStep } from './history-steps';
import type { ListedRequest, RequestStatus, SigningRequestView } from '../../../../contract/signing-requests';

export type { ListedRequest, RequestStatus, SignerStatus } from '../../../../contract/signing-requests';
/** `GET /v1/signing-requests/:id` as these pages read it. */
export type RequestView = SigningRequestView;
export const requestStatuses: RequestStatus[] = ['pending', 'completed', 'declined', 'expired', 'cancelled', 'failed'];

export interface RequestPage {
  items: ListedRequest[];
  nextCursor?: string;
}

export interface AuditEvent {
  sequence: number;
  type: string;
  at: string;
  actor: string;
  signerId?: string;
  channel?: string;
  ip?: string;
  detail?: Record<string, unknown>;
}

export interface AuditTrail {
  events: AuditEvent[];
  chainValid: boolean;
  chainHead?: string;
  firstBrokenEvent?: { sequence: number; type: string; reason: 'hash_mismatch' | 'missing_event' | 'link_mismatch' };
}

export interface RoundHistory {
  live?: { status: RequestStatus; signers: Array<{ id: string; status: string }> };
  steps: HistoryStep[];
}


export interface FolderEntry {
  id: string;
  name: string;
  parentId: string | null;
  isDefault: boolean;
}

/**
 * Sending, reminding, cancelling and PIN resets are for owners, admins and members (a member's folder grants
 * decide the rest, and the API answers 403 where they fall short); viewers and support staff only follow.
 */
export const actsOnRequests = (role: MemberRole) => role === 'owner' || role === 'admin' || role === 'member';

/** Support staff see no documents (the API answers 403); everyone else gets the download links. */
export const readsDocuments = (role: MemberRole) => role !== 'support';

/** The organisation's time zone (GET /v1/organization), UTC until it has answered or if it cannot. */
export function useOrganizationZone(ctx: ConsoleContext): { timeZone: string; defaultLocale?: Locale } {
  const [organization, setOrganization] = useState<{ timeZone: string; defaultLocale?: Locale }>({ timeZone: 'UTC' });
  useEffect(() => {
    ctx.api.get<{ timeZone?: string; defaultLocale?: Locale }>('/v1/organization').then(
      (answer) => setOrganization({ timeZone: answer.timeZone || 'UTC', defaultLocale: answer.defaultLocale }),
      () => undefined,
    );
  }, [ctx.api]);
  return organization;
}

/** Runs `refresh` every `everyMs` while the page is visible (and at once when it becomes visible again). */
export function usePolling(refresh: () => void, everyMs: number, active: boolean): void {
  const latest = useRef(refresh);
  latest.current = refresh;
  useEffect(() => {
    if (!active) return;
    const tick = () => {
      if (document.visibilityState === 'visible') latest.current();
    };
    const timer = setInterval(tick, everyMs);
    document.addEventListener('visibilitychange', tick);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', tick);
    };
  }, [everyMs, active]);
}
