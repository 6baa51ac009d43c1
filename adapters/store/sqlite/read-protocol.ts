/** Messages between the SQLite driver and its read threads (read-thread.ts). */
import type { SqlValue } from '../sql/driver.js';

export interface ReadThreadData {
  readonly path: string;
  readonly busyMs: number;
  /** better-sqlite3's entry file, resolved by the driver (an eval worker resolves nothing relative to us). */
  readonly sqliteModule: string;
}

export type ReadRequest =
  | { readonly kind: 'all' | 'get'; readonly id: number; readonly sql: string; readonly params: readonly SqlValue[] }
  | { readonly kind: 'close' };

export type ReadReply =
  | { readonly id: number; readonly rows: unknown; readonly error?: undefined }
  | { readonly id: number; readonly error: { readonly message: string; readonly name: string; readonly code?: string } };
