/**
 * The sync lock: at most one catalog sync runs per site, across processes (the CLI, `serve`'s scheduled sync, a
 * second administrator) and within one process.
 *
 * Why a row in the site database and not a lock file: taking the lock, and taking over a stale one, is a single
 * read-check-write inside one IMMEDIATE transaction, so two processes can never both decide that a dead holder's
 * lock is theirs (with a lock file, "see it is stale, delete it, create mine" races between two takers). The lock
 * also lives with the state it guards (the catalogs table and `current_catalog`), whatever `database` points at.
 *
 * The row (`settings.sync_lock`) holds the holder's pid, host, start time, a random token and, where the system
 * tells it (/proc on Linux), the process's own start time. A killed process cannot leave it held: a holder on this
 * host whose pid is gone (`kill(pid, 0)` → ESRCH), or whose pid now belongs to a process started at another time
 * (the pid was reused), is stale and the next sync takes the lock over. A holder on another host cannot be probed
 * and is honoured.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { SiteStore } from '../store/site-store.js';

export const SYNC_LOCK_KEY = 'sync_lock';

export interface SyncLockHolder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  readonly token: string;
  /** The holder process's start time as the kernel counts it (Linux), to tell a reused pid. */
  readonly procStart?: string;
}

export type SyncLockResult =
  | { readonly acquired: true; readonly holder: SyncLockHolder; readonly tookOverFrom?: SyncLockHolder; release(): void }
  | { readonly acquired: false; readonly holder: SyncLockHolder };

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), when there is a /proc. */
function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function parseHolder(raw: string | undefined): SyncLockHolder | undefined {
  if (raw === undefined) return undefined;
  try {
    const h = JSON.parse(raw) as Partial<SyncLockHolder>;
    if (typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.startedAt === 'string' && typeof h.token === 'string') return h as SyncLockHolder;
  } catch {
    // unreadable: treated as stale below
  }
  return { pid: 0, host: hostname(), startedAt: '?', token: '' };
}

/** Whether the holder may still be running. */
export function holderAlive(h: SyncLockHolder): boolean {
  if (h.host !== hostname()) return true; // cannot probe another host's processes
  if (!Number.isInteger(h.pid) || h.pid <= 0) return false;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: a process of another user has that pid; alive (unless it is a reused pid, checked below).
  }
  if (h.procStart !== undefined) {
    const now = procStart(h.pid);
    if (now !== undefined && now !== h.procStart) return false; // the pid was reused by a later process
  }
  return true;
}

export function describeHolder(h: SyncLockHolder): string {
  return `pid ${h.pid} on ${h.host}, started at ${h.startedAt}`;
}

/** Takes the site's sync lock, or reports who holds it. Never waits for a running holder. */
export function acquireSyncLock(store: SiteStore): SyncLockResult {
  const pstart = procStart(process.pid);
  const me: SyncLockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(12).toString('hex'),
    ...(pstart !== undefined ? { procStart: pstart } : {}),
  };
  const mine = JSON.stringify(me);
  return store.tx((): SyncLockResult => {
    const held = parseHolder(store.setting(SYNC_LOCK_KEY));
    if (held && holderAlive(held)) return { acquired: false, holder: held };
    store.setSetting(SYNC_LOCK_KEY, mine);
    return {
      acquired: true,
      holder: me,
      ...(held ? { tookOverFrom: held } : {}),
      release: () => {
        // Only our own lock: if it was (wrongly) taken over meanwhile, the new holder's row stays.
        store.tx(() => {
          if (store.setting(SYNC_LOCK_KEY) === mine) store.deleteSetting(SYNC_LOCK_KEY);
        });
      },
    };
  });
}
