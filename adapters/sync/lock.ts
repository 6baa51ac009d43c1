/**
 * The sync lock: at most one catalog sync runs per site, across processes (the CLI, `serve`'s scheduled sync, a
 * second administrator) and within one process — and, with PostgreSQL, across machines.
 *
 * The lock is the store's (SiteStore.tryLock): a session advisory lock on PostgreSQL, which dies with the
 * connection of a killed process on any machine; on SQLite a row taken in one write transaction, holding the
 * holder's host, pid and start time, taken over when that process is gone (a reused pid is told apart by its start
 * time). A holder on another host of a SQLite site cannot be probed and is honoured.
 */
import { hostname } from 'node:os';
import type { SiteLock, SiteStore } from '../store/port.js';

export const SYNC_LOCK = 'sync';

/** Takes the site's sync lock, or reports who holds it. Never waits for a running holder. */
export function acquireSyncLock(store: SiteStore): Promise<SiteLock> {
  return store.tryLock(SYNC_LOCK, `pid ${process.pid} on ${hostname()}, started at ${new Date().toISOString()}`);
}
