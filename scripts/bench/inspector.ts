/**
 * Asks a Node process started with `--inspect=127.0.0.1:<port>` for a full garbage collection and its
 * memory figures, over the Chrome DevTools Protocol, so a benchmark reads what the process holds rather
 * than garbage it has not collected yet. Nothing in the measured process changes for this.
 */
import fs from 'node:fs';
import WebSocket from 'ws';

export interface MemoryFigures {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

interface InspectorMessage {
  id?: number;
  result?: unknown;
  error?: { message: string };
  method?: string;
  params?: { sessionId: string; message: string };
}

/** Longest a DevTools call may take (a forced GC of a large heap takes seconds). */
const callTimeoutMs = 120_000;

export interface InspectorSession {
  /** After full collections in the main thread and in every worker thread (Temporal's workflow threads). */
  collectGarbageAndMeasure(): Promise<MemoryFigures & { workerThreadsHeapUsed: number; workerThreads: number }>;
  /** A CPU profile (.cpuprofile JSON, for Chrome DevTools or speedscope) of whatever runs until `stop` is called. */
  startCpuProfile(): Promise<{ stop(): Promise<unknown> }>;
  close(): void;
}

export async function openInspector(port: number): Promise<InspectorSession> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${port}`);
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  const workerSessions = new Set<string>();
  // A process that dies mid-reading fails the call, never leaves it waiting.
  const failAll = (reason: string) => {
    for (const pending of waiting.values()) pending.reject(new Error(reason));
    waiting.clear();
  };
  socket.on('close', () => failAll('the inspected process closed its inspector'));
  socket.on('error', (error) => failAll(`the inspector connection failed: ${error.message}`));
  socket.on('message', (data) => {
    let message = JSON.parse(String(data)) as InspectorMessage;
    if (message.method === 'NodeWorker.attachedToWorker') workerSessions.add(message.params!.sessionId);
    if (message.method === 'NodeWorker.detachedFromWorker') workerSessions.delete(message.params!.sessionId);
    // A worker thread's answers arrive wrapped; their ids come from the same counter, so they resolve alike.
    if (message.method === 'NodeWorker.receivedMessageFromWorker') message = JSON.parse(message.params!.message) as InspectorMessage;
    const pending = message.id === undefined ? undefined : waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id!);
    if (message.error) pending.reject(new Error(message.error.message));
    else pending.resolve(message.result);
  });
  const expect = (id: number, method: string) =>
    new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`the inspector did not answer ${method} within ${callTimeoutMs / 1000} s`));
      }, callTimeoutMs);
      const settle = <T>(done: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        done(value);
      };
      waiting.set(id, { resolve: settle(resolve), reject: settle(reject) });
    });
  const send = (method: string, params: Record<string, unknown> = {}) => {
    const id = nextId++;
    const answer = expect(id, method);
    socket.send(JSON.stringify({ id, method, params }));
    return answer;
  };
  const sendToWorker = (sessionId: string, method: string, params: Record<string, unknown> = {}) => {
    const id = nextId++;
    const answer = expect(id, method);
    socket.send(JSON.stringify({ id: nextId++, method: 'NodeWorker.sendMessageToWorker', params: { sessionId, message: JSON.stringify({ id, method, params }) } }));
    return answer;
  };
  // Attaching reports the worker threads that exist now and those started later.
  await send('NodeWorker.enable', { waitForDebuggerOnStart: false });
  const memoryOf = async (evaluate: (method: string, params?: Record<string, unknown>) => Promise<unknown>) => {
    // Twice: the first pass may only queue weakly held objects (finalizers) for the second.
    await evaluate('HeapProfiler.collectGarbage');
    await evaluate('HeapProfiler.collectGarbage');
    const evaluated = (await evaluate('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as {
      result: { value: string };
    };
    return JSON.parse(evaluated.result.value) as MemoryFigures;
  };
  return {
    async collectGarbageAndMeasure() {
      let workerThreadsHeapUsed = 0;
      for (const sessionId of workerSessions) {
        workerThreadsHeapUsed += (await memoryOf((method, params) => sendToWorker(sessionId, method, params))).heapUsed;
      }
      // The main thread last: its RSS reading then follows every collection.
      return { ...(await memoryOf(send)), workerThreadsHeapUsed, workerThreads: workerSessions.size };
    },
    async startCpuProfile() {
      await send('Profiler.enable');
      await send('Profiler.setSamplingInterval', { interval: 500 });
      await send('Profiler.start');
      return {
        async stop() {
          const { profile } = (await send('Profiler.stop')) as { profile: unknown };
          await send('Profiler.disable');
          return profile;
        },
      };
    },
    close: () => socket.close(),
  };
}

/** Resident set size of a process, from /proc (Linux), in bytes; undefined once it has gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc (Linux); 0 once it has gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), counted from field 3: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
  } catch {
    return 0;
  }
}

const clockTicksPerSecond = 100; // USER_HZ on every Linux platform Node supports

/** Process ids whose command name is `name` (e.g. every PostgreSQL backend: "postgres"). */
export function pidsNamed(name: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    })
    .map(Number);
}
