/**
 * Administration commands for scripts and operators: `npm run sigill -- org create --name N --owner-email E`
 * prints `{ "orgId", "apiKey" }` as JSON on stdout (logs go to stderr, so the output pipes cleanly).
 */
import { parseArgs } from 'node:util';
import { createOrganization } from './accounts/create-organization';
import { loadConfigOrExit } from './config';
import { createDataSource, runMigrations } from './database/data-source';
import { AppError } from './errors';
import { startInfrastructure } from './infrastructure';
import { ShutdownSequence } from './lifecycle';
import { createLogger } from './logger';
import pino from 'pino';

const usage = 'Usage: npm run sigill -- org create --name NAME --owner-email EMAIL';

async function main(argv: string[]): Promise<number> {
  const [noun, verb, ...rest] = argv;
  if (noun !== 'org' || verb !== 'create') {
    process.stderr.write(`${usage}\n`);
    return 64;
  }
  let options: { name?: string; 'owner-email'?: string };
  try {
    options = parseArgs({ args: rest, options: { name: { type: 'string' }, 'owner-email': { type: 'string' } } }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage}\n`);
    return 64;
  }
  if (!options.name || !options['owner-email']) {
    process.stderr.write(`${usage}\n`);
    return 64;
  }

  const config = loadConfigOrExit();
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, pino.destination(2));
  const shutdown = new ShutdownSequence(log);
  try {
    const { databaseUrl } = await startInfrastructure(config, log, shutdown, { temporal: false });
    const dataSource = await createDataSource(databaseUrl, { poolSize: 2 }).initialize();
    shutdown.add('database pool', () => dataSource.destroy());
    await runMigrations(dataSource, log);
    const created = await createOrganization(
      dataSource,
      { name: options.name, ownerEmail: options['owner-email'] },
      { publicUrl: config.http.publicUrl },
    );
    process.stdout.write(`${JSON.stringify({ orgId: created.orgId, apiKey: created.apiKey, ownerPasswordLink: created.ownerPasswordLink })}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`${error instanceof AppError ? error.message : `Failed: ${(error as Error).message}`}\n`);
    return 1;
  } finally {
    await shutdown.run();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
