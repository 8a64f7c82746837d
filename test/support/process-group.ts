/**
 * Child processes that run in a process group of their own (spawned with `detached: true`): tsx starts a
 * node process for the script, so only a signal to the whole group reaches both. Used by the durability
 * test and the chaos run (`scripts/chaos.ts`) to SIGKILL a worker, the API or the Temporal server.
 */
import fs from 'node:fs';
import { waitFor } from './wait-for';

/**
 * The processes of a group that still run. Zombies do not count: tsx's node child, orphaned by the kill,
 * stays a zombie until init reaps it (about a second here, never in a container without an init).
 */
export function liveProcessesInGroup(pgid: number): number[] {
  if (!fs.existsSync('/proc/self/stat')) {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const live: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') live.push(Number(entry));
  }
  return live;
}

/** Sends `signal` to every process of the group; a group already gone is not an error. */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * SIGKILL to the whole process group; resolves once the group leader has exited (`exited`, when the caller
 * holds it) and no process of the group runs any more. Answers the pids that were alive when killed.
 */
export async function killProcessGroup(
  pgid: number,
  options: { name: string; exited?: Promise<unknown>; timeoutMs?: number },
): Promise<{ killed: number[] }> {
  const killed = liveProcessesInGroup(pgid);
  if (killed.length > 0) signalProcessGroup(pgid, 'SIGKILL');
  await options.exited;
  await waitFor(`every process of ${options.name} gone`, () => liveProcessesInGroup(pgid).length === 0, options.timeoutMs ?? 15_000);
  return { killed };
}

/**
 * The environment minus Sigill settings a developer's shell may hold (S3, KMS, an SMS provider, a seal key,
 * …), for child processes that are given exactly the settings they should use.
 */
export const inheritedEnvironment = (): NodeJS.ProcessEnv =>
  Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(S3_|KMS_|SMS_|MAIL_|TEMPORAL_|SMTP_|SEAL_|TSA_URL$|PUBLIC_URL$)/.test(name)),
  );
