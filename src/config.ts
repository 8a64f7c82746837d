/**
 * The one typed configuration. Environment variables are parsed here, once, at start; everything else
 * receives a `Config`. Each external part has an embedded default (no variable set) and a production
 * setting, and the choice between them is made here and nowhere else.
 */
import path from 'node:path';
import { z } from 'zod';
import { isoDuration } from './durations';

const booleanFlag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const portMessage = 'must be a port number between 1 and 65535';
const port = z
  .string()
  .regex(/^\d{1,5}$/, portMessage)
  .transform(Number)
  .refine((value) => value >= 1 && value <= 65535, portMessage);
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
const nonEmpty = z.string().trim().min(1, 'must not be empty');
/** A comma-separated list of names (claims, acr values), e.g. `ssn,hetu`. */
const claimList = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim()).filter((item) => item !== ''))
  .refine((items) => items.length > 0, 'must name at least one value, comma-separated')
  .refine((items) => items.every((item) => /^[\x21-\x7e]{1,200}$/.test(item)), 'must be printable names without spaces, comma-separated');

/** A whole number of `what` between `min` and `max`, given as a string of digits. */
function wholeNumber(what: string, min: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, `must be a whole number of ${what}`)
    .transform(Number)
    .refine((value) => value >= min && value <= max, `must be between ${min} and ${max}`);
}

/** Every variable Sigill reads. Keep README's configuration table in step with this list. */
const environmentSchema = z.object({
  DATA_DIR: nonEmpty.default('./data'),
  HOST: nonEmpty.default('127.0.0.1'),
  PORT: port.default(3000),
  PUBLIC_URL: httpUrl.optional(),
  TRUST_PROXY: booleanFlag.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MIGRATE_ON_START: booleanFlag.default(true),
  MAX_DOCUMENT_MB: z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'must be a number of megabytes, e.g. 25')
    .transform(Number)
    .refine((mb) => mb > 0 && mb <= 500, 'must be between 0 and 500 megabytes')
    .default(25),

  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port, e.g. temporal.internal:7233')
    .optional(),
  TEMPORAL_NAMESPACE: nonEmpty.default('default'),
  TEMPORAL_TASK_QUEUE: nonEmpty.default('sigill'),
  TEMPORAL_API_KEY: nonEmpty.optional(),
  TEMPORAL_TLS: booleanFlag.optional(),
  TEMPORAL_TLS_CERT_PATH: nonEmpty.optional(),
  TEMPORAL_TLS_KEY_PATH: nonEmpty.optional(),
  TEMPORAL_TLS_CA_PATH: nonEmpty.optional(),
  TEMPORAL_TLS_SERVER_NAME: nonEmpty.optional(),
  TEMPORAL_CLI_PATH: nonEmpty.optional(),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_DEV_UI_PORT: port.default(8233),

  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
    .optional(),
  EMBEDDED_POSTGRES_PORT: port.default(54329),

  S3_BUCKET: nonEmpty.optional(),
  S3_REGION: nonEmpty.optional(),
  S3_ENDPOINT: httpUrl.optional(),
  S3_FORCE_PATH_STYLE: booleanFlag.optional(),

  // The independent backup provider (src/backup/): a second S3-compatible store with its own credentials.
  BACKUP_S3_BUCKET: nonEmpty.optional(),
  BACKUP_S3_REGION: nonEmpty.optional(),
  BACKUP_S3_ENDPOINT: httpUrl.optional(),
  BACKUP_S3_FORCE_PATH_STYLE: booleanFlag.optional(),
  BACKUP_S3_ACCESS_KEY_ID: nonEmpty.optional(),
  BACKUP_S3_SECRET_ACCESS_KEY: nonEmpty.optional(),
  // A customer-owned bucket that receives every organisation export as well (src/organization-export/export-target.ts).
  EXPORT_S3_BUCKET: nonEmpty.optional(),
  EXPORT_S3_PREFIX: z.string().trim().regex(/^[A-Za-z0-9._\/-]*$/, 'must be a key prefix of letters, digits, . _ - and /').default('sigill-exports'),
  EXPORT_S3_REGION: nonEmpty.optional(),
  EXPORT_S3_ENDPOINT: httpUrl.optional(),
  EXPORT_S3_FORCE_PATH_STYLE: booleanFlag.optional(),
  EXPORT_S3_ACCESS_KEY_ID: nonEmpty.optional(),
  EXPORT_S3_SECRET_ACCESS_KEY: nonEmpty.optional(),

  KMS_KEY_ID: nonEmpty.optional(),
  KMS_REGION: nonEmpty.optional(),
  KMS_ENDPOINT: httpUrl.optional(),
  AWS_REGION: nonEmpty.default('eu-north-1'),

  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  MAIL_FROM: nonEmpty.default('Sigill <no-reply@sigill.localhost>'),

  CODEC_ACCESS_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  CODEC_CORS_ORIGINS: nonEmpty.optional(),

  // Presented as `Authorization: Bearer <token>`: one run of visible ASCII, or no scraper could ever send it.
  METRICS_TOKEN: z
    .string()
    .min(24, 'must be at least 24 characters')
    .regex(/^[\x21-\x7e]+$/, 'must be visible ASCII characters without spaces')
    .optional(),
  METRICS_PORT: port.optional(),
  TEMPORAL_METRICS_PORT: port.optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  OTEL_SERVICE_NAME: nonEmpty.default('sigill'),

  SEAL_P12_PATH: nonEmpty.optional(),
  SEAL_P12_PASSWORD: z.string().optional(),
  SEAL_KMS_KEY_ID: nonEmpty.optional(),
  SEAL_CERTIFICATE_PATH: nonEmpty.optional(),
  TSA_URL: httpUrl.optional(),
  SEAL_LEVEL: z.enum(['B-B', 'B-T', 'B-LT', 'B-LTA']).optional(),
  SEAL_RETIMESTAMP_HORIZON: isoDuration({ minMs: 86_400_000, maxMs: 3 * 365 * 86_400_000 }).default(90 * 86_400_000),

  SMS_PROVIDER_URL: httpUrl.optional(),
  SMS_PROVIDER_TOKEN: nonEmpty.optional(),
  SMS_SENDER: nonEmpty.default('Sigill'),

  STUCK_DEADLINE_GRACE: isoDuration({ minMs: 0, maxMs: 7 * 86_400_000 }).default(3_600_000),
  STUCK_ACTIVITY_ATTEMPTS: z
    .string()
    .regex(/^\d{1,4}$/, 'must be a whole number of attempts, e.g. 5')
    .transform(Number)
    .refine((attempts) => attempts >= 1, 'must be at least 1')
    .default(5),
  STUCK_PROGRESS_AFTER: isoDuration({ minMs: 1000, maxMs: 7 * 86_400_000 }).default(15 * 60_000),

  OIDC_GOOGLE_CLIENT_ID: nonEmpty.optional(),
  OIDC_GOOGLE_CLIENT_SECRET: nonEmpty.optional(),
  OIDC_GOOGLE_ISSUER: httpUrl.default('https://accounts.google.com'),
  OIDC_MICROSOFT_CLIENT_ID: nonEmpty.optional(),
  OIDC_MICROSOFT_CLIENT_SECRET: nonEmpty.optional(),
  OIDC_MICROSOFT_ISSUER: httpUrl.optional(),

  // Anything else ('prod', 'staging', a typo) would silently mean development and its leeway: refused.
  NODE_ENV: z
    .string()
    .transform((value) => value.trim().toLowerCase())
    .pipe(z.enum(['production', 'prod', 'development', 'test'], { error: 'must be production, development or test' }))
    .transform((value) => (value === 'prod' ? 'production' : value))
    .optional(),
  WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: booleanFlag.optional(),
  WEBHOOK_TIMEOUT: isoDuration({ minMs: 1000, maxMs: 60_000 }).default(10_000),
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .transform((text, ctx) => {
      const steps = text.split(',').map((step) => step.trim());
      const parsed = steps.map((step) => isoDuration({ minMs: 1, maxMs: 7 * 86_400_000 }).safeParse(step));
      if (steps.length > 20 || parsed.some((result) => !result.success)) {
        ctx.addIssue({ code: 'custom', message: 'must be up to 20 comma-separated ISO 8601 durations, e.g. PT5S,PT5M,PT30M' });
        return z.NEVER;
      }
      return parsed.map((result) => result.data!);
    })
    .optional(),
  WEBHOOK_DISABLE_AFTER: isoDuration({ minMs: 1000, maxMs: 90 * 86_400_000 }).default(5 * 86_400_000),
  WEBHOOK_CONCURRENCY: z
    .string()
    .regex(/^\d{1,4}$/, 'must be a whole number of concurrent delivery attempts, e.g. 20')
    .transform(Number)
    .refine((slots) => slots >= 1 && slots <= 1000, 'must be between 1 and 1000')
    .default(20),
  WORKER_CACHED_WORKFLOWS: wholeNumber('workflows', 0, 100_000).default(100),
  WORKER_WORKFLOW_TASK_SLOTS: wholeNumber('workflow tasks', 2, 1000).optional(),
  WORKER_ACTIVITY_SLOTS: wholeNumber('activities', 1, 10_000).default(100),

  EID_ISSUER: httpUrl.optional(),
  EID_CLIENT_ID: nonEmpty.optional(),
  EID_CLIENT_SECRET: nonEmpty.optional(),
  EID_PRIVATE_KEY_PATH: nonEmpty.optional(),
  EID_PRIVATE_KEY_ID: nonEmpty.optional(),
  EID_ACR_VALUES: claimList.optional(),
  EID_SCOPE: nonEmpty.default('openid'),
  EID_UI_LOCALES: nonEmpty.optional(),
  EID_CLAIM_NATIONAL_ID: claimList.default(['ssn', 'hetu', 'nin', 'cprNumberIdentifier', 'personal_identity_number']),
  EID_CLAIM_SCHEME: claimList.default(['identityscheme', 'idp']),
  EID_CLAIM_TRANSACTION_ID: claimList.default(['txn', 'transaction_id', 'uuid', 'sid']),
  EID_CLAIM_NAME: claimList.default(['name']),
  EID_CLAIM_GIVEN_NAME: claimList.default(['given_name']),
  EID_CLAIM_FAMILY_NAME: claimList.default(['family_name']),
  EID_CLAIM_BIRTHDATE: claimList.default(['birthdate', 'dateofbirth']),
  EID_CLAIM_COUNTRY: claimList.default(['country']),
});

export type TemporalConfig = {
  namespace: string;
  taskQueue: string;
  /** Where webhook deliveries run, apart from signing rounds: see `webhookTaskQueueOf`. */
  webhookTaskQueue: string;
} & (
  | { mode: 'embedded'; cliPath?: string; port: number; uiPort: number; dbFile: string }
  | {
      mode: 'external';
      address: string;
      apiKey?: string;
      tls?: { certPath?: string; keyPath?: string; caPath?: string; serverName?: string };
    }
);

export type DatabaseConfig = { mode: 'embedded'; dataDir: string; port: number } | { mode: 'external'; url: string };

export type BlobStoreConfig =
  | { kind: 'filesystem'; root: string }
  | { kind: 's3'; bucket: string; region: string; endpoint?: string; forcePathStyle: boolean };

/**
 * The independent backup provider: every stored (encrypted) blob is copied there and deletions follow
 * (src/backup/). Its own credentials, since it is another provider's account; without them the AWS SDK's
 * default chain is used, as for the primary store.
 */
/**
 * Where organisation exports are also written (EXPORT_S3_*): a bucket the customer owns, under
 * `<prefix>/<organisation id>/<export id>/export.zip`, with its own credentials.
 */
export interface ExportTargetConfig {
  bucket: string;
  prefix: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface BlobBackupConfig {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export type KeyServiceConfig =
  | { kind: 'local'; masterKeyPath: string }
  | { kind: 'kms'; keyId: string; region: string; endpoint?: string };

/**
 * The payload codec endpoint (/codec) that lets the Temporal Web UI and support tools read encrypted
 * workflow histories. With a token, callers must present it. Without one it is open only for the local,
 * embedded setup (loopback API, embedded Temporal), and otherwise disabled.
 */
export interface CodecConfig {
  accessToken?: string;
  openWithoutToken: boolean;
  corsOrigins: string[];
}

/**
 * The seal that signs sealed PDFs: a configured PKCS#12 file, an asymmetric AWS KMS key (the private key
 * never leaves KMS; certificate from a file or self-signed through KMS), or a generated local self-signed
 * key. The PAdES level: B-B without a timestamp authority; B-T with one (the default then), B-LT adds
 * the validation data (certificates, OCSP/CRL) of the seal and the TSA, B-LTA a document timestamp over it,
 * renewed by the archive schedule `retimestampHorizonMs` before the last timestamp's certificate expires.
 */
export interface SealConfig {
  key:
    | { kind: 'p12'; path: string; password: string }
    | { kind: 'kms'; keyId: string; region: string; endpoint?: string; certificatePath?: string }
    | { kind: 'self-signed'; dir: string };
  timestampAuthorityUrl?: string;
  level: SealLevel;
  retimestampHorizonMs: number;
}

export type SealLevel = 'B-B' | 'B-T' | 'B-LT' | 'B-LTA';

export type MailConfig = { from: string } & ({ kind: 'outbox'; dir: string } | { kind: 'smtp'; url: string });

export type SmsConfig = { sender: string } & (
  | { kind: 'outbox'; dir: string }
  | { kind: 'http'; url: string; token?: string }
);

/**
 * `/metrics` (Prometheus text). With a token, callers must present it (`Authorization: Bearer`); without
 * one it answers loopback clients only. With a port, it is served on a listener of its own (worker-only
 * processes too) and not on the public one. The Temporal SDK's own metrics are exposed by its runtime on
 * `temporalPort` (loopback; a free port when unset) and appended to every scrape.
 */
export interface MetricsConfig {
  token?: string;
  port?: number;
  temporalPort?: number;
}

/** OpenTelemetry tracing, on when an OTLP/HTTP endpoint is configured (spans go to `<endpoint>/v1/traces`). */
export interface TracingConfig {
  endpoint: string;
  serviceName: string;
}

/**
 * When a round counts as needing a person (`GET /v1/stuck-rounds`, gauge `sigill_stuck_rounds`): still open
 * `deadlineGraceMs` after its deadline (the expiry timer should have fired); a step that failed
 * `activityAttempts` times in a row; a step the round takes by itself (an invitation, a scheduled reminder,
 * the seal after the last signature) overdue by more than `progressAfterMs`.
 */
export interface StuckRoundsConfig {
  deadlineGraceMs: number;
  activityAttempts: number;
  progressAfterMs: number;
}

export const oidcProviderNames = ['google', 'microsoft'] as const;
export type OidcProviderName = (typeof oidcProviderNames)[number];

export interface OidcProviderConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
}

export interface AuthConfig {
  /** Cookies carry `Secure` when the public URL is https (R10: production runs behind TLS). */
  secureCookies: boolean;
  /** Google and Microsoft login, each enabled by its client id. */
  oidc: Partial<Record<OidcProviderName, OidcProviderConfig>>;
}

/**
 * Outbound webhooks (src/webhooks/). `retryScheduleMs` is the wait before each retry (Standard Webhooks':
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h); it travels in each delivery workflow's input, so
 * a running delivery keeps the schedule it started with.
 */
export interface WebhookConfig {
  /** Private, loopback, link-local… destinations allowed (development); refused in production by default. */
  allowPrivateDestinations: boolean;
  /** Endpoint URLs must be https (production). */
  requireHttps: boolean;
  timeoutMs: number;
  retryScheduleMs: number[];
  /** An endpoint failing (no success) for this long is disabled and the organisation's admins told. */
  disableAfterFailingMs: number;
  /** Delivery attempts one worker process runs at once (its webhook worker's activity slots). */
  concurrency: number;
}

/**
 * How much one worker process takes on (docs/PERFORMANCE.md). Open rounds sleep for days: only the most
 * recently active ones are kept in memory, and one evicted is rebuilt from its history (a few ms) when it wakes.
 */
export interface WorkerTuning {
  /** Workflows kept in memory between their tasks (Temporal's sticky cache); 0 turns the cache off. */
  cachedWorkflows: number;
  /** Workflow tasks run at once (at most `cachedWorkflows` when the cache is on). */
  workflowTaskSlots: number;
  /** Activities (steps: emails, seals, audit events) run at once on the signing-round queue. */
  activitySlots: number;
}

/**
 * Webhook delivery workflows and their activities run on a task queue of their own, polled by a worker of
 * its own with bounded slots (src/worker-runtime.ts), so receivers that hold connections open cannot take
 * the slots signing rounds need. Derived from the main queue here and only here: the worker, the
 * dispatcher and redelivery (src/webhooks/dispatcher.ts) all ask this function.
 */
export const webhookTaskQueueOf = (taskQueue: string) => `${taskQueue}-webhooks`;

export const standardWebhookRetryScheduleMs = [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400].map((seconds) => seconds * 1000);

export interface Config {
  /**
   * NODE_ENV=production (or prod, any case): stricter defaults where development needs leeway (e.g. webhook
   * destinations). development, test or unset: development. Any other value stops the start.
   */
  production: boolean;
  dataDir: string;
  http: {
    host: string;
    port: number;
    publicUrl: string;
    /** Believe X-Forwarded-For/-Proto: only behind a proxy that sets them, or clients could forge their IP. */
    trustProxy: boolean;
  };
  logLevel: z.infer<typeof environmentSchema>['LOG_LEVEL'];
  migrateOnStart: boolean;
  /** Largest document accepted for signing, in bytes. */
  maxDocumentBytes: number;
  temporal: TemporalConfig;
  database: DatabaseConfig;
  blobStore: BlobStoreConfig;
  /** Absent: no backup provider (BACKUP_S3_BUCKET unset). */
  blobBackup?: BlobBackupConfig;
  /** Absent: exports stay in Sigill only (EXPORT_S3_BUCKET unset). */
  exportTarget?: ExportTargetConfig;
  keys: KeyServiceConfig;
  seal: SealConfig;
  codec: CodecConfig;
  mail: MailConfig;
  sms: SmsConfig;
  auth: AuthConfig;
  stuckRounds: StuckRoundsConfig;
  metrics: MetricsConfig;
  /** Absent: tracing is off. */
  tracing?: TracingConfig;
  webhooks: WebhookConfig;
  worker: WorkerTuning;
  /** National eID through an OpenID Connect broker (src/identity/); absent: not offered. */
  eid?: EidConfig;
}

/**
 * The eID broker: issuer, client and how it authenticates (a secret, or private_key_jwt with a key file),
 * the `acr_values` offered (empty: whatever the broker offers), and the claim names, each a list tried in order.
 */
export interface EidConfig {
  issuer: string;
  clientId: string;
  clientAuth: { kind: 'secret'; secret: string } | { kind: 'private_key_jwt'; privateKeyPath: string; keyId?: string };
  acrValues: string[];
  scope: string;
  uiLocales?: string;
  claims: {
    nationalId: string[];
    scheme: string[];
    transactionId: string[];
    name: string[];
    givenName: string[];
    familyName: string[];
    birthdate: string[];
    country: string[];
  };
}

/** A configuration error names the variable and what is wrong, never its value (it may be a secret). */
export class ConfigError extends Error {
  constructor(readonly variable: string, readonly problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Empty strings count as unset, so `FOO= npm start` behaves like no FOO at all. */
function withoutEmptyValues(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
  );
}

export function parseConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(withoutEmptyValues(env));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const production = e.NODE_ENV === 'production';

  return {
    production,
    dataDir,
    http: {
      host: e.HOST,
      port: e.PORT,
      publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
      trustProxy: e.TRUST_PROXY,
    },
    logLevel: e.LOG_LEVEL,
    migrateOnStart: e.MIGRATE_ON_START,
    maxDocumentBytes: Math.round(e.MAX_DOCUMENT_MB * 1024 * 1024),
    temporal: temporalConfig(e, dataDir),
    database: e.DATABASE_URL
      ? { mode: 'external', url: e.DATABASE_URL }
      : { mode: 'embedded', dataDir: path.join(dataDir, 'postgres'), port: e.EMBEDDED_POSTGRES_PORT },
    blobStore: e.S3_BUCKET
      ? {
          kind: 's3',
          bucket: e.S3_BUCKET,
          region: e.S3_REGION ?? e.AWS_REGION,
          endpoint: e.S3_ENDPOINT,
          // Custom endpoints (MinIO, moto, Ceph) rarely support virtual-hosted buckets.
          forcePathStyle: e.S3_FORCE_PATH_STYLE ?? e.S3_ENDPOINT !== undefined,
        }
      : { kind: 'filesystem', root: path.join(dataDir, 'blobs') },
    blobBackup: blobBackupConfig(e),
    exportTarget: exportTargetConfig(e),
    keys: e.KMS_KEY_ID
      ? { kind: 'kms', keyId: e.KMS_KEY_ID, region: e.KMS_REGION ?? e.AWS_REGION, endpoint: e.KMS_ENDPOINT }
      : { kind: 'local', masterKeyPath: path.join(dataDir, 'keys', 'master.key') },
    seal: sealConfig(e, dataDir),
    codec: codecConfig(e),
    mail: e.SMTP_URL
      ? { kind: 'smtp', url: e.SMTP_URL, from: e.MAIL_FROM }
      : { kind: 'outbox', dir: path.join(dataDir, 'outbox', 'mail'), from: e.MAIL_FROM },
    sms: e.SMS_PROVIDER_URL
      ? { kind: 'http', url: e.SMS_PROVIDER_URL, token: e.SMS_PROVIDER_TOKEN, sender: e.SMS_SENDER }
      : { kind: 'outbox', dir: path.join(dataDir, 'outbox', 'sms'), sender: e.SMS_SENDER },
    metrics: { token: e.METRICS_TOKEN, port: e.METRICS_PORT, temporalPort: e.TEMPORAL_METRICS_PORT },
    tracing: e.OTEL_EXPORTER_OTLP_ENDPOINT
      ? { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, ''), serviceName: e.OTEL_SERVICE_NAME }
      : undefined,
    stuckRounds: {
      deadlineGraceMs: e.STUCK_DEADLINE_GRACE,
      activityAttempts: e.STUCK_ACTIVITY_ATTEMPTS,
      progressAfterMs: e.STUCK_PROGRESS_AFTER,
    },
    auth: {
      secureCookies: (e.PUBLIC_URL ?? '').startsWith('https:'),
      oidc: {
        google: oidcProvider('OIDC_GOOGLE', e.OIDC_GOOGLE_ISSUER, e.OIDC_GOOGLE_CLIENT_ID, e.OIDC_GOOGLE_CLIENT_SECRET),
        microsoft: oidcProvider('OIDC_MICROSOFT', e.OIDC_MICROSOFT_ISSUER, e.OIDC_MICROSOFT_CLIENT_ID, e.OIDC_MICROSOFT_CLIENT_SECRET),
      },
    },
    webhooks: {
      allowPrivateDestinations: e.WEBHOOK_ALLOW_PRIVATE_DESTINATIONS ?? !production,
      requireHttps: production,
      timeoutMs: e.WEBHOOK_TIMEOUT,
      retryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE ?? standardWebhookRetryScheduleMs,
      disableAfterFailingMs: e.WEBHOOK_DISABLE_AFTER,
      concurrency: e.WEBHOOK_CONCURRENCY,
    },
    worker: workerTuning(e),
    eid: eidConfig(e),
  };
}

/** The backup provider is on when BACKUP_S3_BUCKET is set; its access key id and secret go together. */
function blobBackupConfig(e: z.infer<typeof environmentSchema>): BlobBackupConfig | undefined {
  if (!e.BACKUP_S3_BUCKET) {
    const stray = (['BACKUP_S3_ENDPOINT', 'BACKUP_S3_ACCESS_KEY_ID', 'BACKUP_S3_SECRET_ACCESS_KEY'] as const).find((name) => e[name] !== undefined);
    if (stray) throw new ConfigError('BACKUP_S3_BUCKET', `is required when ${stray} is set (the backup provider's bucket)`);
    return undefined;
  }
  if ((e.BACKUP_S3_ACCESS_KEY_ID === undefined) !== (e.BACKUP_S3_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError('BACKUP_S3_SECRET_ACCESS_KEY', 'and BACKUP_S3_ACCESS_KEY_ID must be set together');
  }
  if (e.S3_BUCKET === e.BACKUP_S3_BUCKET && e.S3_ENDPOINT === e.BACKUP_S3_ENDPOINT) {
    throw new ConfigError('BACKUP_S3_BUCKET', 'must not be the primary store (S3_BUCKET at the same endpoint): a backup there is no backup');
  }
  return {
    bucket: e.BACKUP_S3_BUCKET,
    region: e.BACKUP_S3_REGION ?? e.AWS_REGION,
    endpoint: e.BACKUP_S3_ENDPOINT,
    forcePathStyle: e.BACKUP_S3_FORCE_PATH_STYLE ?? e.BACKUP_S3_ENDPOINT !== undefined,
    credentials:
      e.BACKUP_S3_ACCESS_KEY_ID && e.BACKUP_S3_SECRET_ACCESS_KEY
        ? { accessKeyId: e.BACKUP_S3_ACCESS_KEY_ID, secretAccessKey: e.BACKUP_S3_SECRET_ACCESS_KEY }
        : undefined,
  };
}

/** The export target is on when EXPORT_S3_BUCKET is set; its access key id and secret go together. */
function exportTargetConfig(e: z.infer<typeof environmentSchema>): ExportTargetConfig | undefined {
  if (!e.EXPORT_S3_BUCKET) {
    const stray = (['EXPORT_S3_ENDPOINT', 'EXPORT_S3_ACCESS_KEY_ID', 'EXPORT_S3_SECRET_ACCESS_KEY'] as const).find((name) => e[name] !== undefined);
    if (stray) throw new ConfigError('EXPORT_S3_BUCKET', `is required when ${stray} is set (the bucket exports are written to)`);
    return undefined;
  }
  if ((e.EXPORT_S3_ACCESS_KEY_ID === undefined) !== (e.EXPORT_S3_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError('EXPORT_S3_SECRET_ACCESS_KEY', 'and EXPORT_S3_ACCESS_KEY_ID must be set together');
  }
  return {
    bucket: e.EXPORT_S3_BUCKET,
    prefix: e.EXPORT_S3_PREFIX.replace(/^\/+|\/+$/g, ''),
    region: e.EXPORT_S3_REGION ?? e.AWS_REGION,
    endpoint: e.EXPORT_S3_ENDPOINT,
    forcePathStyle: e.EXPORT_S3_FORCE_PATH_STYLE ?? e.EXPORT_S3_ENDPOINT !== undefined,
    credentials:
      e.EXPORT_S3_ACCESS_KEY_ID && e.EXPORT_S3_SECRET_ACCESS_KEY
        ? { accessKeyId: e.EXPORT_S3_ACCESS_KEY_ID, secretAccessKey: e.EXPORT_S3_SECRET_ACCESS_KEY }
        : undefined,
  };
}

/** eID is on when EID_ISSUER is set; then the client id and one way of client authentication are required. */
function eidConfig(e: z.infer<typeof environmentSchema>): EidConfig | undefined {
  if (!e.EID_ISSUER) {
    const stray = (['EID_CLIENT_ID', 'EID_CLIENT_SECRET', 'EID_PRIVATE_KEY_PATH'] as const).find((name) => e[name] !== undefined);
    if (stray) throw new ConfigError('EID_ISSUER', `is required when ${stray} is set (the eID broker's issuer URL)`);
    return undefined;
  }
  if (!e.EID_CLIENT_ID) throw new ConfigError('EID_CLIENT_ID', 'is required when EID_ISSUER is set');
  if (e.EID_CLIENT_SECRET && e.EID_PRIVATE_KEY_PATH) {
    throw new ConfigError('EID_PRIVATE_KEY_PATH', 'and EID_CLIENT_SECRET cannot both be set: choose one client authentication');
  }
  if (!e.EID_CLIENT_SECRET && !e.EID_PRIVATE_KEY_PATH) {
    throw new ConfigError('EID_CLIENT_SECRET', 'or EID_PRIVATE_KEY_PATH (private_key_jwt) is required when EID_ISSUER is set');
  }
  return {
    issuer: e.EID_ISSUER.replace(/\/+$/, ''),
    clientId: e.EID_CLIENT_ID,
    clientAuth: e.EID_CLIENT_SECRET
      ? { kind: 'secret', secret: e.EID_CLIENT_SECRET }
      : { kind: 'private_key_jwt', privateKeyPath: path.resolve(e.EID_PRIVATE_KEY_PATH!), ...(e.EID_PRIVATE_KEY_ID ? { keyId: e.EID_PRIVATE_KEY_ID } : {}) },
    acrValues: e.EID_ACR_VALUES ?? [],
    scope: e.EID_SCOPE,
    ...(e.EID_UI_LOCALES ? { uiLocales: e.EID_UI_LOCALES } : {}),
    claims: {
      nationalId: e.EID_CLAIM_NATIONAL_ID,
      scheme: e.EID_CLAIM_SCHEME,
      transactionId: e.EID_CLAIM_TRANSACTION_ID,
      name: e.EID_CLAIM_NAME,
      givenName: e.EID_CLAIM_GIVEN_NAME,
      familyName: e.EID_CLAIM_FAMILY_NAME,
      birthdate: e.EID_CLAIM_BIRTHDATE,
      country: e.EID_CLAIM_COUNTRY,
    },
  };
}

/**
 * A provider is on when its client id is set; then its secret (and Microsoft's tenant issuer, e.g.
 * https://login.microsoftonline.com/<tenant-id>/v2.0: the multi-tenant "common" issuer names no single
 * issuer an ID token could be checked against) must be set too.
 */
function oidcProvider(prefix: string, issuer: string | undefined, clientId: string | undefined, clientSecret: string | undefined) {
  if (!clientId) return undefined;
  if (!clientSecret) throw new ConfigError(`${prefix}_CLIENT_SECRET`, `is required when ${prefix}_CLIENT_ID is set`);
  if (!issuer) throw new ConfigError(`${prefix}_ISSUER`, `is required when ${prefix}_CLIENT_ID is set (your tenant's issuer URL)`);
  return { issuer: issuer.replace(/\/+$/, ''), clientId, clientSecret };
}

function sealConfig(e: z.infer<typeof environmentSchema>, dataDir: string): SealConfig {
  if (e.SEAL_P12_PATH && e.SEAL_KMS_KEY_ID) {
    throw new ConfigError('SEAL_KMS_KEY_ID', 'and SEAL_P12_PATH cannot both be set: choose one seal key');
  }
  if (e.SEAL_CERTIFICATE_PATH && !e.SEAL_KMS_KEY_ID) {
    throw new ConfigError('SEAL_CERTIFICATE_PATH', 'is only used with SEAL_KMS_KEY_ID (a P12 file carries its own certificate)');
  }
  const key: SealConfig['key'] = e.SEAL_P12_PATH
    ? { kind: 'p12', path: path.resolve(e.SEAL_P12_PATH), password: e.SEAL_P12_PASSWORD ?? '' }
    : e.SEAL_KMS_KEY_ID
      ? {
          kind: 'kms',
          keyId: e.SEAL_KMS_KEY_ID,
          region: e.KMS_REGION ?? e.AWS_REGION,
          endpoint: e.KMS_ENDPOINT,
          certificatePath: e.SEAL_CERTIFICATE_PATH ? path.resolve(e.SEAL_CERTIFICATE_PATH) : undefined,
        }
      : { kind: 'self-signed', dir: path.join(dataDir, 'keys', 'seal') };
  const level = e.SEAL_LEVEL ?? (e.TSA_URL ? 'B-T' : 'B-B');
  if (level !== 'B-B' && !e.TSA_URL) throw new ConfigError('SEAL_LEVEL', `${level} needs a timestamp authority: set TSA_URL`);
  if (level === 'B-B' && e.TSA_URL) throw new ConfigError('SEAL_LEVEL', 'B-B carries no timestamp: unset TSA_URL or choose B-T, B-LT or B-LTA');
  return { key, timestampAuthorityUrl: e.TSA_URL, level, retimestampHorizonMs: e.SEAL_RETIMESTAMP_HORIZON };
}

function codecConfig(e: z.infer<typeof environmentSchema>): CodecConfig {
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(e.HOST);
  const embeddedUi = [`http://localhost:${e.TEMPORAL_DEV_UI_PORT}`, `http://127.0.0.1:${e.TEMPORAL_DEV_UI_PORT}`];
  return {
    accessToken: e.CODEC_ACCESS_TOKEN,
    openWithoutToken: !e.CODEC_ACCESS_TOKEN && loopback && !e.TEMPORAL_ADDRESS,
    corsOrigins: e.CODEC_CORS_ORIGINS
      ? e.CODEC_CORS_ORIGINS.split(',').map((origin) => origin.trim())
      : e.TEMPORAL_ADDRESS
        ? []
        : embeddedUi,
  };
}

/** The Temporal SDK's own default. */
const defaultWorkflowTaskSlots = 40;

function workerTuning(e: z.infer<typeof environmentSchema>): WorkerTuning {
  if (e.WORKER_CACHED_WORKFLOWS === 1) throw new ConfigError('WORKER_CACHED_WORKFLOWS', 'must be 0 (no cache) or at least 2');
  const cache = e.WORKER_CACHED_WORKFLOWS;
  // A workflow task needs its workflow in the cache: unset, the slots follow a small cache down.
  const workflowTaskSlots = e.WORKER_WORKFLOW_TASK_SLOTS ?? (cache > 0 ? Math.min(defaultWorkflowTaskSlots, cache) : defaultWorkflowTaskSlots);
  if (cache > 0 && workflowTaskSlots > cache) {
    throw new ConfigError('WORKER_WORKFLOW_TASK_SLOTS', `must not exceed WORKER_CACHED_WORKFLOWS (${cache}) while the cache is on`);
  }
  return { cachedWorkflows: cache, workflowTaskSlots, activitySlots: e.WORKER_ACTIVITY_SLOTS };
}

function temporalConfig(e: z.infer<typeof environmentSchema>, dataDir: string): TemporalConfig {
  const common = { namespace: e.TEMPORAL_NAMESPACE, taskQueue: e.TEMPORAL_TASK_QUEUE, webhookTaskQueue: webhookTaskQueueOf(e.TEMPORAL_TASK_QUEUE) };
  if (!e.TEMPORAL_ADDRESS) {
    return {
      ...common,
      mode: 'embedded',
      cliPath: e.TEMPORAL_CLI_PATH,
      port: e.TEMPORAL_DEV_PORT,
      uiPort: e.TEMPORAL_DEV_UI_PORT,
      dbFile: path.join(dataDir, 'temporal', 'temporal.db'),
    };
  }
  if ((e.TEMPORAL_TLS_CERT_PATH === undefined) !== (e.TEMPORAL_TLS_KEY_PATH === undefined)) {
    throw new ConfigError('TEMPORAL_TLS_KEY_PATH', 'and TEMPORAL_TLS_CERT_PATH must be set together (mTLS)');
  }
  // An API key (Temporal Cloud) or a client certificate implies TLS unless explicitly turned off.
  const tlsWanted = e.TEMPORAL_TLS ?? (e.TEMPORAL_API_KEY !== undefined || e.TEMPORAL_TLS_CERT_PATH !== undefined);
  return {
    ...common,
    mode: 'external',
    address: e.TEMPORAL_ADDRESS,
    apiKey: e.TEMPORAL_API_KEY,
    tls: tlsWanted
      ? {
          certPath: e.TEMPORAL_TLS_CERT_PATH,
          keyPath: e.TEMPORAL_TLS_KEY_PATH,
          caPath: e.TEMPORAL_TLS_CA_PATH,
          serverName: e.TEMPORAL_TLS_SERVER_NAME,
        }
      : undefined,
  };
}

/** For entry points: parse or exit non-zero with one line naming the variable. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
