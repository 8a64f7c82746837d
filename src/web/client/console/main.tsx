/**
 * The operations console (issue 10 §2), at `/` for signed-in members: who is signed in comes from
 * /v1/auth/session, pages come from routes.tsx, navigation is client-side (history API) with real links.
 */
import { render, type ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { localeNames, locales, translator, type Locale } from '../../../i18n';
import { readBootstrap } from '../shared/bootstrap';
import { callApi, ApiError } from '../shared/http';
import { ConsoleApi, signIn, type ConsoleContext, type ConsoleSession } from './context';
import { matchRoute } from './routes';

const { locale: startLocale } = readBootstrap<{ locale: Locale }>();

function currentLocation() {
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** A link that navigates inside the console without reloading (and stays a real link for new tabs). */
export function Link({ href, children, ctx, ...rest }: { href: string; children: ComponentChildren; ctx: ConsoleContext; class?: string; 'aria-current'?: 'page' }) {
  return (
    <a
      href={href}
      {...rest}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        ctx.navigate(href);
      }}
    >
      {children}
    </a>
  );
}

function Console() {
  const [session, setSession] = useState<ConsoleSession | undefined>();
  const [failed, setFailed] = useState(false);
  const [where, setWhere] = useState(currentLocation);
  const [locale, setLocale] = useState<Locale>(startLocale);
  const t = useMemo(() => translator(locale), [locale]);

  useEffect(() => {
    callApi<ConsoleSession>('/v1/auth/session')
      .then(setSession)
      .catch((error) => (error instanceof ApiError && error.status === 401 ? signIn() : setFailed(true)));
    const onPop = () => setWhere(currentLocation());
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  const api = useMemo(() => new ConsoleApi(() => session?.csrfToken ?? ''), [session]);
  if (failed) return <main class="page"><p role="alert" class="error">{t('common:genericError')}</p></main>;
  if (!session) return <main class="page"><p role="status" class="muted">{t('common:loading')}</p></main>;

  const ctx: ConsoleContext = {
    session,
    locale,
    t,
    api,
    location: where,
    navigate(path, options) {
      if (options?.replace) history.replaceState(null, '', path);
      else history.pushState(null, '', path);
      setWhere(currentLocation());
      scrollTo(0, 0);
    },
  };
  const matched = matchRoute(where.path);
  return (
    <>
      <header class="console-header">
        <nav aria-label={t('console:nav.label')}>
          <Link ctx={ctx} href="/" class="brand-link">Sigill</Link>
          <Link ctx={ctx} href="/" aria-current={matched?.route.section === 'requests' ? 'page' : undefined}>
            {t('console:nav.requests')}
          </Link>
          <Link ctx={ctx} href="/kyc" aria-current={matched?.route.section === 'kyc' ? 'page' : undefined}>
            {t('kyc:nav')}
          </Link>
          <Link ctx={ctx} href="/privacy-requests" aria-current={matched?.route.section === 'privacy' ? 'page' : undefined}>
            {t('privacy:console.nav')}
          </Link>
          <Link ctx={ctx} href="/stuck" aria-current={matched?.route.section === 'stuck' ? 'page' : undefined}>
            {t('console:nav.stuck')}
          </Link>
          {(session.organization.role === 'owner' || session.organization.role === 'admin') && (
            <Link ctx={ctx} href="/admin/members" aria-current={matched?.route.section === 'admin' ? 'page' : undefined}>
              {t('console:admin.navEntry')}
            </Link>
          )}
        </nav>
        <div class="header-tools">
          <label class="inline">
            <span>{t('common:language')}</span>
            <select
              value={locale}
              onChange={(event) => {
                const chosen = (event.target as HTMLSelectElement).value as Locale;
                document.cookie = `sigill_locale=${chosen}; path=/; max-age=31536000; samesite=lax`;
                setLocale(chosen);
              }}
            >
              {locales.map((code) => (
                <option value={code} key={code}>
                  {localeNames[code]}
                </option>
              ))}
            </select>
          </label>
          <span class="who">{session.user.name ?? session.user.email} · {session.organization.name}</span>
        </div>
      </header>
      <main class="page console-page" id="main">
        {matched ? matched.route.render(ctx, matched.params) : <h1>{t('console:notFound')}</h1>}
      </main>
    </>
  );
}

render(<Console />, document.getElementById('app')!);
