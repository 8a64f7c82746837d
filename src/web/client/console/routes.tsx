/**
 * The console's pages by path. Each page is a component of its own file that receives the ConsoleContext
 * and the path's parameters; add a line here to add a page. The server serves the same HTML for every one
 * of these paths (src/api/console-page.ts), so a reload or a shared link lands on the right page.
 */
import type { ComponentChildren } from 'preact';
import type { ConsoleContext } from './context';
import { NewRequestPage } from './requests/new-request-page';
import { RequestPage } from './requests/request-page';
import { RequestsPage } from './requests/requests-page';
import { ApiKeysPage } from './admin/api-keys-page';
import { AuditLogPage } from './admin/audit-log-page';
import { FoldersPage } from './admin/folders-page';
import { MembersPage } from './admin/members-page';
import { SettingsPage } from './admin/settings-page';
import { RetentionPage } from './admin/retention-page';
import { WebhookEndpointPage } from './admin/webhook-endpoint-page';
import { WebhooksPage } from './admin/webhooks-page';
import { StuckRoundsPage } from './operations/stuck-rounds-page';
import { KycCasePage } from './kyc/kyc-case-page';
import { KycListPage } from './kyc/kyc-list-page';
import { NewKycCasePage } from './kyc/new-kyc-case-page';
import { AttentionSection } from './privacy/attention-section';
import { DsrListPage } from './privacy/dsr-list-page';
import { DsrPage } from './privacy/dsr-page';

export interface ConsoleRoute {
  /** `/requests/:id`: segments starting with `:` are parameters. */
  pattern: string;
  /** Which navigation entry is current on this page. */
  section: 'requests' | 'kyc' | 'privacy' | 'stuck' | 'admin';
  render(ctx: ConsoleContext, params: Record<string, string>): ComponentChildren;
}

export const consoleRoutes: ConsoleRoute[] = [
  { pattern: '/', section: 'requests', render: (ctx) => <RequestsPage ctx={ctx} top={<AttentionSection ctx={ctx} />} /> },
  { pattern: '/requests', section: 'requests', render: (ctx) => <RequestsPage ctx={ctx} /> },
  { pattern: '/requests/new', section: 'requests', render: (ctx) => <NewRequestPage ctx={ctx} /> },
  { pattern: '/requests/:id', section: 'requests', render: (ctx, params) => <RequestPage ctx={ctx} id={params.id!} key={params.id} /> },
  { pattern: '/kyc', section: 'kyc', render: (ctx) => <KycListPage ctx={ctx} /> },
  { pattern: '/kyc/new', section: 'kyc', render: (ctx) => <NewKycCasePage ctx={ctx} /> },
  { pattern: '/kyc/:id', section: 'kyc', render: (ctx, params) => <KycCasePage ctx={ctx} id={params.id!} key={params.id} /> },
  { pattern: '/privacy-requests', section: 'privacy', render: (ctx) => <DsrListPage ctx={ctx} /> },
  { pattern: '/privacy-requests/:id', section: 'privacy', render: (ctx, params) => <DsrPage ctx={ctx} id={params.id!} key={params.id} /> },
  { pattern: '/stuck', section: 'stuck', render: (ctx) => <StuckRoundsPage ctx={ctx} /> },
  { pattern: '/admin', section: 'admin', render: (ctx) => <MembersPage ctx={ctx} /> },
  { pattern: '/admin/members', section: 'admin', render: (ctx) => <MembersPage ctx={ctx} /> },
  { pattern: '/admin/folders', section: 'admin', render: (ctx) => <FoldersPage ctx={ctx} /> },
  { pattern: '/admin/api-keys', section: 'admin', render: (ctx) => <ApiKeysPage ctx={ctx} /> },
  { pattern: '/admin/webhooks', section: 'admin', render: (ctx) => <WebhooksPage ctx={ctx} /> },
  { pattern: '/admin/webhooks/:id', section: 'admin', render: (ctx, params) => <WebhookEndpointPage ctx={ctx} id={params.id!} key={params.id} /> },
  { pattern: '/admin/audit-log', section: 'admin', render: (ctx) => <AuditLogPage ctx={ctx} /> },
  { pattern: '/admin/retention', section: 'admin', render: (ctx) => <RetentionPage ctx={ctx} /> },
  { pattern: '/admin/settings', section: 'admin', render: (ctx) => <SettingsPage ctx={ctx} /> },
];

/** What each parameter must look like; an address that does not fit is "not found", never an API call. */
const parameterShapes: Record<string, RegExp> = {
  id: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
};

/** The route for a path and its parameters, or undefined (the page then says "not found"). */
export function matchRoute(path: string): { route: ConsoleRoute; params: Record<string, string> } | undefined {
  const segments = path.replace(/\/+$/, '').split('/').filter(Boolean);
  for (const route of consoleRoutes) {
    const parts = route.pattern.split('/').filter(Boolean);
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = parts.every((part, index) => {
      if (part.startsWith(':')) {
        const value = decodedSegment(segments[index]!);
        const shape = parameterShapes[part.slice(1)];
        if (value === undefined || (shape && !shape.test(value))) return false;
        params[part.slice(1)] = value;
        return true;
      }
      return part === segments[index];
    });
    if (matches) return { route, params };
  }
  return undefined;
}

/** A path segment decoded, or undefined for a malformed escape (`%E0`), which decodeURIComponent throws on. */
function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
