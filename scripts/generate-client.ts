/**
 * `npm run client:generate [-- <API URL>]`: writes packages/client/src/schema.ts from the live OpenAPI
 * document. With a URL, the document of that running API is used. Without one, the API itself is started
 * here, as `npm start` assembles it (embedded PostgreSQL and Temporal, in a throwaway DATA_DIR on free ports,
 * so it never disturbs a Sigill already running), asked for /openapi.json, and stopped: the document is
 * built by the routes themselves, so there is no second description of them to drift.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../src/config';
import { ShutdownSequence } from '../src/lifecycle';
import { createLogger } from '../src/logger';
import { startService } from '../src/service';
import { freePort } from '../test/support/free-port';
import { clientSchemaFile, renderClientSchema } from './client-schema';

async function fetchDocument(apiUrl: string): Promise<unknown> {
  const url = apiUrl.endsWith('/openapi.json') ? apiUrl : `${apiUrl.replace(/\/+$/, '')}/openapi.json`;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.json();
}

async function documentOfAFreshApi(): Promise<unknown> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigill-client-generate-'));
  const [port, temporalPort, temporalUiPort, postgresPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const config = parseConfig({
    ...process.env,
    DATA_DIR: dataDir,
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    TEMPORAL_DEV_PORT: String(temporalPort),
    TEMPORAL_DEV_UI_PORT: String(temporalUiPort),
    EMBEDDED_POSTGRES_PORT: String(postgresPort),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const log = createLogger(config.logLevel);
  const shutdown = new ShutdownSequence(log);
  try {
    const service = await startService(config, log, { api: true, worker: false }, shutdown);
    return await fetchDocument(service.apiUrl!);
  } finally {
    await shutdown.run();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const apiUrl = process.argv[2];
  process.stderr.write(apiUrl ? `Reading the OpenAPI document of ${apiUrl}\n` : 'Starting the API on embedded parts to read its OpenAPI document...\n');
  const document = await (apiUrl ? fetchDocument(apiUrl) : documentOfAFreshApi());
  const schema = await renderClientSchema(document);
  const changed = !fs.existsSync(clientSchemaFile) || fs.readFileSync(clientSchemaFile, 'utf8') !== schema;
  fs.writeFileSync(clientSchemaFile, schema);
  const paths = Object.keys((document as { paths: object }).paths);
  process.stdout.write(`${path.relative(process.cwd(), clientSchemaFile)}: ${paths.length} paths, ${changed ? 'updated' : 'unchanged'}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`client:generate failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
