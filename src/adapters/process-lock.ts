/**
 * A small JSON file that records which process runs an embedded part (PostgreSQL, Temporal) on which port,
 * so a second Sigill process on the same DATA_DIR (the `org create` command, a separate worker) joins the
 * running part instead of opening the same files twice, and so a part orphaned by a crash is found and
 * stopped on the next start.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface ProcessLock {
  /** The Sigill process that started the part and is responsible for stopping it. */
  ownerPid: number;
  /** The part's own process, when it is a child process. */
  childPid?: number;
  port: number;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readProcessLock(file: string): ProcessLock | undefined {
  try {
    const lock = JSON.parse(fs.readFileSync(file, 'utf8')) as ProcessLock;
    return Number.isInteger(lock.ownerPid) && Number.isInteger(lock.port) ? lock : undefined;
  } catch {
    return undefined;
  }
}

export function writeProcessLock(file: string, lock: ProcessLock): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(lock), { mode: 0o600 });
}

/** Removes the lock only if it is still ours: a later process may have replaced it. */
export function removeProcessLock(file: string, ownerPid = process.pid): void {
  if (readProcessLock(file)?.ownerPid === ownerPid) fs.rmSync(file, { force: true });
}
