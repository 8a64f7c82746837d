/**
 * Runs the independent PDF checkers (poppler's pdfsig and pdftotext, qpdf, pyHanko, openssl) as child
 * processes. A missing tool fails the test that needs it: a skipped signature check would read as a pass.
 */
import { spawnSync } from 'node:child_process';
import { findExecutable } from '../../src/adapters/find-executable';

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
