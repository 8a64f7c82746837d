/**
 * Bundles the workflow code (src/workflow-bundling.ts), so workers start without running webpack.
 *
 *   tsx scripts/bundle-workflows.ts [OUT]
 *
 * Without OUT (the production build step, `npm run build`) it writes dist/src/workflow-bundle.js, which the
 * worker picks up automatically beside it. A worker started from source runs this with OUT in its cache.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Runtime } from '@temporalio/worker';
import { bundlerLogger } from '../src/adapters/temporal-runtime';
import { makeWorkflowBundle } from '../src/workflow-bundling';

async function main(): Promise<void> {
  // webpack's summary at debug (hidden), its warnings as warnings.
  const code = await makeWorkflowBundle(bundlerLogger(Runtime.instance().logger));
  const target = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'dist', 'src', 'workflow-bundle.js'));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, code);
  process.stdout.write(`wrote ${path.relative(process.cwd(), target)} (${(code.length / 1024).toFixed(0)} KiB)\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
