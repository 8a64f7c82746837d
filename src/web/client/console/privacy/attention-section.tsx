/**
 * "Needs attention" on the console's start page: overdue privacy requests (GET /v1/data-subject-requests
 * ?overdue=true), open ones due within 7 days, and how many signing rounds are stuck (/v1/stuck-rounds).
 * Refreshed while the tab is visible. Shows nothing until there is something to show. The overdue part is
 * also on the Needs-attention page (`/stuck`, OverduePrivacyRequests), from the same query and list.
 */
import { useEffect, useState } from 'preact/hooks';
import { formatDate } from '../../../../i18n';
import type { ListedDataSubjectRequest } from '../../../../contract/data-subject-requests';
import type { ConsoleContext } from '../context';
import { Link } from '../main';
import { useOrganizationZone, usePolling } from '../requests/request-model';
import { isOpen } from './dsr-parts';

const refreshEveryMs = 10_000;
const soonMs = 7 * 24 * 3600_000;

interface Attention {
  overdue: ListedDataSubjectRequest[];
  dueSoon: ListedDataSubjectRequest[];
  stuck: number;
}

/** Privacy requests of one query; none where the member may not read them (not asked when folder-scoped, which answers 403). */
const privacyRequests = async (ctx: ConsoleContext, query: string): Promise<ListedDataSubjectRequest[]> =>
  ctx.session.folderScoped
    ? []
    : ctx.api.get<{ items: ListedDataSubjectRequest[] }>(`/v1/data-subject-requests?${query}`).then((answer) => answer.items, () => []);

/** The overdue ones: the workflow's mark, so this list, the metric and the deadline timer agree. */
const overduePrivacyRequests = (ctx: ConsoleContext) => privacyRequests(ctx, 'overdue=true&limit=20');

export function AttentionSection({ ctx }: { ctx: ConsoleContext }) {
  const { t } = ctx;
  const { timeZone } = useOrganizationZone(ctx);
  const [attention, setAttention] = useState<Attention | undefined>();

  const load = async () => {
    const page = (query: string) => privacyRequests(ctx, query);
    const [overdue, recent, stuck] = await Promise.all([
      overduePrivacyRequests(ctx),
      page('status=in_progress&limit=100'),
      ctx.api.get<{ items: unknown[] }>('/v1/stuck-rounds').then((answer) => answer.items.length, () => 0),
    ]);
    const awaiting = await page('status=awaiting_identity&limit=100');
    const now = Date.now();
    const dueSoon = [...recent, ...awaiting]
      .filter((item) => isOpen(item.status) && !item.overdue && new Date(item.deadline).getTime() - now <= soonMs)
      .sort((a, b) => a.deadline.localeCompare(b.deadline));
    setAttention({ overdue, dueSoon, stuck });
  };
  useEffect(() => void load(), [ctx.api]);
  usePolling(() => void load(), refreshEveryMs, attention !== undefined);

  if (!attention || (attention.overdue.length === 0 && attention.dueSoon.length === 0 && attention.stuck === 0)) return null;
  return (
    <section class="card attention" aria-labelledby="attention-heading">
      <h2 id="attention-heading">{t('privacy:console.attentionHeading')}</h2>
      <DueList ctx={ctx} items={attention.overdue} timeZone={timeZone} label={t('privacy:console.attentionOverdue')} id="attention-overdue" />
      <DueList ctx={ctx} items={attention.dueSoon} timeZone={timeZone} label={t('privacy:console.attentionDueSoon')} id="attention-due-soon" />
      {attention.stuck > 0 && (
        <p>
          <Link ctx={ctx} href="/stuck">
            {t('privacy:console.attentionStuck', { count: attention.stuck })}
          </Link>
        </p>
      )}
    </section>
  );
}

/** Overdue privacy requests for the Needs-attention page (`/stuck`), refreshed like it; `undefined` until answered. */
export function useOverduePrivacyRequests(ctx: ConsoleContext, everyMs: number): ListedDataSubjectRequest[] | undefined {
  const [overdue, setOverdue] = useState<ListedDataSubjectRequest[] | undefined>();
  const load = () => void overduePrivacyRequests(ctx).then(setOverdue);
  useEffect(load, [ctx.api]);
  usePolling(load, everyMs, true);
  return overdue;
}

/** The Needs-attention page's card of overdue privacy requests; nothing when there are none. */
export function OverduePrivacyRequests({ ctx, items, timeZone }: { ctx: ConsoleContext; items: ListedDataSubjectRequest[]; timeZone: string }) {
  if (items.length === 0) return null;
  return (
    <section class="card attention">
      <DueList ctx={ctx} items={items} timeZone={timeZone} label={ctx.t('privacy:console.attentionOverdue')} id="stuck-overdue-privacy" heading="h2" />
    </section>
  );
}

/** Privacy requests as links to their pages: type, deadline and, where the member may read it, the requester. */
function DueList(props: { ctx: ConsoleContext; items: ListedDataSubjectRequest[]; timeZone: string; label: string; id: string; heading?: 'h2' | 'h3' }) {
  const { ctx, items, id } = props;
  const { t } = ctx;
  if (items.length === 0) return null;
  const Heading = props.heading ?? 'h3';
  return (
    <>
      <Heading id={id}>{props.label}</Heading>
      <ul aria-labelledby={id}>
        {items.map((item) => (
          <li key={item.id}>
            <Link ctx={ctx} href={`/privacy-requests/${item.id}`}>
              {t('privacy:console.dueLine', { type: t(`privacy:type.${item.type}`), at: formatDate(item.deadline, ctx.locale, props.timeZone) })}
              {item.requesterName ? ` · ${item.requesterName}` : ''}
            </Link>
          </li>
        ))}
      </ul>
    </>
  );
}
