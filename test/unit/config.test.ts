import path from 'node:path';
import { ConfigError, parseConfig, webhookTaskQueueOf } from '../../src/config';

describe('parseConfig', () => {
  test('no variables: every part is embedded, under ./data', () => {
    const config = parseConfig({});
    const dataDir = path.resolve('data');
    expect(config.dataDir).toBe(dataDir);
    expect(config.http).toEqual({ host: '127.0.0.1', port: 3000, publicUrl: 'http://localhost:3000', trustProxy: false });
    expect(config.temporal).toMatchObject({ mode: 'embedded', port: 7233, uiPort: 8233, namespace: 'default', taskQueue: 'sigill' });
    expect(config.database).toEqual({ mode: 'embedded', dataDir: path.join(dataDir, 'postgres'), port: 54329 });
    expect(config.blobStore).toEqual({ kind: 'filesystem', root: path.join(dataDir, 'blobs') });
    expect(config.keys).toEqual({ kind: 'local', masterKeyPath: path.join(dataDir, 'keys', 'master.key') });
    expect(config.mail).toMatchObject({ kind: 'outbox', dir: path.join(dataDir, 'outbox', 'mail') });
    expect(config.sms).toMatchObject({ kind: 'outbox', dir: path.join(dataDir, 'outbox', 'sms') });
  });

  test('production settings select the production implementations', () => {
    const config = parseConfig({
      TEMPORAL_ADDRESS: 'sigill.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'sigill.a1b2c',
      TEMPORAL_API_KEY: 'key',
      DATABASE_URL: 'postgres://sigill@db.internal:5432/sigill',
      S3_BUCKET: 'sigill-documents',
      S3_REGION: 'eu-north-1',
      KMS_KEY_ID: 'alias/sigill',
      SMTP_URL: 'smtps://user:pass@smtp.example.com:465',
      SMS_PROVIDER_URL: 'https://sms.example.com/send',
      PUBLIC_URL: 'https://sign.example.com/',
    });
    expect(config.temporal).toMatchObject({ mode: 'external', address: 'sigill.a1b2c.tmprl.cloud:7233', apiKey: 'key', tls: {} });
    expect(config.database).toEqual({ mode: 'external', url: 'postgres://sigill@db.internal:5432/sigill' });
    expect(config.blobStore).toEqual({ kind: 's3', bucket: 'sigill-documents', region: 'eu-north-1', forcePathStyle: false });
    expect(config.keys).toMatchObject({ kind: 'kms', keyId: 'alias/sigill', region: 'eu-north-1' });
    expect(config.mail.kind).toBe('smtp');
    expect(config.sms.kind).toBe('http');
    expect(config.http.publicUrl).toBe('https://sign.example.com');
  });

  test('a custom S3 endpoint implies path-style addressing; TLS is off for a plain self-hosted Temporal', () => {
    const config = parseConfig({ S3_BUCKET: 'b', S3_ENDPOINT: 'http://127.0.0.1:9000', TEMPORAL_ADDRESS: 'temporal:7233' });
    expect(config.blobStore).toMatchObject({ forcePathStyle: true, endpoint: 'http://127.0.0.1:9000' });
    expect(config.temporal).toMatchObject({ mode: 'external', tls: undefined });
  });

  test('document limit and seal: defaults, and a configured P12', () => {
    const defaults = parseConfig({});
    expect(defaults.maxDocumentBytes).toBe(25 * 1024 * 1024);
    expect(defaults.seal).toEqual({
      key: { kind: 'self-signed', dir: path.join(path.resolve('data'), 'keys', 'seal') },
      level: 'B-B',
      retimestampHorizonMs: 90 * 86_400_000,
    });
    const configured = parseConfig({ MAX_DOCUMENT_MB: '5', SEAL_P12_PATH: 'seal.p12', SEAL_P12_PASSWORD: 'pw' });
    expect(configured.maxDocumentBytes).toBe(5 * 1024 * 1024);
    expect(configured.seal).toEqual({ key: { kind: 'p12', path: path.resolve('seal.p12'), password: 'pw' }, level: 'B-B', retimestampHorizonMs: 90 * 86_400_000 });
    expect(() => parseConfig({ MAX_DOCUMENT_MB: 'lots' })).toThrow(/MAX_DOCUMENT_MB/);
  });

  test('a KMS seal key uses the KMS region and endpoint; a TSA URL makes seals B-T', () => {
    const config = parseConfig({
      SEAL_KMS_KEY_ID: 'alias/sigill-seal',
      SEAL_CERTIFICATE_PATH: 'seal-chain.pem',
      KMS_REGION: 'eu-west-1',
      KMS_ENDPOINT: 'http://127.0.0.1:5000',
      TSA_URL: 'https://tsa.example.test/rfc3161',
    });
    expect(config.seal).toEqual({
      key: { kind: 'kms', keyId: 'alias/sigill-seal', region: 'eu-west-1', endpoint: 'http://127.0.0.1:5000', certificatePath: path.resolve('seal-chain.pem') },
      timestampAuthorityUrl: 'https://tsa.example.test/rfc3161',
      level: 'B-T',
      retimestampHorizonMs: 90 * 86_400_000,
    });
    expect(() => parseConfig({ SEAL_KMS_KEY_ID: 'k', SEAL_P12_PATH: 'seal.p12' })).toThrow(/SEAL_KMS_KEY_ID and SEAL_P12_PATH cannot both be set/);
    expect(() => parseConfig({ SEAL_CERTIFICATE_PATH: 'c.pem' })).toThrow(/SEAL_CERTIFICATE_PATH is only used with SEAL_KMS_KEY_ID/);
    expect(() => parseConfig({ TSA_URL: 'tsa.example.test' })).toThrow(/TSA_URL must be an http/);
  });

  test('the PAdES level: B-LT and B-LTA need a timestamp authority; the renewal horizon is a duration', () => {
    const tsa = { TSA_URL: 'https://tsa.example.test/rfc3161' };
    expect(parseConfig({ ...tsa, SEAL_LEVEL: 'B-LTA', SEAL_RETIMESTAMP_HORIZON: 'P30D' }).seal).toMatchObject({ level: 'B-LTA', retimestampHorizonMs: 30 * 86_400_000 });
    expect(() => parseConfig({ SEAL_LEVEL: 'B-LT' })).toThrow(/SEAL_LEVEL B-LT needs a timestamp authority: set TSA_URL/);
    expect(() => parseConfig({ ...tsa, SEAL_LEVEL: 'B-B' })).toThrow(/SEAL_LEVEL B-B carries no timestamp/);
    expect(() => parseConfig({ ...tsa, SEAL_LEVEL: 'B-LTX' })).toThrow(/SEAL_LEVEL/);
    expect(() => parseConfig({ ...tsa, SEAL_RETIMESTAMP_HORIZON: 'PT1H' })).toThrow(/SEAL_RETIMESTAMP_HORIZON/);
  });

  test('sign-in: cookies are Secure behind an https PUBLIC_URL; each OpenID provider is on with its client id', () => {
    const defaults = parseConfig({});
    expect(defaults.auth).toEqual({ secureCookies: false, oidc: { google: undefined, microsoft: undefined } });
    const configured = parseConfig({
      PUBLIC_URL: 'https://sign.example.com',
      OIDC_GOOGLE_CLIENT_ID: 'g-id',
      OIDC_GOOGLE_CLIENT_SECRET: 'g-secret',
      OIDC_MICROSOFT_CLIENT_ID: 'm-id',
      OIDC_MICROSOFT_CLIENT_SECRET: 'm-secret',
      OIDC_MICROSOFT_ISSUER: 'https://login.microsoftonline.com/tenant/v2.0/',
    });
    expect(configured.auth).toEqual({
      secureCookies: true,
      oidc: {
        google: { issuer: 'https://accounts.google.com', clientId: 'g-id', clientSecret: 'g-secret' },
        microsoft: { issuer: 'https://login.microsoftonline.com/tenant/v2.0', clientId: 'm-id', clientSecret: 'm-secret' },
      },
    });
    expect(() => parseConfig({ OIDC_GOOGLE_CLIENT_ID: 'g-id' })).toThrow(/OIDC_GOOGLE_CLIENT_SECRET is required/);
    expect(() => parseConfig({ OIDC_MICROSOFT_CLIENT_ID: 'm-id', OIDC_MICROSOFT_CLIENT_SECRET: 's' })).toThrow(/OIDC_MICROSOFT_ISSUER is required/);
  });

  test('an empty variable counts as unset', () => {
    expect(parseConfig({ DATABASE_URL: '', PORT: '' }).database.mode).toBe('embedded');
  });

  test.each([
    ['DATABASE_URL', 'not-a-url', /DATABASE_URL must be a postgres/],
    ['DATABASE_URL', 'mysql://db/x', /DATABASE_URL must be a postgres/],
    ['PORT', 'abc', /PORT must be a port number/],
    ['PORT', '70000', /PORT must be a port number/],
    ['TEMPORAL_ADDRESS', 'localhost', /TEMPORAL_ADDRESS must be host:port/],
    ['PUBLIC_URL', 'ftp://x', /PUBLIC_URL must be an http/],
    ['SMTP_URL', 'http://mail', /SMTP_URL must be an smtp/],
    ['MIGRATE_ON_START', 'maybe', /MIGRATE_ON_START/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL/],
  ])('%s=%s is refused with a message naming the variable', (variable, value, message) => {
    let thrown: unknown;
    try {
      parseConfig({ [variable]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message.split('\n')).toHaveLength(1);
  });

  test('the value of a bad variable is never echoed (it may be a secret)', () => {
    expect(() => parseConfig({ DATABASE_URL: 'hunter2-password' })).toThrow(/^((?!hunter2).)*$/);
  });

  test('stuck rounds: a grace after the deadline, an attempts threshold and an overdue allowance, with defaults', () => {
    expect(parseConfig({}).stuckRounds).toEqual({ deadlineGraceMs: 3_600_000, activityAttempts: 5, progressAfterMs: 15 * 60_000 });
    expect(parseConfig({ STUCK_DEADLINE_GRACE: 'PT0S', STUCK_ACTIVITY_ATTEMPTS: '12', STUCK_PROGRESS_AFTER: 'PT2M' }).stuckRounds).toEqual({
      deadlineGraceMs: 0,
      activityAttempts: 12,
      progressAfterMs: 120_000,
    });
    expect(() => parseConfig({ STUCK_ACTIVITY_ATTEMPTS: '0' })).toThrow(/STUCK_ACTIVITY_ATTEMPTS must be at least 1/);
    expect(() => parseConfig({ STUCK_ACTIVITY_ATTEMPTS: 'five' })).toThrow(/STUCK_ACTIVITY_ATTEMPTS must be a whole number/);
    expect(() => parseConfig({ STUCK_PROGRESS_AFTER: 'PT0S' })).toThrow(/STUCK_PROGRESS_AFTER must be between 1 s and 7 days/);
    expect(() => parseConfig({ STUCK_DEADLINE_GRACE: 'P1M' })).toThrow(/STUCK_DEADLINE_GRACE/);
  });

  test('metrics and tracing: off and open to loopback by default; a token, ports, an OTLP endpoint when set', () => {
    expect(parseConfig({})).toMatchObject({ metrics: { token: undefined, port: undefined, temporalPort: undefined }, tracing: undefined });
    const config = parseConfig({
      METRICS_TOKEN: 'a-metrics-token-of-24-chars',
      METRICS_PORT: '9464',
      TEMPORAL_METRICS_PORT: '9465',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318/',
    });
    expect(config.metrics).toEqual({ token: 'a-metrics-token-of-24-chars', port: 9464, temporalPort: 9465 });
    expect(config.tracing).toEqual({ endpoint: 'http://otel-collector:4318', serviceName: 'sigill' });
    expect(parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com', OTEL_SERVICE_NAME: 'sigill-eu' }).tracing?.serviceName).toBe('sigill-eu');
    expect(() => parseConfig({ METRICS_TOKEN: 'short' })).toThrow(new ConfigError('METRICS_TOKEN', 'must be at least 24 characters'));
    // A Bearer token is one run of visible ASCII: with a space, or a character HTTP headers cannot carry
    // as written, no scraper could ever present it and every scrape would get 401.
    for (const token of ['a metrics passphrase with spaces', 'metrics-token-0123456789-ä', ' metrics-token-0123456789abcdef']) {
      expect(() => parseConfig({ METRICS_TOKEN: token })).toThrow(new ConfigError('METRICS_TOKEN', 'must be visible ASCII characters without spaces'));
    }
    expect(() => parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' })).toThrow(ConfigError);
  });

  test('NODE_ENV: production (or prod, any case) is production; development, test or unset is development; anything else is refused', () => {
    for (const value of ['production', 'Production', 'PRODUCTION', 'prod', ' prod ']) expect(parseConfig({ NODE_ENV: value }).production).toBe(true);
    for (const value of [undefined, '', 'development', 'Development', 'test']) expect(parseConfig({ NODE_ENV: value }).production).toBe(false);
    for (const value of ['staging', 'produciton', 'live']) {
      expect(() => parseConfig({ NODE_ENV: value })).toThrow(new ConfigError('NODE_ENV', 'must be production, development or test'));
    }
  });

  test('webhook deliveries get a task queue of their own, derived from the main one, and bounded slots', () => {
    expect(parseConfig({}).temporal).toMatchObject({ taskQueue: 'sigill', webhookTaskQueue: 'sigill-webhooks' });
    expect(parseConfig({ TEMPORAL_TASK_QUEUE: 'sigill-eu' }).temporal.webhookTaskQueue).toBe(webhookTaskQueueOf('sigill-eu'));
    expect(parseConfig({}).webhooks.concurrency).toBe(20);
    expect(parseConfig({ WEBHOOK_CONCURRENCY: '5' }).webhooks.concurrency).toBe(5);
    expect(() => parseConfig({ WEBHOOK_CONCURRENCY: '0' })).toThrow(/WEBHOOK_CONCURRENCY must be between 1 and 1000/);
    expect(() => parseConfig({ WEBHOOK_CONCURRENCY: 'many' })).toThrow(/WEBHOOK_CONCURRENCY must be a whole number/);
  });

  test('worker tuning: a bounded workflow cache by default; task slots within the cache', () => {
    expect(parseConfig({}).worker).toEqual({ cachedWorkflows: 100, workflowTaskSlots: 40, activitySlots: 100 });
    expect(parseConfig({ WORKER_CACHED_WORKFLOWS: '0', WORKER_WORKFLOW_TASK_SLOTS: '80' }).worker).toMatchObject({ cachedWorkflows: 0, workflowTaskSlots: 80 });
    expect(() => parseConfig({ WORKER_CACHED_WORKFLOWS: '1' })).toThrow(/WORKER_CACHED_WORKFLOWS must be 0 \(no cache\) or at least 2/);
    // Slots left unset follow a small cache down; set above it, they are refused.
    expect(parseConfig({ WORKER_CACHED_WORKFLOWS: '20' }).worker.workflowTaskSlots).toBe(20);
    expect(() => parseConfig({ WORKER_CACHED_WORKFLOWS: '20', WORKER_WORKFLOW_TASK_SLOTS: '30' })).toThrow(
      /WORKER_WORKFLOW_TASK_SLOTS must not exceed WORKER_CACHED_WORKFLOWS \(20\)/,
    );
    expect(() => parseConfig({ WORKER_CACHED_WORKFLOWS: '1234567' })).toThrow(/WORKER_CACHED_WORKFLOWS must be between 0 and 100000/);
    expect(() => parseConfig({ WORKER_ACTIVITY_SLOTS: '0' })).toThrow(/WORKER_ACTIVITY_SLOTS must be between 1 and 10000/);
    expect(() => parseConfig({ WORKER_ACTIVITY_SLOTS: 'lots' })).toThrow(/WORKER_ACTIVITY_SLOTS must be a whole number/);
  });

  test('mTLS needs both certificate and key', () => {
    expect(() => parseConfig({ TEMPORAL_ADDRESS: 't:7233', TEMPORAL_TLS_CERT_PATH: '/c.pem' })).toThrow(/TEMPORAL_TLS_KEY_PATH/);
  });
});

describe('eID broker configuration', () => {
  test('off without EID_ISSUER; on with a client and one way to authenticate, claim names as lists', () => {
    expect(parseConfig({}).eid).toBeUndefined();
    const eid = parseConfig({
      EID_ISSUER: 'https://sigill.criipto.id/',
      EID_CLIENT_ID: 'urn:sigill',
      EID_CLIENT_SECRET: 's3cret',
      EID_ACR_VALUES: 'urn:grn:authn:se:bankid, urn:grn:authn:fi:all',
      EID_CLAIM_NATIONAL_ID: 'hetu,ssn',
    }).eid!;
    expect(eid).toMatchObject({
      issuer: 'https://sigill.criipto.id',
      clientAuth: { kind: 'secret', secret: 's3cret' },
      acrValues: ['urn:grn:authn:se:bankid', 'urn:grn:authn:fi:all'],
      scope: 'openid',
    });
    expect(eid.claims.nationalId).toEqual(['hetu', 'ssn']);
    expect(eid.claims.scheme).toEqual(['identityscheme', 'idp']);
    const keyed = parseConfig({ EID_ISSUER: 'https://broker.example', EID_CLIENT_ID: 'c', EID_PRIVATE_KEY_PATH: 'eid.pem', EID_PRIVATE_KEY_ID: 'k1' }).eid!;
    expect(keyed.clientAuth).toMatchObject({ kind: 'private_key_jwt', keyId: 'k1' });
  });

  test('a half configuration names the variable and never its value', () => {
    expect(() => parseConfig({ EID_CLIENT_ID: 'c', EID_CLIENT_SECRET: 'hidden-value' })).toThrow(/EID_ISSUER/);
    expect(() => parseConfig({ EID_ISSUER: 'https://broker.example', EID_CLIENT_SECRET: 'hidden-value' })).toThrow(/EID_CLIENT_ID/);
    expect(() => parseConfig({ EID_ISSUER: 'https://broker.example', EID_CLIENT_ID: 'c' })).toThrow(/EID_CLIENT_SECRET or EID_PRIVATE_KEY_PATH/);
    expect(() => parseConfig({ EID_ISSUER: 'https://broker.example', EID_CLIENT_ID: 'c', EID_CLIENT_SECRET: 'hidden-value', EID_PRIVATE_KEY_PATH: 'k.pem' })).toThrow(
      /EID_PRIVATE_KEY_PATH/,
    );
    expect(() => parseConfig({ EID_ISSUER: 'https://broker.example', EID_CLIENT_ID: 'c', EID_CLIENT_SECRET: 'x', EID_ACR_VALUES: ' , ' })).toThrow(/EID_ACR_VALUES/);
    try {
      parseConfig({ EID_CLIENT_ID: 'c', EID_CLIENT_SECRET: 'hidden-value' });
    } catch (error) {
      expect((error as Error).message).not.toContain('hidden-value');
    }
  });
});
