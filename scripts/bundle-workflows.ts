/**
 * Production build step: bundles the workflow code once, so workers start without running webpack.
 * The worker picks up dist/src/workflow-bundle.js automatically when it exists beside it, or, with tracing
 * on (OTEL_EXPORTER_OTLP_ENDPOINT), workflow-bundle-traced.js: the same code with the OpenTelemetry
 * workflow interceptors compiled in (interceptor modules cannot be added to a bundle afterwards).
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { failureConverterPath } from '../src/adapters/data-converter';
import { workflowTracingModule } from '../src/observability/tracing';

async function writeBundle(file: string, workflowInterceptorModules: string[]): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), failureConverterPath, workflowInterceptorModules });
  const target = path.resolve(__dirname, '..', 'dist', 'src', file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, code);
  process.stdout.write(`wrote ${path.relative(process.cwd(), target)} (${(code.length / 1024).toFixed(0)} KiB)\n`);
}

async function main(): Promise<void> {
  await writeBundle('workflow-bundle.js', []);
  await writeBundle('workflow-bundle-traced.js', [workflowTracingModule]);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
