import net from 'node:net';

export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Polls until something accepts connections on the port. `abortIf` lets the caller stop waiting early,
 * e.g. when the child process that should open the port has already exited.
 */
export async function waitForPort(
  port: number,
  options: { timeoutMs: number; host?: string; abortIf?: () => Error | undefined },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const aborted = options.abortIf?.();
    if (aborted) throw aborted;
    if (await isPortOpen(port, options.host)) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on port ${port} within ${options.timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
