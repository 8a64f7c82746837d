/**
 * A small real PKI for long-term-validation tests, all OpenSSL behind one local HTTP server: a root CA that
 * issues the seal's certificate and a time-stamping authority's, each naming where its revocation status
 * is published (an OCSP responder in the AIA extension, a CRL in the CRL distribution points). Sigill
 * fetches that data over HTTP as from any public CA; `stopPublishing()` then takes the responder and CRL
 * offline, so a validator that still says "valid, not revoked" can only have used what the PDF carries.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveExecutable, runTool } from './pdf-validators';

const run = promisify(execFile);

export interface LocalPki {
  /** The root certificate (PEM): the one trust anchor validators are given. */
  caFile: string;
  /** The seal's PKCS#12 (key, certificate, CA), for loadP12SealKey. */
  sealP12: Buffer;
  sealP12Password: string;
  /** RFC 3161 endpoint whose certificate this CA issued. */
  tsaUrl: string;
  /** How many OCSP requests and CRL downloads were answered. */
  served(): { ocsp: number; crl: number; timestamps: number };
  /** Takes the OCSP responder and CRL offline (requests get 503); timestamps keep working. */
  stopPublishing(): void;
  resumePublishing(): void;
  /** Gives the TSA a new certificate valid for `days` (as a TSA renews its own before it expires). */
  renewTsaCertificate(days: number): void;
  stop(): Promise<void>;
}

function openssl(args: string[]): void {
  const result = runTool('openssl', args);
  if (result.status !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${result.output}`);
}

export async function startLocalPki(dir: string): Promise<LocalPki> {
  fs.mkdirSync(dir, { recursive: true });
  const inDir = (name: string) => path.join(dir, name);
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  createIdentities(dir, base);
  const opensslPath = resolveExecutable('openssl');
  const counts = { ocsp: 0, crl: 0, timestamps: 0 };
  let publishing = true;
  // One OpenSSL call at a time: `ts -reply` and `ca` update their files in place.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.catch(() => undefined);
    return result;
  };
  let requestCounter = 0;
  const exchange = async (input: Buffer, args: (inFile: string, outFile: string) => string[]): Promise<Buffer> => {
    const id = ++requestCounter;
    const inFile = inDir(`request-${id}.der`);
    const outFile = inDir(`response-${id}.der`);
    fs.writeFileSync(inFile, input);
    await run(opensslPath, args(inFile, outFile));
    return fs.readFileSync(outFile);
  };

  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const answer = (type: string, work: () => Promise<Buffer>, count: keyof typeof counts) =>
        serially(work).then(
          (der) => {
            counts[count]++;
            response.writeHead(200, { 'content-type': type }).end(der);
          },
          () => response.writeHead(500).end(),
        );
      if (request.url === '/tsa' && request.method === 'POST') {
        void answer('application/timestamp-reply', () =>
          exchange(body, (inFile, outFile) => ['ts', '-reply', '-config', inDir('tsa.cnf'), '-queryfile', inFile, '-signer', inDir('tsa.pem'),
            '-inkey', inDir('tsa.key'), '-chain', inDir('ca.pem'), '-out', outFile]), 'timestamps');
        return;
      }
      if (!publishing) {
        response.writeHead(503).end();
        return;
      }
      if (request.url === '/ocsp' && request.method === 'POST') {
        void answer('application/ocsp-response', () =>
          exchange(body, (inFile, outFile) => ['ocsp', '-index', inDir('index.txt'), '-CA', inDir('ca.pem'), '-rsigner', inDir('ocsp.pem'),
            '-rkey', inDir('ocsp.key'), '-reqin', inFile, '-respout', outFile, '-ndays', '7']), 'ocsp');
        return;
      }
      if (request.url === '/ca.crl' && request.method === 'GET') {
        void answer('application/pkix-crl', async () => fs.readFileSync(inDir('ca.crl')), 'crl');
        return;
      }
      response.writeHead(404).end();
    });
  });

  return {
    caFile: inDir('ca.pem'),
    sealP12: fs.readFileSync(inDir('seal.p12')),
    sealP12Password: 'local pki',
    tsaUrl: `${base}/tsa`,
    served: () => ({ ...counts }),
    stopPublishing: () => {
      publishing = false;
    },
    resumePublishing: () => {
      publishing = true;
    },
    renewTsaCertificate: (days: number) => {
      openssl(['req', '-new', '-key', inDir('tsa.key'), '-out', inDir('tsa.csr'), '-subj', '/CN=Sigill Test TSA']);
      openssl(['ca', '-batch', '-config', inDir('ca.cnf'), '-extensions', 'tsa', '-days', String(days), '-in', inDir('tsa.csr'), '-out', inDir('tsa.pem'), '-notext']);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Root CA, seal, TSA and OCSP-responder certificates, the CA database the responder reads, and a CRL. */
function createIdentities(dir: string, base: string): void {
  const inDir = (name: string) => path.join(dir, name);
  fs.writeFileSync(inDir('index.txt'), '');
  fs.writeFileSync(inDir('serial'), '1000\n');
  fs.writeFileSync(inDir('crlnumber'), '01\n');
  fs.writeFileSync(inDir('tsaserial'), '01\n');
  const publishedAt = [`authorityInfoAccess = OCSP;URI:${base}/ocsp`, `crlDistributionPoints = URI:${base}/ca.crl`];
  fs.writeFileSync(
    inDir('ca.cnf'),
    [
      '[ ca ]',
      'default_ca = local',
      '[ local ]',
      `dir = ${dir}`,
      'database = $dir/index.txt',
      'serial = $dir/serial',
      'crlnumber = $dir/crlnumber',
      'new_certs_dir = $dir',
      'certificate = $dir/ca.pem',
      'private_key = $dir/ca.key',
      'default_md = sha256',
      'default_days = 30',
      'default_crl_days = 7',
      'policy = anything',
      'unique_subject = no',
      'copy_extensions = none',
      '[ anything ]',
      'commonName = supplied',
      'organizationName = optional',
      '[ root ]',
      'basicConstraints = critical, CA:true',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '[ seal ]',
      'basicConstraints = critical, CA:false',
      'keyUsage = critical, digitalSignature, nonRepudiation',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      ...publishedAt,
      '[ tsa ]',
      'basicConstraints = critical, CA:false',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = critical, timeStamping',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      ...publishedAt,
      '[ ocsp ]',
      'basicConstraints = critical, CA:false',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = critical, OCSPSigning',
      // The responder's own certificate is not checked for revocation (RFC 6960 §4.2.2.2.1).
      'noCheck = ignored',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
  );
  writeTsaConfig(inDir('tsa.cnf'), inDir('tsaserial'));
  const config = ['-config', inDir('ca.cnf')];
  openssl(['req', '-x509', '-newkey', 'rsa:3072', '-nodes', '-keyout', inDir('ca.key'), '-out', inDir('ca.pem'), '-subj', '/CN=Sigill Test Root CA',
    '-days', '60', ...config, '-extensions', 'root']);
  const issue = (name: string, subject: string, bits: number) => {
    openssl(['req', '-newkey', `rsa:${bits}`, '-nodes', '-keyout', inDir(`${name}.key`), '-out', inDir(`${name}.csr`), '-subj', subject]);
    openssl(['ca', '-batch', ...config, '-extensions', name, '-in', inDir(`${name}.csr`), '-out', inDir(`${name}.pem`), '-notext']);
  };
  issue('seal', '/O=Acme Oy/CN=Sigill seal - Acme Oy', 3072);
  issue('tsa', '/CN=Sigill Test TSA', 2048);
  issue('ocsp', '/CN=Sigill Test OCSP Responder', 2048);
  openssl(['ca', '-gencrl', ...config, '-out', inDir('ca-crl.pem')]);
  openssl(['crl', '-in', inDir('ca-crl.pem'), '-outform', 'DER', '-out', inDir('ca.crl')]);
  openssl(['pkcs12', '-export', '-inkey', inDir('seal.key'), '-in', inDir('seal.pem'), '-certfile', inDir('ca.pem'), '-passout', 'pass:local pki',
    '-out', inDir('seal.p12')]);
}

/** OpenSSL's `ts -reply` configuration: SHA-256 signatures, imprints in the SHA-2 family, serials in `serialFile`. */
export function writeTsaConfig(file: string, serialFile: string): void {
  fs.writeFileSync(
    file,
    [
      '[ tsa ]',
      'default_tsa = tsa_config',
      '[ tsa_config ]',
      `serial = ${serialFile}`,
      'crypto_device = builtin',
      'signer_digest = sha256',
      'default_policy = 1.2.3.4.1',
      'digests = sha256, sha384, sha512',
      'accuracy = secs:1',
      'ordering = no',
      'tsa_name = no',
      'ess_cert_id_chain = no',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
}
