import { Writable } from 'node:stream';
import { context, propagation, trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createLogger } from '../../src/logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: createLogger('info', stream), output: () => lines.join('') };
}

test('secrets are redacted wherever they appear in a logged object', () => {
  const { log, output } = capture();
  log.info(
    {
      apiKey: 'sgl_secret_one',
      pin: '482913',
      req: { headers: { authorization: 'Bearer sgl_secret_two', cookie: 'sid=secret_three' } },
      signer: { token: 'link-token-four', password: 'secret_five' },
      document: { contentBase64: 'JVBERi0xLjcK' },
      keep: 'visible',
    },
    'something happened',
  );
  const text = output();
  for (const secret of ['sgl_secret_one', '482913', 'sgl_secret_two', 'secret_three', 'link-token-four', 'secret_five', 'JVBERi0x']) {
    expect(text).not.toContain(secret);
  }
  expect(text).toContain('visible');
  expect(JSON.parse(text)).toMatchObject({ level: 'info', msg: 'something happened', service: 'sigill' });
});

test('a line written inside an active span carries its trace and span ids; one outside carries none', () => {
  // As tracing registers it: the async context that carries the active span.
  new NodeTracerProvider().register();
  try {
    const { log, output } = capture();
    const span = trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 });
    context.with(trace.setSpan(context.active(), span), () => log.info('inside'));
    log.info('outside');
    const [inside, outside] = output().trim().split('\n').map((line) => JSON.parse(line));
    expect(inside).toMatchObject({ msg: 'inside', traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' });
    expect(outside.msg).toBe('outside');
    expect(outside).not.toHaveProperty('traceId');
  } finally {
    trace.disable();
    context.disable();
    propagation.disable();
  }
});
