/**
 * The body of the SQLite driver's checkpoint thread (checkpointer.ts): its own connection to the site database, which
 * copies the WAL's committed pages into the database file (`wal_checkpoint(PASSIVE)`: it waits for no reader and no
 * writer) each time the driver says a transaction committed, several such messages making one checkpoint.
 *
 * Like read-thread.ts, it runs this function's source as an eval worker: no imports, better-sqlite3 loaded by the
 * path the driver resolved.
 */
import type Database from 'better-sqlite3';
import type * as WorkerThreads from 'node:worker_threads';
import type { CheckpointReply, CheckpointRequest, CheckpointThreadData } from './checkpoint-protocol.js';

export function checkpointThreadMain(): void {
  const { parentPort, workerData } = require('node:worker_threads') as typeof WorkerThreads;
  const d = workerData as CheckpointThreadData;
  const Sqlite = require(d.sqliteModule) as typeof Database;
  const port = parentPort!;
  let db: Database.Database | undefined;
  let due = false;
  let closing = false;
  let latest = 0;
  const run = (): void => {
    due = false;
    const upTo = latest;
    let reply: CheckpointReply;
    try {
      if (!db) {
        db = new Sqlite(d.path, { fileMustExist: true });
        // Opening reads the schema, which may meet a lock for a moment: give way (the next commit asks again).
        db.pragma('busy_timeout = 0');
      }
      // PASSIVE never waits: another connection's checkpoint running is said in the `busy` column, not thrown.
      const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
      reply = r && r.busy !== 0 ? { kind: 'busy', upTo } : { kind: 'done', upTo, log: r?.log ?? 0, checkpointed: r?.checkpointed ?? 0 };
    } catch (e) {
      const err = e as { message?: unknown; code?: unknown };
      reply = { kind: 'failed', upTo, message: String(err.message ?? e), ...(typeof err.code === 'string' ? { code: err.code } : {}) };
    }
    port.postMessage(reply);
    if (closing) close();
  };
  const close = (): void => {
    db?.close();
    port.close();
  };
  port.on('message', (m: CheckpointRequest) => {
    if (m.kind === 'close') {
      // A checkpoint asked for and not run yet runs first: what was committed reaches the database file.
      if (due) closing = true;
      else close();
      return;
    }
    latest = Math.max(latest, m.seq);
    if (due) return; // one checkpoint for every commit since the last one
    due = true;
    setImmediate(run);
  });
}
