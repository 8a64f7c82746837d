/**
 * The real-world PDF corpus (test/fixtures/pdf-corpus, issue 11): its manifest, what a serious e-signature
 * service should do with each file (derived from the manifest's facts, never from what the code does), and
 * the independent checkers (pdfsig, pdfinfo, pyHanko) run asynchronously, so several rounds can be checked
 * while the in-process API keeps serving the others.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { resolveExecutable } from './pdf-validators';

export const corpusDir = path.join(__dirname, '..', 'fixtures', 'pdf-corpus');

export interface CorpusEntry {
  file: string;
  category: 'signed' | 'certified-p1' | 'certified-p2' | 'certified-p3' | 'owner-encrypted' | 'user-encrypted' | 'damaged' | 'pdf20' | 'form' | 'plain';
  description: string;
  pages: number;
  /** Signature fields pdfsig lists (signed or not). */
  signatures: number;
  /** pdfsig's "Signature is Valid" count. */
  validSignatures: number;
  docMdp: number | null;
  encryption: { userPasswordNeeded: boolean; permissions: number } | null;
  qpdfCheckOk: boolean;
  notes: string;
}

export function loadCorpus(): CorpusEntry[] {
  return JSON.parse(fs.readFileSync(path.join(corpusDir, 'manifest.json'), 'utf8')) as CorpusEntry[];
}

export type RefusalCode =
  | 'encrypted_document'
  | 'document_certified_no_changes'
  | 'document_damaged_signed'
  | 'document_permissions_forbid_seal'
  | 'invalid_document';

export type Expectation =
  | {
      outcome: 'accepted';
      /** `signature_only`: already signed, certified P=2/3, a field lock P=2/3, or owner permissions that allow annotations but not changes. */
      treatment: 'stamp' | 'signature_only';
      /** Only a file whose cross-reference readers must reconstruct may be rewritten (repaired) at create. */
      mayBeRepaired: boolean;
      /** Bytes before `%PDF-` (within the first KiB, as viewers look): stored without them. */
      headerOffset: number;
      why: string;
    }
  | { outcome: 'refused'; codes: RefusalCode[]; why: string };

/**
 * The strictest /P of the lock dictionaries (/Lock, ISO 32000-2 12.7.5.5, table 236) of the signed signature
 * fields in `bytes`; undefined when no signed field has one. A lock takes effect once its field is signed:
 * /P 1 — "no changes to the document are permitted; any change to the document shall invalidate the
 * signature" (what Adobe Sign's ES_LOCKING_SIGNATURE does), so like DocMDP P=1 only refusal keeps that
 * signature valid; /P 2 or 3 permit a further signature. Read from the file's text: the last definition of
 * each object (an incremental update replaces earlier ones); a field is signed when it has a value (/V);
 * the lock dictionary is inline or an indirect object, its /Type (/SigFieldLock) optional.
 */
export function strictestSignedFieldLock(bytes: Buffer): number | undefined {
  const objects = pdfObjects(bytes);
  let strictest: number | undefined;
  for (const body of objects.values()) {
    const lock = /\/Lock\s*(?:(\d+)\s+(\d+)\s+R|<<((?:(?!<<|>>)[\s\S])*)>>)/.exec(body);
    if (!lock || !isSignedSignatureField(body, objects)) continue;
    const dictionary = lock[3] ?? objects.get(`${lock[1]} ${lock[2]}`) ?? '';
    const level = /\/P\s+(\d+)/.exec(dictionary);
    if (level && (strictest === undefined || Number(level[1]) < strictest)) strictest = Number(level[1]);
  }
  return strictest;
}

/**
 * Signature fields in `bytes` whose value is a signature dictionary (/ByteRange) — the signatures a signer
 * made. Not a usage-rights signature (/Perms /UR3, Adobe's key enabling Reader features), which hangs from
 * the catalog, not from a field, and which pdfsig and pyHanko do not list either.
 */
export function signedSignatureFields(bytes: Buffer): number {
  const objects = pdfObjects(bytes);
  return [...objects.values()].filter((body) => isSignedSignatureField(body, objects)).length;
}

/** The text of each object (`N G obj … endobj`), the last definition winning (as an incremental update does). */
function pdfObjects(bytes: Buffer): Map<string, string> {
  const objects = new Map<string, string>();
  for (const object of bytes.toString('latin1').matchAll(/(?<![0-9])(\d+)\s+(\d+)\s+obj\b([\s\S]*?)\bendobj\b/g)) {
    objects.set(`${object[1]} ${object[2]}`, object[3]!);
  }
  return objects;
}

function isSignedSignatureField(body: string, objects: Map<string, string>): boolean {
  if (!/\/FT\s*\/Sig(?![A-Za-z])/.test(body)) return false;
  const value = /\/V\s*(?:(\d+)\s+(\d+)\s+R|<<)/.exec(body);
  if (!value) return false;
  return value[1] === undefined ? /\/V\s*<<[\s\S]*\/ByteRange/.test(body) : (objects.get(`${value[1]} ${value[2]}`) ?? '').includes('/ByteRange');
}

/**
 * ISO 32000-1 table 22: bit 4 modify contents, bit 6 add or modify annotations (signatures are annotations),
 * bit 9 fill in form fields, signature fields included (viewers show either as "Signing: Allowed").
 */
const permits = (permissions: number, bit: number) => (permissions & (1 << (bit - 1))) !== 0;

/**
 * What the service must do with `entry`, from the manifest and the file's bytes only:
 * - a user password is needed → refused, `encrypted_document`;
 * - damaged (readers must reconstruct it) and signed → refused, `document_damaged_signed` (a signed file is
 *   never rewritten, and a seal appended to a structure readers must guess at would not validate reliably).
 *   "Signed" is pdfsig's count, or a signature dictionary (/ByteRange) in the bytes: pdfsig misses one
 *   whose field tree it cannot walk. A file with no `%PDF-` header at all may be refused as not a PDF;
 * - certified with no changes permitted (DocMDP P=1), or a signed signature field whose lock permits no
 *   change (/Lock /P 1) → refused, `document_certified_no_changes`;
 * - owner permissions with neither "annotate" nor "fill forms" → refused, `document_permissions_forbid_seal`;
 * - everything else is accepted, a damaged but readable unsigned file repaired. The signature only (no page
 *   stamps, no added pages; the audit trail as a separately sealed evidence PDF) for a document that already
 *   carries a signature (a signature value: /ByteRange in the bytes, or one pdfsig found valid) — validators
 *   report page content added after a signature as a modification of the signed document — for DocMDP
 *   P=2/3 or a field lock /P 2/3, and for owner permissions without "modify".
 */
export function expectationFor(entry: CorpusEntry, bytes: Buffer): Expectation {
  const head = bytes.subarray(0, 1024);
  const headerOffset = head.indexOf('%PDF-');
  const reconstructed = /reconstruct/i.test(entry.notes) || headerOffset < 0;
  const signatureValue = signedSignatureFields(bytes) > 0 || entry.validSignatures > 0;
  const signed = entry.signatures > 0 || signatureValue;
  if (entry.encryption?.userPasswordNeeded) return { outcome: 'refused', codes: ['encrypted_document'], why: 'a user password is needed to open it' };
  if (entry.category === 'damaged' && signed) {
    return {
      outcome: 'refused',
      codes: headerOffset < 0 ? ['document_damaged_signed', 'invalid_document'] : ['document_damaged_signed'],
      why: 'signed, and its structure must be reconstructed',
    };
  }
  if (entry.docMdp === 1) return { outcome: 'refused', codes: ['document_certified_no_changes'], why: 'certified, no changes permitted (DocMDP P=1)' };
  const lock = strictestSignedFieldLock(bytes);
  if (lock === 1) {
    return { outcome: 'refused', codes: ['document_certified_no_changes'], why: 'a signed field locks it: its /Lock permits no change (/P 1)' };
  }
  const permissions = entry.encryption?.permissions;
  if (permissions !== undefined && !permits(permissions, 6) && !permits(permissions, 9)) {
    return { outcome: 'refused', codes: ['document_permissions_forbid_seal'], why: `owner permissions /P ${permissions} forbid annotations and form filling` };
  }
  const reasons = [
    ...(entry.docMdp === 2 || entry.docMdp === 3 ? [`certified DocMDP P=${entry.docMdp}`] : []),
    ...(lock !== undefined ? [`a signed field's /Lock /P ${lock}`] : []),
    ...(signatureValue ? ['already signed'] : []),
    ...(permissions !== undefined && !permits(permissions, 4) ? [`owner permissions /P ${permissions} allow signing, not changes`] : []),
  ];
  return {
    outcome: 'accepted',
    treatment: reasons.length > 0 ? 'signature_only' : 'stamp',
    mayBeRepaired: reconstructed,
    headerOffset: Math.max(headerOffset, 0),
    why:
      reasons.length > 0
        ? `${reasons.join(', ')}: the signature only`
        : reconstructed
          ? 'damaged but readable and unsigned: repaired, then sealed'
          : 'sealed with stamps and audit-trail pages',
  };
}

// ---------------------------------------------------------------------------------------------------------
// Independent checkers, asynchronous
// ---------------------------------------------------------------------------------------------------------

export interface ToolOutput {
  status: number | null;
  output: string;
}

export function runToolAsync(name: string, args: string[]): Promise<ToolOutput> {
  const executable = resolveExecutable(name);
  return new Promise((resolve, reject) => {
    execFile(executable, args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error); // not started, or killed by the timeout
      resolve({ status: error ? (error.code as number) : 0, output: `${stdout}\n${stderr}` });
    });
  });
}

export interface PdfsigVerdict {
  field: string;
  valid: boolean;
  wholeFile: boolean;
}

/** pdfsig's verdict per signature, in file order. */
export async function pdfsigVerdicts(file: string): Promise<PdfsigVerdict[]> {
  const run = await runToolAsync('pdfsig', [file]);
  return run.output
    .split(/Signature #\d+:/)
    .slice(1)
    .map((block) => ({
      field: /Signature Field Name: (.*)/.exec(block)?.[1]?.trim() ?? '',
      valid: block.includes('Signature Validation: Signature is Valid.'),
      wholeFile: block.includes('Total document signed'),
    }));
}

export async function pdfinfoPages(file: string): Promise<number> {
  const run = await runToolAsync('pdfinfo', [file]);
  const pages = /^Pages:\s+(\d+)/m.exec(run.output);
  if (!pages) throw new Error(`pdfinfo found no page count in ${path.basename(file)}: ${run.output}`);
  return Number(pages[1]);
}

export interface PyhankoField {
  field: string;
  sound: boolean;
  judgedValid: boolean;
  modifications: string;
  /** pyHanko could not validate this signature, and why. */
  problem?: string;
}

export interface PyhankoReport {
  /** pyHanko read the file and validated its signatures (no read error, no refusal of a hybrid-reference file). */
  readable: boolean;
  strict: boolean;
  /** Why it could not, when it could not. */
  problem?: string;
  fields: PyhankoField[];
}

export interface PyhankoOptions {
  /** Strict syntax (the default), or pyHanko's lenient reader (--no-strict-syntax). */
  strict?: boolean;
  /** Further trust roots (PEM files). */
  trust?: string[];
  /**
   * 'claimed': validate each signature at the time its signer claims (certificates long expired still
   * chain; revocation checking off, so nothing is fetched).
   */
  validationTime?: 'claimed';
}

/** pyHanko's validation of every signature, trusting `trustedCertificateFile` (and `options.trust`); strict syntax unless told. */
export async function pyhankoReport(file: string, trustedCertificateFile: string, strictOrOptions: boolean | PyhankoOptions = true): Promise<PyhankoReport> {
  const options = typeof strictOrOptions === 'boolean' ? { strict: strictOrOptions } : strictOrOptions;
  const strict = options.strict ?? true;
  const run = await runToolAsync('pyhanko', [
    'sign',
    'validate',
    ...(strict ? [] : ['--no-strict-syntax']),
    ...[trustedCertificateFile, ...(options.trust ?? [])].flatMap((trust) => ['--trust', trust]),
    '--trust-replace',
    ...(options.validationTime ? ['--validation-time', options.validationTime] : []),
    '--pretty-print',
    file,
  ]);
  const problem =
    /Failed to read PDF file[^\n]*\n(?:Error message: )?([^\n]*)/.exec(run.output)?.[1]?.trim() ??
    (/Settings do not permit validation of signatures in hybrid-reference files/.test(run.output) ? 'hybrid-reference file' : undefined) ??
    (/Generic processing error/.test(run.output) ? 'generic processing error' : undefined);
  const parts = run.output.split(/^=+\nField \d+: (.*)\n=+$/m);
  const fields: PyhankoField[] = [];
  for (let index = 1; index + 1 < parts.length; index += 2) {
    const block = parts[index + 1]!;
    fields.push({
      field: parts[index]!.trim(),
      sound: block.includes('The signature is cryptographically sound.'),
      judgedValid: block.includes('The signature is judged VALID.'),
      modifications: /Modifications\n-+\n([\s\S]*?)\n\n/.exec(block)?.[1]?.replace(/\s+/g, ' ').trim() ?? '',
      problem: /An error occurred while validating this signature: ([^\n]*)/.exec(block)?.[1]?.trim(),
    });
  }
  return { readable: problem === undefined, strict, ...(problem ? { problem } : {}), fields };
}

/**
 * Every X.509 certificate inside the signatures of `pdf` (each signature dictionary's /Contents CMS, the
 * signature timestamp tokens in its unsigned attributes included), as PEM. Given to pyHanko as trust roots,
 * they let it judge the upload's own signatures VALID: without them every one is "untrusted", and a
 * before/after comparison of its judgment would compare nothing.
 */
export function embeddedSignatureCertificates(pdf: Buffer): string {
  const found = new Map<string, X509Certificate>();
  for (const contents of pdf.toString('latin1').matchAll(/\/Contents\s*<([0-9A-Fa-f\s]+)>/g)) {
    const der = Buffer.from(contents[1]!.replace(/\s+/g, ''), 'hex');
    const top = readTlv(der, 0);
    if (top) collectCertificates(der, top.start, top.end, found);
  }
  return [...found.values()].map((certificate) => certificate.toString()).join('');
}

interface Tlv {
  start: number;
  contentStart: number;
  contentEnd: number;
  end: number;
  tag: number;
  definite: boolean;
}

/** One BER element at `at` (definite or indefinite length; CMS from some signers is BER), or undefined. */
function readTlv(der: Buffer, at: number): Tlv | undefined {
  if (at + 2 > der.length) return undefined;
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) return undefined; // multi-byte tags do not occur on the way to a certificate
  let offset = at + 1;
  let length = der[offset++]!;
  if (length === 0x80) {
    if ((tag & 0x20) === 0) return undefined;
    for (let child = offset; ; ) {
      if (child + 2 > der.length) return undefined;
      if (der[child] === 0 && der[child + 1] === 0) return { start: at, contentStart: offset, contentEnd: child, end: child + 2, tag, definite: false };
      const inner = readTlv(der, child);
      if (!inner) return undefined;
      child = inner.end;
    }
  }
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets > 4 || offset + octets > der.length) return undefined;
    length = 0;
    for (let index = 0; index < octets; index++) length = length * 256 + der[offset++]!;
  }
  const end = offset + length;
  return end > der.length ? undefined : { start: at, contentStart: offset, contentEnd: end, end, tag, definite: true };
}

function collectCertificates(der: Buffer, from: number, to: number, found: Map<string, X509Certificate>): void {
  for (let at = from; at < to; ) {
    const tlv = readTlv(der, at);
    if (!tlv || tlv.end > to) return;
    if (tlv.tag === 0x30 && tlv.definite) {
      try {
        const certificate = new X509Certificate(der.subarray(tlv.start, tlv.end));
        found.set(certificate.fingerprint256, certificate);
        at = tlv.end;
        continue;
      } catch {
        // not a certificate: look inside
      }
    }
    if (tlv.tag & 0x20) collectCertificates(der, tlv.contentStart, tlv.contentEnd, found);
    at = tlv.end;
  }
}

/** Runs `work` over `items`, at most `concurrency` at a time, in order of `items` in the result. */
export async function mapConcurrently<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  });
  await Promise.all(lanes);
  return results;
}
