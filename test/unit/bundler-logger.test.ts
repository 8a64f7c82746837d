/** Starting a worker logs webpack's multi-kB summary at debug, not info; warnings and errors keep their level. */
import type { Logger as TemporalLogger, LogLevel } from '@temporalio/worker';
import { bundlerLogger } from '../../src/adapters/temporal-runtime';

test('webpack summary at debug, its warnings as warnings, the one-line bundle size at info', () => {
  const lines: Array<[LogLevel, string]> = [];
  const record = (level: LogLevel) => (message: string) => void lines.push([level, message]);
  const target: TemporalLogger = {
    log: (level, message) => void lines.push([level, message]),
    trace: record('TRACE'),
    debug: record('DEBUG'),
    info: record('INFO'),
    warn: record('WARN'),
    error: record('ERROR'),
  };
  const logger = bundlerLogger(target);
  logger.info('asset workflow-bundle-1234.js 3.44 MiB [emitted]\nruntime modules 1.2 KiB\nwebpack 5 compiled successfully');
  logger.info('asset workflow-bundle-1234.js 3.44 MiB\n\nWARNING in ./src/workflows/x.ts\nwebpack 5 compiled with 1 warning');
  logger.info('Workflow bundle created', { size: '3.44MB' });
  logger.error('asset …\nERROR in ./src/workflows/x.ts');
  expect(lines.map(([level]) => level)).toEqual(['DEBUG', 'WARN', 'INFO', 'ERROR']);
});
