/** Messages between `serve` and its scan-queue thread (scan-thread.ts, scan-queue-thread.ts). */

import type { SiteConfig } from '../site/config.js';

export interface ScanThreadData {
  readonly dir: string;
  /** The configuration serve runs with (its database: the file's, or `--database`); the thread never rereads the file. */
  readonly config: SiteConfig;
  /** Engine threads of the scan pool. */
  readonly threads: number;
  readonly leaseSeconds: number;
  /** The thread's scan-job leases name this holder (store/queue.ts QueueHolder), given back by serve if it dies. */
  readonly holder: string;
}

/** `kick`: look for queued jobs; with `idle`, answer that id once the queue has been found empty after this kick. */
export type ToScanThread = { readonly type: 'kick'; readonly idle?: number } | { readonly type: 'close' };

export type FromScanThread =
  | { readonly type: 'scanned'; readonly n: number }
  | { readonly type: 'idle'; readonly ids: readonly number[] }
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'closed' };
