/**
 * The browser side of Sigill's pages, built and served by the service itself: no extra command, no CDN.
 *
 * Our page code (src/web/client, TSX on Preact) is bundled by esbuild in memory the first time a page is
 * asked for (about half a second, once per process), into content-hashed files served as immutable. pdf.js
 * is bundled into the signer page; its worker, fonts, character maps and decoders are served as shipped
 * by `pdfjs-dist`, from our own origin, so the Content-Security-Policy stays `script-src 'self'`.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type Router from '@koa/router';
import { build, stop, type OutputFile } from 'esbuild';

/** The pages that have their own script, each an entry point in src/web/client. */
export const pageEntries = {
  signer: 'signer/main.tsx',
  console: 'console/main.tsx',
  kyc: 'kyc/main.tsx',
  privacy: 'privacy/main.tsx',
} as const;
export type PageName = keyof typeof pageEntries;

export interface WebAssets {
  /** The URL of a page's script and of the shared stylesheet, content-hashed. */
  scriptOf(page: PageName): string;
  stylesheet: string;
  files: ReadonlyMap<string, { body: Buffer; type: string }>;
}

const projectRoot = findProjectRoot(__dirname);
const clientRoot = path.join(projectRoot, 'src/web/client');
const pdfjsRoot = path.dirname(require.resolve('pdfjs-dist/package.json'));

/** What pdf.js loads at run time, by URL prefix under /assets/pdfjs/, and the folder it comes from. */
const pdfjsFolders: Record<string, string> = {
  build: 'build',
  standard_fonts: 'standard_fonts',
  cmaps: 'cmaps',
  wasm: 'wasm',
  iccs: 'iccs',
};

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.bcmap': 'application/octet-stream',
  '.pfb': 'application/octet-stream',
  '.ttf': 'font/ttf',
  '.icc': 'application/vnd.iccprofile',
};

let building: Promise<WebAssets> | undefined;

/** The bundles, built once per process (concurrent first requests share one build). */
export function webAssets(): Promise<WebAssets> {
  building ??= buildWebAssets().catch((error: unknown) => {
    building = undefined; // a later request tries again rather than serving a cached failure forever
    throw error;
  });
  return building;
}

async function buildWebAssets(): Promise<WebAssets> {
  const entryPoints = Object.fromEntries([
    ...Object.entries(pageEntries).map(([name, file]) => [name, path.join(clientRoot, file)]),
    ['styles', path.join(clientRoot, 'styles.css')],
  ]);
  const result = await build({
    entryPoints,
    bundle: true,
    write: false,
    format: 'esm',
    splitting: true,
    minify: true,
    sourcemap: false,
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    absWorkingDir: projectRoot,
    outdir: '/assets', // nothing is written: the output paths are the URLs they are served at
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    metafile: true,
    logLevel: 'silent',
    legalComments: 'external',
  });
  // esbuild keeps a helper process for further builds; there are none until the next start (a retry after
  // a failed build starts it again), so it goes now rather than sit idle beside the service.
  await stop();
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const file of result.outputFiles) files.set(file.path, { body: Buffer.from(file.contents), type: contentTypeOf(file) });
  // The metafile names paths relative to absWorkingDir; resolved, an output's path is its URL.
  const outputOf = (entry: string) => {
    const found = Object.entries(result.metafile.outputs).find(([, output]) => output.entryPoint && path.resolve(projectRoot, output.entryPoint) === entry);
    if (!found) throw new Error(`esbuild produced no output for ${entry}`);
    return path.resolve(projectRoot, found[0]);
  };
  const scripts = Object.fromEntries(Object.entries(pageEntries).map(([name, file]) => [name, outputOf(path.join(clientRoot, file))])) as Record<PageName, string>;
  return { scriptOf: (page) => scripts[page], stylesheet: outputOf(path.join(clientRoot, 'styles.css')), files };
}

function contentTypeOf(file: OutputFile): string {
  return contentTypes[path.extname(file.path)] ?? 'application/octet-stream';
}

/** Sigill's mark: a seal. Browsers ask for an icon on every page; an answer keeps their consoles clean. */
const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="14" fill="#0b5cad"/><path d="M10 17l4 4 8-9" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

/** Serves the bundles (immutable: their names change with their content) and pdf.js's run-time files. */
export function mountWebAssets(router: Router): void {
  for (const iconPath of ['/favicon.svg', '/favicon.ico']) {
    router.get(iconPath, (ctx) => {
      ctx.type = 'image/svg+xml';
      ctx.set('Cache-Control', 'public, max-age=86400');
      ctx.body = favicon;
    });
  }
  router.get('/assets/pdfjs/:folder/:file', async (ctx) => {
    const folder = pdfjsFolders[ctx.params.folder!];
    const name = ctx.params.file!;
    // One plain file name inside a known folder: nothing else of node_modules is reachable.
    if (!folder || !/^[\w.-]+$/.test(name) || name.startsWith('.')) return;
    const body = await readFile(path.join(pdfjsRoot, folder, name)).catch(() => undefined);
    if (!body) return;
    ctx.type = contentTypes[path.extname(name)] ?? 'application/octet-stream';
    // pdfjs-dist's files are versioned by the package: cache for a day, not forever.
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = body;
  });
  router.get('/assets/:file', async (ctx) => {
    const assets = await webAssets();
    const file = assets.files.get(`/assets/${ctx.params.file}`);
    if (!file) return;
    ctx.type = file.type;
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.set('ETag', `"${createHash('sha256').update(file.body).digest('base64url').slice(0, 16)}"`);
    ctx.body = file.body;
  });
}

function findProjectRoot(start: string): string {
  let directory = start;
  for (;;) {
    if (existsSync(path.join(directory, 'package.json')) && existsSync(path.join(directory, 'src/web/client'))) return directory;
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error(`Sigill's page sources (src/web/client) were not found above ${start}`);
    directory = parent;
  }
}
