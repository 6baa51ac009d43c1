/**
 * Who holds something, in a form another process on the same host can check: host, pid and — where the kernel
 * tells it (/proc on Linux) — the process's start time, so that a reused pid is not mistaken for the holder.
 * Used where a killed process must not leave something held (scan-job leases of the SQLite table queue).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), when there is a /proc. */
function procStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

let self: string | undefined;

/** This process, as `host/pid/start`. */
export function thisProcess(): string {
  self ??= `${hostname()}/${process.pid}/${procStart(process.pid)}`;
  return self;
}

/** Whether `owner` (from {@link thisProcess}) is a process of this host that is gone. Another host's: never known. */
export function isGoneLocalProcess(owner: string): boolean {
  const [host, pidText, start] = owner.split('/');
  if (host !== hostname()) return false;
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  return start !== undefined && start !== '' && procStart(pid) !== start;
}
