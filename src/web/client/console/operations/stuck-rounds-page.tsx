/**
 * Rounds that need a person (issue 12 §3) at `/stuck`, for every member who may see requests, support staff
 * included: each round's title (linking to its page), status, and why it is listed, in words and since when
 * (past its deadline, sealing keeps failing, a step keeps failing, no progress), the failing step by its
 * history name and the last failure explained where its kind is one we know (stuck-reason-words.ts).
 * Refreshed every few seconds while the tab is visible, like the request list, so a round leaves the list
 * once it moves again. Overdue privacy requests are listed above the rounds (the start page's query and list).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDateTime, type Translate } from '../../../../i18n';
import type { StuckReasonView, StuckRoundsPage as StuckRoundsAnswer, StuckRoundView } from '../../../../contract/stuck-rounds';
import { describeError, type ConsoleContext } from '../context';
import { Link } from '../main';
import { requestStatuses, useOrganizationZone, usePolling, type RequestStatus } from '../requests/request-model';
import { ErrorBanner, StatusBadge } from '../requests/request-parts';
import { OverduePrivacyRequests, useOverduePrivacyRequests } from '../privacy/attention-section';
import { describeStuckReason } from './stuck-reason-words';

const refreshEveryMs = 4000;

/** A reason in words: what is wrong, since when, for failing steps how often, and the last failure explained (its raw kind beside it). */
export function StuckReason({ reason, t, when }: { reason: StuckReasonView; t: Translate; when: (at: string) => string }) {
  const words = describeStuckReason(reason, t, when);
  if (!words.errorKind) return <>{words.text}</>;
  if (!words.explanation) return <>{`${words.text} ${t('console:stuck.lastError', { error: words.errorKind })}`}</>;
  return (
    <>
      {`${words.text} ${t('console:stuck.lastErrorExplained', { explanation: words.explanation })} `}
      <span class="error-kind">{t('console:stuck.errorKind', { kind: words.errorKind })}</span>
    </>
  );
}

export function StuckRoundsPage({ ctx }: { ctx: ConsoleContext }) {
  const { t } = ctx;
  const { timeZone } = useOrganizationZone(ctx);
  const [rounds, setRounds] = useState<StuckRoundView[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const overduePrivacy = useOverduePrivacyRequests(ctx, refreshEveryMs);
  const heading = useRef<HTMLHeadingElement>(null);

  const load = () =>
    ctx.api.get<StuckRoundsAnswer>('/v1/stuck-rounds').then(
      (answer) => {
        setRounds(answer.items);
        setError(undefined);
      },
      (failure) => setError(describeError(failure, t)),
    );
  useEffect(() => heading.current?.focus(), []);
  useEffect(() => void load(), [ctx.api]);
  usePolling(() => void load(), refreshEveryMs, rounds !== undefined || error !== undefined);

  return (
    <section class="stuck-rounds" aria-labelledby="stuck-heading">
      <h1 id="stuck-heading" ref={heading} tabIndex={-1}>
        {t('console:stuck.heading')}
      </h1>
      <p class="hint">{t('console:stuck.intro', { timeZone })}</p>
      <OverduePrivacyRequests ctx={ctx} items={overduePrivacy ?? []} timeZone={timeZone} />
      <ErrorBanner message={error} />
      {rounds === undefined && !error && (
        <p role="status" class="muted">
          {t('common:loading')}
        </p>
      )}
      {rounds?.length === 0 && overduePrivacy?.length === 0 && <p class="empty">{t('console:stuck.none')}</p>}
      {rounds && rounds.length > 0 && (
        <>
          <p role="status">{t('console:stuck.count', { count: rounds.length })}</p>
          <ul class="request-list" aria-label={t('console:stuck.listLabel')}>
            {rounds.map((round) => (
              <li class="request-item card" key={round.requestId}>
                <div class="request-item-head">
                  <h2>
                    <Link ctx={ctx} href={`/requests/${round.requestId}`}>
                      {round.title}
                    </Link>
                  </h2>
                  {requestStatuses.includes(round.status as RequestStatus) ? (
                    <StatusBadge status={round.status as RequestStatus} t={t} />
                  ) : (
                    <span class="badge">{round.status}</span>
                  )}
                </div>
                <p class="muted request-meta">
                  {t('console:stuck.created', { at: formatDateTime(round.createdAt, ctx.locale, timeZone) })}
                  {round.expiresAt ? ` · ${t('console:stuck.deadline', { at: formatDateTime(round.expiresAt, ctx.locale, timeZone) })}` : ''}
                  {round.lastEventAt ? ` · ${t('console:stuck.lastEvent', { at: formatDateTime(round.lastEventAt, ctx.locale, timeZone) })}` : ''}
                </p>
                <ul class="stuck-reasons">
                  {round.reasons.map((reason) => (
                    <li key={`${reason.code}-${reason.activity ?? ''}`}>
                      <StuckReason reason={reason} t={t} when={(at) => formatDateTime(at, ctx.locale, timeZone)} />
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
