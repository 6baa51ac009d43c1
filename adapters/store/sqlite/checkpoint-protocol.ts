/** Messages between the SQLite driver's checkpointer (checkpointer.ts) and its thread (checkpoint-thread.ts). */

export interface CheckpointThreadData {
  readonly path: string;
  /** better-sqlite3's entry file, resolved by the driver (an eval worker resolves nothing relative to us). */
  readonly sqliteModule: string;
}

/**
 * `commit`: transaction `seq` (counted by the driver) committed, checkpoint what the WAL holds; `close`: end (after a
 * checkpoint still due).
 */
export type CheckpointRequest = { readonly kind: 'commit'; readonly seq: number } | { readonly kind: 'close' };

/** Each reply answers the commits up to `upTo`: the last one told before its checkpoint began. */
export type CheckpointReply =
  /** `log` frames in the WAL, `checkpointed` of them now in the database file (SQLite's wal_checkpoint columns). */
  | { readonly kind: 'done'; readonly upTo: number; readonly log: number; readonly checkpointed: number }
  /** Another connection's checkpoint was running (SQLite's `busy` column; a PASSIVE one does not wait). */
  | { readonly kind: 'busy'; readonly upTo: number }
  | { readonly kind: 'failed'; readonly upTo: number; readonly message: string; readonly code?: string };
