/** Messages between `serve` and its scan-queue thread (scan-thread.ts, scan-queue-thread.ts). */

import type { SiteConfig } from '../site/config.js';
import type { ScanJob } from '../store/queue.js';

export interface ScanThreadData {
  readonly dir: string;
  /** The configuration serve runs with (its database: the file's, or `--database`); the thread never rereads the file. */
  readonly config: SiteConfig;
  /** Engine threads of the scan pool. */
  readonly threads: number;
  readonly leaseSeconds: number;
}

/** `kick`: look for queued jobs; with `idle`, answer that id once the queue has been found empty after this kick. */
export type ToScanThread = { readonly type: 'kick'; readonly idle?: number } | { readonly type: 'close' };

export type FromScanThread =
  | { readonly type: 'scanned'; readonly n: number }
  | { readonly type: 'idle'; readonly ids: readonly number[] }
  | { readonly type: 'log'; readonly line: string }
  /** A batch's jobs were leased (`taken`), or stored, failed or put back (`settled`): serve keeps the difference. */
  | { readonly type: 'jobs'; readonly event: 'taken' | 'settled'; readonly jobs: readonly ScanJob[] }
  | { readonly type: 'closed' };
