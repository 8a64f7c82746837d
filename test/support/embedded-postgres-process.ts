/**
 * An embedded PGlite in a process of its own: `node --import tsx test/support/embedded-postgres-process.ts
 * <dataDir> <port>`. A test file cannot start PGlite itself — it loads its WASM through a dynamic import,
 * which jest's VM refuses without --experimental-vm-modules — so it runs this (see isolated-database.ts).
 * Prints the database URL on a line of its own once it listens; stops on SIGTERM or SIGINT.
 */
import { startOrJoinEmbeddedPostgres } from '../../src/adapters/embedded-postgres';
import { createLogger } from '../../src/logger';

async function main(): Promise<void> {
  const [dataDir, port] = process.argv.slice(2);
  if (!dataDir || !port) throw new Error('usage: embedded-postgres-process.ts <dataDir> <port>');
  const db = await startOrJoinEmbeddedPostgres({ dataDir, port: Number(port) }, createLogger(process.env.TEST_LOG_LEVEL ?? 'warn'));
  process.stdout.write(`${db.url}\n`);
  const stop = () => {
    db.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
