/**
 * Administration commands for scripts and operators: `npm run sigill -- org create --name N --owner-email E`
 * prints `{ "orgId", "apiKey" }` as JSON on stdout (logs go to stderr, so the output pipes cleanly).
 * `backup restore [--progress-every N]` rebuilds the blob store from the backup provider and `backup status`
 * shows the replication backlog (src/backup/backup-commands.ts).
 */
import { parseArgs } from 'node:util';
import { createOrganization } from './accounts/create-organization';
import { createAdapters } from './adapters';
import { printBackupStatus, restoreFromBackup } from './backup/backup-commands';
import { loadConfigOrExit } from './config';
import { createDataSource, runMigrations } from './database/data-source';
import { AppError } from './errors';
import { startInfrastructure } from './infrastructure';
import { ShutdownSequence } from './lifecycle';
import { createLogger } from './logger';
import pino from 'pino';

const usage = [
  'Usage: npm run sigill -- org create --name NAME --owner-email EMAIL',
  '       npm run sigill -- backup restore [--progress-every N]',
  '       npm run sigill -- backup status',
].join('\n');

async function main(argv: string[]): Promise<number> {
  const [noun, verb, ...rest] = argv;
  if (noun === 'backup' && (verb === 'restore' || verb === 'status')) return backupCommand(verb, rest);
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

async function backupCommand(verb: 'restore' | 'status', rest: string[]): Promise<number> {
  let progressEvery: number;
  try {
    const values = parseArgs({ args: rest, options: { 'progress-every': { type: 'string', default: '1000' } } }).values;
    progressEvery = Number(values['progress-every']);
    if (!Number.isInteger(progressEvery) || progressEvery < 1) throw new Error('--progress-every must be a whole number of objects, at least 1');
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage}\n`);
    return 64;
  }
  const config = loadConfigOrExit();
  if (!config.blobBackup) {
    process.stderr.write('No backup provider is configured: set BACKUP_S3_BUCKET (and its endpoint and credentials).\n');
    return 78; // EX_CONFIG
  }
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, pino.destination(2));
  const shutdown = new ShutdownSequence(log);
  try {
    const { databaseUrl } = await startInfrastructure(config, log, shutdown, { temporal: false });
    const dataSource = await createDataSource(databaseUrl, { poolSize: 2 }).initialize();
    shutdown.add('database pool', () => dataSource.destroy());
    await runMigrations(dataSource, log);
    const adapters = createAdapters(config, { dataSource });
    shutdown.add('adapters', () => adapters.close());
    const write = (line: string) => process.stdout.write(`${line}\n`);
    if (verb === 'status') await printBackupStatus(adapters.blobBackup!, write);
    else await restoreFromBackup(adapters.blobBackup!, { progressEvery, write });
    return 0;
  } catch (error) {
    process.stderr.write(`Failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await shutdown.run();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
