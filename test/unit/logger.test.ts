import { Writable } from 'node:stream';
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
