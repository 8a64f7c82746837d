/**
 * Entry point. `npm start` runs everything in one process tree: embedded parts as configured, migrations,
 * the worker and the API. `npm run api` runs the API alone; `npm run migrate` applies migrations and exits.
 */
import { loadConfigOrExit } from './config';
import { createDataSource, runMigrations } from './database/data-source';
import { startInfrastructure } from './infrastructure';
import { exitOnSignals, exitOnStartupFailure, ShutdownSequence } from './lifecycle';
import { createLogger } from './logger';
import { runServiceFromEnvironment } from './service';

async function migrate(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.logLevel);
  const shutdown = new ShutdownSequence(log);
  exitOnSignals(log, shutdown);
  try {
    const { databaseUrl } = await startInfrastructure(config, log, shutdown, { temporal: false });
    const dataSource = await createDataSource(databaseUrl, { poolSize: 2 }).initialize();
    shutdown.add('database pool', () => dataSource.destroy());
    const applied = await runMigrations(dataSource, log);
    process.stdout.write(applied.length ? `Applied ${applied.length} migration(s).\n` : 'The schema is up to date.\n');
    await shutdown.run();
  } catch (error) {
    await exitOnStartupFailure(log, shutdown, error);
  }
}

const command = process.argv[2] ?? 'start';
switch (command) {
  case 'start':
    void runServiceFromEnvironment({ api: true, worker: true });
    break;
  case 'api':
    void runServiceFromEnvironment({ api: true, worker: false });
    break;
  case 'migrate':
    void migrate();
    break;
  default:
    process.stderr.write(`Unknown command "${command}". Use: start | api | migrate\n`);
    process.exit(64);
}
