/**
 * The workflow bundle every worker runs: one way to make it (`makeWorkflowBundle`), used by the production
 * build (scripts/bundle-workflows.ts), the tests' global setup and, through a disk cache, a worker started
 * from source (`npm start`).
 *
 * Memory (docs/PERFORMANCE.md): every workflow thread holds the bundle as a V8 string and its source map
 * parsed, so the bundle is kept lean: non-ASCII characters are escaped (one "—" in a comment makes V8 store
 * the whole string at two bytes a character; escaped, a string or regex means the same, though columns after
 * one on its line shift in stack traces) and the source map keeps its mappings, so stack traces still name
 * the .ts files and lines, but not the sources' text, which nothing reads (showStackTraceSources is off). And webpack runs in a
 * short-lived child process, never in a worker: it leaves ~85 MB behind in the process that ran it.
 */
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode, type Logger as TemporalLogger } from '@temporalio/worker';
import { failureConverterPath } from './adapters/data-converter';
import { projectRoot } from './adapters/find-executable';
import { workflowTracingModule } from './observability/tracing';

const sourceMapMarker = '//# sourceMappingURL=data:application/json;charset=utf-8;base64,';

/**
 * Bundles src/workflows with the failure converter and the tracing interceptor module (a bundle's
 * interceptors cannot be added later; it traces only the workflows started with a trace context).
 */
export async function makeWorkflowBundle(logger?: TemporalLogger): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    failureConverterPath,
    workflowInterceptorModules: [workflowTracingModule],
    ...(logger ? { logger } : {}),
  });
  return leanWorkflowBundle(code);
}

/** The same code with non-ASCII characters escaped and the inline source map without `sourcesContent`. */
export function leanWorkflowBundle(code: string): string {
  const at = code.lastIndexOf(sourceMapMarker);
  const body = (at < 0 ? code : code.slice(0, at)).replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (at < 0) return body;
  const map = JSON.parse(Buffer.from(code.slice(at + sourceMapMarker.length), 'base64').toString('utf8')) as { sourcesContent?: unknown };
  delete map.sourcesContent;
  return body + sourceMapMarker + Buffer.from(JSON.stringify(map)).toString('base64');
}

/** Where bundles made from source are kept, named by what they were made from (node_modules/.cache, as other build tools do). */
const projectCacheDir = path.join(projectRoot, 'node_modules', '.cache', 'sigill-workflow-bundle');

/**
 * The bundle for a worker started from source: made once per version of the sources by scripts/bundle-workflows.ts
 * in a child process, then read from the cache. The key hashes every file under src/ and the installed
 * packages' lock (node_modules/.package-lock.json: what is installed, not what package-lock.json asks for), so
 * any change makes a new bundle and a stale one is never served. Older bundles are removed once a new one is in
 * place. Where node_modules cannot be written (installed by another user) the cache lives in the temporary folder.
 */
export async function cachedWorkflowBundlePath(): Promise<string> {
  const name = `${sourcesHash()}.js`;
  const dir = writableDir(projectCacheDir) ?? writableDir(path.join(os.tmpdir(), `sigill-workflow-bundle-${os.userInfo().uid}`));
  if (!dir) throw new Error(`no folder to keep the workflow bundle in: neither ${projectCacheDir} nor the temporary folder can be written`);
  const target = path.join(dir, name);
  if (fs.existsSync(target)) return target;
  // A unique temporary name, then an atomic rename: workers starting together never read half a file.
  const temporary = `${target}.${randomUUID()}.partial`;
  try {
    await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts', 'bundle-workflows.ts'), temporary], {
      cwd: projectRoot,
      maxBuffer: 16 * 1024 * 1024,
    });
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    // Another worker may have put the same bundle in place meanwhile (a rename over a file being read can fail on Windows).
    if (fs.existsSync(target)) return target;
    const output = (error as { stderr?: string }).stderr?.trim();
    throw new Error(
      `bundling the workflow code failed${output ? `: ${output.slice(-2000)}` : ''} ` +
        '(a worker run from source needs the dev dependencies, tsx among them; or run `npm run build` and start dist/)',
      { cause: error },
    );
  }
  for (const stale of fs.readdirSync(dir).filter((file) => file !== name && (file.endsWith('.js') || file.endsWith('.partial')))) {
    // A .partial another worker is writing right now is new, not stale: only files an hour old go.
    const full = path.join(dir, stale);
    if (stale.endsWith('.js') || Date.now() - fs.statSync(full).mtimeMs > 3_600_000) fs.rmSync(full, { force: true });
  }
  return target;
}

function writableDir(dir: string): string | undefined {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.accessSync(dir, fs.constants.W_OK);
    return dir;
  } catch {
    return undefined;
  }
}

function sourcesHash(): string {
  const hash = createHash('sha256');
  const addTree = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) addTree(full);
      else if (/\.(ts|tsx|js|json)$/.test(entry.name)) hash.update(`${path.relative(projectRoot, full)}\0`).update(fs.readFileSync(full)).update('\0');
    }
  };
  addTree(path.join(projectRoot, 'src'));
  for (const file of [path.join('node_modules', '.package-lock.json'), 'package-lock.json', path.join('scripts', 'bundle-workflows.ts')]) {
    const full = path.join(projectRoot, file);
    if (fs.existsSync(full)) hash.update(fs.readFileSync(full));
  }
  return hash.digest('hex').slice(0, 32);
}
