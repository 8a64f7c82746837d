/**
 * Runs the independent PDF checkers (poppler's pdfsig and pdftotext, qpdf, pyHanko, openssl) as child
 * processes. A missing tool fails the test that needs it: a skipped signature check would read as a pass.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { findExecutable, projectRoot } from '../../src/adapters/find-executable';

/** The executable on PATH, else in the project's .venv (pyHanko is installed there); missing fails the test. */
export function resolveExecutable(name: string): string {
  const found = findExecutable(name);
  if (!found) throw new Error(`${name} is not installed (looked on PATH and in .venv/bin): run npm run setup`);
  return found;
}

export interface ToolRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together: the tools disagree on which one carries the verdict. */
  output: string;
}

export function runTool(name: string, args: string[]): ToolRun {
  const result = spawnSync(resolveExecutable(name), args, { encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, output: `${result.stdout}\n${result.stderr}` };
}

export function pdfsig(file: string): ToolRun {
  return runTool('pdfsig', [file]);
}

export function pyhankoValidate(file: string, trustedCertificateFile: string): ToolRun {
  return runTool('pyhanko', ['sign', 'validate', '--trust', trustedCertificateFile, '--trust-replace', '--pretty-print', file]);
}

/** ETSI EN 319 102-1 AdES validation of the signature (pyHanko's `adesverify`). */
export function pyhankoAdesVerify(file: string, trustedCertificateFile: string): ToolRun {
  return runTool('pyhanko', ['sign', 'adesverify', '--trust', trustedCertificateFile, '--trust-replace', '--pretty-print', file]);
}

export function qpdfCheck(file: string): ToolRun {
  return runTool('qpdf', ['--check', file]);
}

/** The text of one page (1-based), as poppler extracts it. */
export function pageText(file: string, page: number): string {
  const run = runTool('pdftotext', ['-f', String(page), '-l', String(page), '-layout', file, '-']);
  if (run.status !== 0) throw new Error(`pdftotext failed: ${run.output}`);
  return run.output;
}

/** The page count poppler reads. */
export function pageCount(file: string): number {
  const run = runTool('pdfinfo', [file]);
  const pages = /^Pages:\s+(\d+)/m.exec(run.stdout);
  if (!pages) throw new Error(`pdfinfo found no page count: ${run.output}`);
  return Number(pages[1]);
}


/**
 * Whether the file's DSS alone proves each signer certificate in it (seal, TSA) good: pyHanko's certificate
 * validator with fetching off and revocation information required (test/support/pyhanko-dss-check.py).
 * Maps each end-entity certificate's subject to 'ok' or the reason it failed.
 */
export function dssProvesCertificates(file: string, trustedCertificateFile: string): Record<string, string> {
  // The project's virtualenv interpreter: pyHanko is installed there, not in the system Python.
  const python = path.join(projectRoot, '.venv', 'bin', 'python3');
  const result = spawnSync(python, [path.join(__dirname, 'pyhanko-dss-check.py'), file, trustedCertificateFile], { encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw result.error;
  try {
    return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as Record<string, string>;
  } catch {
    throw new Error(`pyhanko-dss-check.py gave no verdict: ${result.stdout}\n${result.stderr}`);
  }
}

/**
 * pyhankoAdesVerify without blocking this process: for files whose validation fetches from a server that
 * runs in the test itself (test/support/local-pki.ts), which a synchronous child would starve.
 */
export async function pyhankoAdesVerifyAsync(file: string, trustedCertificateFile: string): Promise<ToolRun> {
  const child = spawn(resolveExecutable('pyhanko'), ['sign', 'adesverify', '--trust', trustedCertificateFile, '--trust-replace', '--pretty-print', file]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const status = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  return { status, stdout, stderr, output: `${stdout}\n${stderr}` };
}
