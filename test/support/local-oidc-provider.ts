/**
 * A real OpenID Connect provider on loopback, playing Google's or Microsoft's part in tests: runs
 * oidc-provider-server.mjs as a child process (oidc-provider is ESM-only and stays out of jest).
 * Log in at it with loginAtProvider (oidc-browser.ts).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from './free-port';

export interface LocalOidcClient {
  clientId: string;
  /** Absent for a client authenticating with private_key_jwt. */
  clientSecret?: string;
  redirectUris: string[];
  /** How the client authenticates at the token endpoint; openid-client v6 uses client_secret_post by default. */
  tokenEndpointAuthMethod?: 'client_secret_post' | 'client_secret_basic' | 'private_key_jwt';
  /** private_key_jwt: the client's public keys (JWK set). */
  jwks?: { keys: object[] };
}

export interface LocalOidcAccount {
  /** Also the login typed at the provider's login form. */
  sub: string;
  email?: string;
  /** Omit to leave the claim out of the tokens altogether (as Microsoft does). */
  email_verified?: boolean;
  name?: string;
  /** Claims an eID broker adds (`ssn`, `birthdate`, `identityscheme`, …); the provider adds a `txn` to each token. */
  claims?: Record<string, string | number | boolean>;
  /** The eID this person always uses, whatever `acr_values` asked for (one of the provider's acrValues). */
  acr?: string;
}

export interface LocalOidcProvider {
  /** `http://127.0.0.1:<port>`; discovery is at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  stop(): Promise<void>;
}

const serverScript = path.join(__dirname, 'oidc-provider-server.mjs');

export async function startLocalOidcProvider(options: {
  clients: LocalOidcClient[];
  accounts: LocalOidcAccount[];
  /** As an eID broker: the `acr_values` it offers (the one asked for is the one the token names). */
  acrValues?: string[];
}): Promise<LocalOidcProvider> {
  const port = await freePort();
  const child = spawn(process.execPath, [serverScript, String(port)], {
    env: {
      ...process.env,
      OIDC_PROVIDER_CLIENTS: JSON.stringify(options.clients),
      OIDC_PROVIDER_ACCOUNTS: JSON.stringify(options.accounts),
      ...(options.acrValues ? { OIDC_PROVIDER_ACR_VALUES: JSON.stringify(options.acrValues) } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  // Kept for the error message should the provider fail; its usual output is just startup warnings.
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-10_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Should the test process end without stop(), the provider must not outlive it.
  const killChild = () => child.kill('SIGTERM');
  process.once('exit', killChild);
  void exited.then(() => process.off('exit', killChild));

  const issuer = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const onData = (chunk: string) => {
      stdout += chunk;
      const ready = /^READY (\S+)$/m.exec(stdout);
      if (ready) {
        cleanup();
        resolve(ready[1]);
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(new Error(`OIDC provider exited before it was ready (${signal ?? `code ${code}`}):\n${stderr}`));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      child.stdout.off('data', onData);
      child.off('close', onExit);
      child.off('error', onError);
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    // 'close', not 'exit': by then stderr has been read to the end.
    child.once('close', onExit);
    child.once('error', onError);
  });
  // Nothing more is expected on stdout, but an unread pipe must not fill up and stall the child.
  child.stdout.resume();

  return {
    issuer,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
