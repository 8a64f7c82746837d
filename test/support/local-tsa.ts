/**
 * A real RFC 3161 time-stamping authority for tests: OpenSSL's `ts -reply` behind a small HTTP server,
 * with its own CA. Sigill's TSA client talks to it over HTTP exactly as to a public TSA, and pyHanko
 * validates its tokens when given `caFile` as a trust root.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeTsaConfig } from './local-pki';
import { resolveExecutable, runTool } from './pdf-validators';

const run = promisify(execFile);

export interface LocalTsa {
  url: string;
  /** The TSA's root certificate (PEM): trust it to validate B-T seals. */
  caFile: string;
  /** How many timestamp requests were answered. */
  requests(): number;
  /** Misbehave: answer every request with the previous answer (wrong nonce and imprint). */
  replayPreviousAnswer: boolean;
  stop(): Promise<void>;
}

function openssl(...args: string[]): void {
  const result = runTool('openssl', args);
  if (result.status !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${result.output}`);
}

/** Creates the TSA's CA and certificate (EKU timeStamping, critical, as RFC 3161 requires) in `dir`. */
function createTsaIdentity(dir: string): void {
  const inDir = (name: string) => path.join(dir, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(inDir('serial'), '01\n');
  writeTsaConfig(inDir('tsa.cnf'), inDir('serial'));
  fs.writeFileSync(inDir('tsa.ext'), 'extendedKeyUsage = critical, timeStamping\nkeyUsage = critical, digitalSignature\n');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', inDir('ca.key'), '-out', inDir('ca.pem'), '-subj', '/CN=Test TSA CA', '-days', '2');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', inDir('tsa.key'), '-out', inDir('tsa.csr'), '-subj', '/CN=Test TSA');
  openssl('x509', '-req', '-in', inDir('tsa.csr'), '-CA', inDir('ca.pem'), '-CAkey', inDir('ca.key'), '-set_serial', '7', '-days', '2',
    '-extfile', inDir('tsa.ext'), '-out', inDir('tsa.pem'));
}

export async function startLocalTsa(dir: string): Promise<LocalTsa> {
  createTsaIdentity(dir);
  const inDir = (name: string) => path.join(dir, name);
  const opensslPath = resolveExecutable('openssl');
  let answered = 0;
  let previousAnswer: Buffer | undefined;
  // One at a time: `openssl ts -reply` increments the serial file in place.
  let queue: Promise<unknown> = Promise.resolve();

  const reply = async (query: Buffer): Promise<Buffer> => {
    const id = `${Date.now()}-${Math.random().toString(16).slice(2)}`;
    fs.writeFileSync(inDir(`${id}.tsq`), query);
    await run(opensslPath, ['ts', '-reply', '-config', inDir('tsa.cnf'), '-queryfile', inDir(`${id}.tsq`), '-signer', inDir('tsa.pem'),
      '-inkey', inDir('tsa.key'), '-chain', inDir('ca.pem'), '-out', inDir(`${id}.tsr`)]);
    return fs.readFileSync(inDir(`${id}.tsr`));
  };

  const tsa: LocalTsa = {
    url: '',
    caFile: inDir('ca.pem'),
    requests: () => answered,
    replayPreviousAnswer: false,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url !== '/tsa') {
        response.writeHead(404).end();
        return;
      }
      if (request.method !== 'POST' || request.headers['content-type'] !== 'application/timestamp-query') {
        response.writeHead(400).end();
        return;
      }
      const answer = queue.then(() => reply(Buffer.concat(chunks)));
      queue = answer.catch(() => undefined);
      answer.then(
        (der) => {
          answered++;
          const sent = tsa.replayPreviousAnswer && previousAnswer ? previousAnswer : der;
          previousAnswer = der;
          response.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(sent);
        },
        () => response.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tsa.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`;
  return tsa;
}
