/**
 * The body of a SQLite read thread (the driver's `readThreads` mode, driver.ts): its own connection to the site
 * database, reads only (`query_only`), so a report query that takes a second runs there while the HTTP event loop
 * keeps serving. In WAL mode readers never wait for the writer.
 *
 * The thread runs this function's source (an `eval` worker), so it must not use this module's imports: it loads
 * better-sqlite3 by the path the driver resolved (workerData). That way a thread starts with one native module to
 * load and nothing to compile, also when the adapters run from their .ts sources (tests).
 */
import type Database from 'better-sqlite3';
import type * as WorkerThreads from 'node:worker_threads';
import type { ReadReply, ReadRequest, ReadThreadData } from './read-protocol.js';

export function readThreadMain(): void {
  // An eval worker has require(), not this module's imports.
  const { parentPort, workerData } = require('node:worker_threads') as typeof WorkerThreads;
  const d = workerData as ReadThreadData;
  const Sqlite = require(d.sqliteModule) as typeof Database;
  const port = parentPort!;
  let db: Database.Database | undefined;
  const statements = new Map<string, Database.Statement>();
  port.on('message', (m: ReadRequest) => {
    if (m.kind === 'close') {
      db?.close();
      port.close();
      return;
    }
    let reply: ReadReply;
    try {
      if (!db) {
        db = new Sqlite(d.path, { fileMustExist: true });
        db.pragma(`busy_timeout = ${d.busyMs}`);
        db.pragma('query_only = ON');
      }
      let st = statements.get(m.sql);
      if (!st) {
        st = db.prepare(m.sql);
        statements.set(m.sql, st);
      }
      const args = m.params.map((p) =>
        p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p,
      );
      reply = { id: m.id, rows: m.kind === 'all' ? st.all(...args) : st.get(...args) };
    } catch (e) {
      const err = e as { message?: unknown; code?: unknown; name?: unknown };
      reply = {
        id: m.id,
        error: {
          message: String(err.message ?? e),
          name: String(err.name ?? 'Error'),
          ...(typeof err.code === 'string' ? { code: err.code } : {}),
        },
      };
    }
    port.postMessage(reply);
  });
}
