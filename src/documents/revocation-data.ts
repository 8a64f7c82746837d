/**
 * Where the validation data of a B-LT/B-LTA seal comes from: OCSP responses and CRLs for OUR certificates
 * only — the seal's chain and the certificates our timestamp authority signs with — fetched from the URLs
 * those certificates name (their authority information access and CRL distribution points).
 *
 * libpdf asks for every signature in the file, the uploader's own included. Fetching URLs taken from a
 * certificate someone uploaded would let any API user make the worker call addresses of their choosing
 * (internal services, cloud metadata), and wait on them; so foreign certificates get nothing from here.
 * Their signers' own validation data, if any, is already in the file.
 *
 * A certificate of ours that names where its status is published but whose status could not be fetched is
 * a failure the seal must not hide (`assertComplete`): the seal would claim B-LT without the data.
 */
// @peculiar/x509 resolves its services through tsyringe, which throws at load time without this polyfill.
import 'reflect-metadata';
import { X509Certificate, createHash } from 'node:crypto';
import type { RevocationProvider } from '@libpdf/core';
import * as x509 from '@peculiar/x509';
import * as pkijs from 'pkijs';

export class RevocationDataUnavailable extends Error {
  override name = 'RevocationDataUnavailable';
}

const fetchTimeoutMs = 10_000;

export class OwnCertificatesRevocation implements RevocationProvider {
  private readonly ours = new Set<string>();
  private readonly unavailable = new Map<string, string>();
  private readonly answered = new Set<string>();

  /** `certificates`: DER of every certificate whose status may be fetched (seal chain, TSA certificates). */
  constructor(certificates: Iterable<Uint8Array>) {
    for (const certificate of certificates) this.ours.add(fingerprint(certificate));
  }

  async getOCSP(certificate: Uint8Array, issuer: Uint8Array): Promise<Uint8Array | null> {
    const key = fingerprint(certificate);
    if (!this.ours.has(key)) return null;
    const urls = publishedAt(certificate).ocsp;
    for (const url of urls) {
      try {
        const response = await post(url, await ocspRequest(certificate, issuer));
        if (ocspSucceeded(response)) {
          this.answered.add(key);
          return response;
        }
      } catch (error) {
        this.unavailable.set(key, `${subjectOf(certificate)}: OCSP at ${new URL(url).host} (${(error as Error).message})`);
      }
    }
    if (urls.length) this.unavailable.set(key, this.unavailable.get(key) ?? `${subjectOf(certificate)}: no successful OCSP answer`);
    return null;
  }

  async getCRL(certificate: Uint8Array): Promise<Uint8Array | null> {
    const key = fingerprint(certificate);
    if (!this.ours.has(key)) return null;
    for (const url of publishedAt(certificate).crl) {
      try {
        const crl = await get(url);
        this.answered.add(key);
        return crl;
      } catch (error) {
        this.unavailable.set(key, `${subjectOf(certificate)}: CRL at ${new URL(url).host} (${(error as Error).message})`);
      }
    }
    return null;
  }

  /** Throws when one of our certificates publishes its status but none could be had. */
  assertComplete(): void {
    const missing = [...this.unavailable].filter(([key]) => !this.answered.has(key)).map(([, reason]) => reason);
    if (missing.length) throw new RevocationDataUnavailable(`revocation data could not be fetched for ${missing.join('; ')}`);
  }
}

function fingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

function subjectOf(der: Uint8Array): string {
  return new X509Certificate(der).subject.replace(/\n/g, ', ');
}

/** The http(s) URLs a certificate names for OCSP (AIA) and CRLs (CRL distribution points). */
function publishedAt(der: Uint8Array): { ocsp: string[]; crl: string[] } {
  const certificate = new x509.X509Certificate(der);
  const aia = certificate.getExtension(x509.AuthorityInfoAccessExtension);
  const cdp = certificate.getExtension(x509.CRLDistributionPointsExtension);
  const http = (value: string | undefined): value is string => !!value && /^https?:\/\//i.test(value);
  return {
    ocsp: (aia?.ocsp ?? []).map((name) => (name.type === 'url' ? name.value : undefined)).filter(http),
    crl: (cdp?.distributionPoints ?? [])
      .flatMap((point) => point.distributionPoint?.fullName ?? [])
      .map((name) => name.uniformResourceIdentifier)
      .filter(http),
  };
}

async function ocspRequest(certificate: Uint8Array, issuer: Uint8Array): Promise<Uint8Array> {
  const request = new pkijs.OCSPRequest();
  await request.createForCertificate(pkijs.Certificate.fromBER(certificate), {
    hashAlgorithm: 'SHA-1',
    issuerCertificate: pkijs.Certificate.fromBER(issuer),
  });
  return new Uint8Array(request.toSchema(true).toBER(false));
}

/** responseStatus successful (0) with a response in it. */
function ocspSucceeded(der: Uint8Array): boolean {
  try {
    const response = pkijs.OCSPResponse.fromBER(der);
    return response.responseStatus.valueBlock.valueDec === 0 && response.responseBytes !== undefined;
  } catch {
    return false;
  }
}

async function post(url: string, body: Uint8Array): Promise<Uint8Array> {
  return readBody(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(fetchTimeoutMs),
    }),
  );
}

async function get(url: string): Promise<Uint8Array> {
  return readBody(await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(fetchTimeoutMs) }));
}

async function readBody(response: Response): Promise<Uint8Array> {
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
