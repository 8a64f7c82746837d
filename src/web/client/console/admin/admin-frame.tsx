/**
 * What every administration page shares (issue 10 §2): the sub-navigation between members, folders, API keys,
 * webhooks, the audit log and settings; the polite "no access" page for people the API refuses; loading what a page
 * shows with the refusal (403) told apart from a failure; a table of what the page lists; a change made from
 * a row, and the in-page confirmation step that stands before anything that cannot be undone. The forms'
 * pieces are in admin-form.tsx.
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../../shared/http';
import { describeError, type ConsoleContext, type MemberRole } from '../context';
import { Link } from '../main';

/** Owners and admins administer the organisation; the API refuses everyone else (403), and so does the console. */
export const administers = (role: MemberRole) => role === 'owner' || role === 'admin';

export type AdminPageName = 'members' | 'folders' | 'apiKeys' | 'webhooks' | 'auditLog' | 'retention' | 'settings';

const adminPages: Array<{ name: AdminPageName; href: string }> = [
  { name: 'members', href: '/admin/members' },
  { name: 'folders', href: '/admin/folders' },
  { name: 'apiKeys', href: '/admin/api-keys' },
  { name: 'webhooks', href: '/admin/webhooks' },
  { name: 'auditLog', href: '/admin/audit-log' },
  { name: 'retention', href: '/admin/retention' },
  { name: 'settings', href: '/admin/settings' },
];

/**
 * The page: its heading (focused when the page changes, so a screen reader hears where it is) and the
 * sub-navigation. `heading` names a page below a section (one webhook endpoint), else the section's name is it.
 */
export function AdminFrame({ ctx, page, heading: title, children }: { ctx: ConsoleContext; page: AdminPageName; heading?: string; children: ComponentChildren }) {
  const { t } = ctx;
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [page]);
  if (!administers(ctx.session.organization.role)) return <NoAccess ctx={ctx} />;
  return (
    <div class="admin">
      <nav class="admin-nav" aria-label={t('console:admin.nav.label')}>
        <ul>
          {adminPages.map((entry) => (
            <li key={entry.name}>
              <Link ctx={ctx} href={entry.href} aria-current={entry.name === page ? 'page' : undefined}>
                {t(`console:admin.nav.${entry.name}`)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <h1 ref={heading} tabIndex={-1}>
        {title ?? t(`console:admin.nav.${page}`)}
      </h1>
      {children}
    </div>
  );
}

/** Said to a member, viewer or support person who opens an administration page (or whose role changed meanwhile). */
export function NoAccess({ ctx }: { ctx: ConsoleContext }) {
  const { t } = ctx;
  return (
    <div class="admin no-access">
      <h1>{t('console:admin.noAccess.heading')}</h1>
      <p>{t('console:admin.noAccess.body', { organization: ctx.session.organization.name })}</p>
      <p>
        <Link ctx={ctx} href="/">
          {t('console:admin.noAccess.back')}
        </Link>
      </p>
    </div>
  );
}

export type Loaded<T> = { kind: 'loading' } | { kind: 'ready'; data: T } | { kind: 'forbidden' } | { kind: 'failed'; message: string };

/** Loads what a page shows; `reload` reads it again after a change (the API is the truth, not a local guess). */
export function useLoaded<T>(ctx: ConsoleContext, load: () => Promise<T>): [Loaded<T>, () => Promise<void>] {
  const [state, setState] = useState<Loaded<T>>({ kind: 'loading' });
  const reload = useCallback(async () => {
    try {
      setState({ kind: 'ready', data: await load() });
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) setState({ kind: 'forbidden' });
      else setState({ kind: 'failed', message: describeError(error, ctx.t) });
    }
  }, [ctx.api, ctx.locale]);
  useEffect(() => {
    if (administers(ctx.session.organization.role)) void reload();
  }, [reload]);
  return [state, reload];
}

/** Everything but the ready state: loading, refused, failed (with a way to try again). */
export function NotReady({ ctx, state, retry }: { ctx: ConsoleContext; state: Exclude<Loaded<unknown>, { kind: 'ready' }>; retry(): void }) {
  const { t } = ctx;
  if (state.kind === 'loading') return <p role="status" class="muted">{t('common:loading')}</p>;
  if (state.kind === 'forbidden') return <NoAccessNotice ctx={ctx} />;
  return (
    <div role="alert">
      <p class="error">{state.message}</p>
      <button type="button" class="secondary" onClick={retry}>
        {t('common:retry')}
      </button>
    </div>
  );
}

function NoAccessNotice({ ctx }: { ctx: ConsoleContext }) {
  return <p class="notice-box">{ctx.t('console:admin.noAccess.body', { organization: ctx.session.organization.name })}</p>;
}

/**
 * The step before a change that cannot be undone: what will happen, and two real buttons. It takes the focus
 * when it appears, so keyboard and screen-reader users land on the question.
 */
export function ConfirmStep({
  question,
  consequence,
  confirmLabel,
  cancelLabel,
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  question: string;
  consequence: string;
  confirmLabel: string;
  cancelLabel: string;
  busy: boolean;
  error?: string;
  onConfirm(): void;
  onCancel(): void;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => box.current?.focus(), []);
  return (
    <div class="confirm-step" role="group" aria-label={question} tabIndex={-1} ref={box}>
      <p class="confirm-question">{question}</p>
      <p>{consequence}</p>
      <FailureAlert failure={error} />
      <div class="actions">
        <button type="button" class="danger" disabled={busy} onClick={onConfirm}>
          {confirmLabel}
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={onCancel}>
          {cancelLabel}
        </button>
      </div>
    </div>
  );
}

/**
 * A button for a change that cannot be undone (remove, revoke): pressed, it gives way to the confirmation step
 * ("Keep" takes it back). The caller holds whether it is open, so that a change can close it before telling
 * the page.
 */
export function AskFirst({
  ctx,
  open,
  action,
  actionLabel,
  question,
  consequence,
  confirmLabel,
  busy,
  error,
  disabled,
  onOpen,
  onConfirm,
  onCancel,
}: {
  ctx: ConsoleContext;
  open: boolean;
  /** The button's text, and its accessible name, which says what it acts on ("Remove Maria"). */
  action: string;
  actionLabel: string;
  question: string;
  consequence: string;
  confirmLabel: string;
  busy: boolean;
  error?: string;
  disabled?: boolean;
  onOpen(): void;
  onConfirm(): void;
  onCancel(): void;
}) {
  if (open) {
    return (
      <ConfirmStep
        question={question}
        consequence={consequence}
        confirmLabel={confirmLabel}
        cancelLabel={ctx.t('console:admin.keep')}
        busy={busy}
        error={error}
        onConfirm={onConfirm}
        onCancel={onCancel}
      />
    );
  }
  return (
    <button type="button" class="secondary" disabled={disabled} onClick={onOpen} aria-label={actionLabel}>
      {action}
    </button>
  );
}

/** A change made from a row (a new role, a removal, a revocation): busy while the API answers, its failure in words. */
export function useRowChange(explain: (failure: unknown) => string) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const change = async (send: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await send();
    } catch (failure) {
      setError(explain(failure));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, change };
}

/** What went wrong, announced at once. */
export function FailureAlert({ failure }: { failure?: string }) {
  return failure ? (
    <p class="error" role="alert">
      {failure}
    </p>
  ) : null;
}

/** A table of what the page lists, one heading a column, named by the heading above it (or a caption). */
export function AdminTable({
  columns,
  caption,
  class: className,
  labelledBy,
  describedBy,
  children,
}: {
  columns: string[];
  caption?: string;
  class?: string;
  labelledBy?: string;
  describedBy?: string;
  children: ComponentChildren;
}) {
  return (
    <table class={className ? `admin-table ${className}` : 'admin-table'} aria-labelledby={labelledBy} aria-describedby={describedBy}>
      {caption && <caption class="visually-hidden">{caption}</caption>}
      <thead>
        <tr>
          {columns.map((column) => (
            <th key={column} scope="col">
              {column}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/** A change's outcome, announced politely: "Invitation sent to …". */
export function Announcement({ message }: { message?: string }) {
  return (
    <p role="status" class={message ? 'notice' : 'visually-hidden'}>
      {message ?? ''}
    </p>
  );
}
