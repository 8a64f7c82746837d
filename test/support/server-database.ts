/**
 * A fresh database on an existing PostgreSQL server (DATABASE_URL's), for one run of the tests or a script:
 * nothing depends on what an earlier run left there. `drop` removes it even while connections are open.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface ServerDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates `<prefix>_<random>` on the server of `serverUrl`; the prefix must be a plain SQL identifier. */
export async function createServerDatabase(serverUrl: string, prefix: string): Promise<ServerDatabase> {
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(prefix)) throw new Error(`database prefix must be lower-case letters, digits or _: ${prefix}`);
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withAdminClient(serverUrl, (admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => withAdminClient(serverUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function withAdminClient<T>(serverUrl: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
