/**
 * The baseline of `npm run bench:api`: a bare Koa app — no middleware, no router — answering each path with
 * the JSON bytes it was given. Run by scripts/bench-api.ts in a process of its own, as Sigill's API is.
 *   Usage: tsx scripts/bench-bare-koa.ts PORT BODIES_FILE   (BODIES_FILE: {"/path": "<JSON text>", …})
 */
import fs from 'node:fs';
import Koa from 'koa';

const [port, bodiesFile] = process.argv.slice(2);
if (!port || !bodiesFile) throw new Error('usage: tsx scripts/bench-bare-koa.ts PORT BODIES_FILE');
const bodies = new Map(
  Object.entries(JSON.parse(fs.readFileSync(bodiesFile, 'utf8')) as Record<string, string>).map(([path, json]) => [path, Buffer.from(json)]),
);

const app = new Koa();
app.use((ctx) => {
  const body = bodies.get(ctx.path);
  if (!body) return; // Koa answers 404
  ctx.type = 'application/json';
  ctx.body = body;
});
app.listen(Number(port), '127.0.0.1', () => process.stdout.write(`bare Koa listening on ${port}\n`));
process.on('SIGTERM', () => process.exit(0));
