/**
 * "Needs attention" on the console's start page: overdue privacy requests (GET /v1/data-subject-requests
 * ?overdue=true), open ones due within 7 days, and how many signing rounds are stuck (/v1/stuck-rounds).
 * Refreshed while the tab is visible. Shows nothing until there is something to show.
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

export function AttentionSection({ ctx }: { ctx: ConsoleContext }) {
  const { t } = ctx;
  const { timeZone } = useOrganizationZone(ctx);
  const [attention, setAttention] = useState<Attention | undefined>();

  const load = async () => {
    const page = (query: string) => ctx.api.get<{ items: ListedDataSubjectRequest[] }>(`/v1/data-subject-requests?${query}`).then((answer) => answer.items, () => []);
    const [overdue, recent, stuck] = await Promise.all([
      page('overdue=true&limit=20'),
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
  const date = (at: string) => formatDate(at, ctx.locale, timeZone);
  const list = (items: ListedDataSubjectRequest[], label: string, id: string) =>
    items.length > 0 && (
      <>
        <h3 id={id}>{label}</h3>
        <ul aria-labelledby={id}>
          {items.map((item) => (
            <li key={item.id}>
              <Link ctx={ctx} href={`/privacy-requests/${item.id}`}>
                {t('privacy:console.dueLine', { type: t(`privacy:type.${item.type}`), at: date(item.deadline) })}
                {item.requesterName ? ` · ${item.requesterName}` : ''}
              </Link>
            </li>
          ))}
        </ul>
      </>
    );
  return (
    <section class="card attention" aria-labelledby="attention-heading">
      <h2 id="attention-heading">{t('privacy:console.attentionHeading')}</h2>
      {list(attention.overdue, t('privacy:console.attentionOverdue'), 'attention-overdue')}
      {list(attention.dueSoon, t('privacy:console.attentionDueSoon'), 'attention-due-soon')}
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
