/**
 * Production build step: bundles the workflow code once, so workers start without running webpack.
 * The worker picks up dist/src/workflow-bundle.js automatically when it exists beside it. The tracing
 * interceptor module is compiled in (a bundle's interceptors cannot be added later); it traces only the
 * workflows started with a trace context.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { failureConverterPath } from '../src/adapters/data-converter';
import { workflowTracingModule } from '../src/observability/tracing';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    failureConverterPath,
    workflowInterceptorModules: [workflowTracingModule],
  });
  const target = path.resolve(__dirname, '..', 'dist', 'src', 'workflow-bundle.js');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, code);
  process.stdout.write(`wrote ${path.relative(process.cwd(), target)} (${(code.length / 1024).toFixed(0)} KiB)\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
