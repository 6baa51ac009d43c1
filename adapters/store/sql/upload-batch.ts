/**
 * Uploads stored in bulk: the group commit's transaction (adapters/server/routes/group-commit.ts) stores many
 * inventories, applies retention and queues their scans with a handful of statements per group — one multi-row
 * statement per step — instead of five or six per upload. On PostgreSQL each statement is a network round trip plus
 * parse and plan on the server, so the number of statements, not the rows, is what an upload costs there.
 *
 * Per group: UPDATE clients (one statement, RETURNING the clients still enrolled), INSERT inventories (one
 * multi-row statement), one SELECT of what retention must look at, at most one DELETE, and one queue insert.
 * A client that appears twice in a group is handled in rounds (its second upload in the next round, in the same
 * transaction), so each inventory is pruned exactly as if the uploads had been stored one after the other.
 */
import { PatchscanError } from '../../../engine/errors.js';
import type { InventoryRetention, NewUpload } from '../port.js';
import type { ScanQueue } from '../queue.js';
import type { SqlExecutor, SqlValue } from './driver.js';
import { now, sha256Hex } from './store.js';

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/**
 * Stores `uploads` and queues their scans, in the caller's transaction (`db`). Returns, per upload, its inventory
 * id, or undefined when its client was revoked or removed meanwhile (nothing stored or queued for it).
 */
export async function storeUploads(
  db: SqlExecutor,
  queue: ScanQueue,
  uploads: readonly NewUpload[],
  retention?: InventoryRetention,
): Promise<(number | undefined)[]> {
  const ids = await storeInventories(db, uploads, retention);
  const queued = uploads
    .filter((_, k) => ids[k] !== undefined)
    .map((u) => ({ clientId: u.clientId, priority: u.priority, reason: u.reason }));
  if (queued.length > 0) await queue.enqueueMany(db, queued);
  return ids;
}

type NewInventory = Pick<NewUpload, 'clientId' | 'body' | 'architecture' | 'os'>;

/**
 * Stores inventories with retention, in the caller's transaction (`db`); ids as for storeUploads. A body over
 * `retention.maxBytes` is refused for all (BAD_ARGUMENT): the group commit checks each one before.
 */
export async function storeInventories(
  db: SqlExecutor,
  uploads: readonly NewInventory[],
  retention?: InventoryRetention,
): Promise<(number | undefined)[]> {
  for (const u of uploads) {
    if (retention && u.body.length > retention.maxBytes) {
      throw new PatchscanError(
        'BAD_ARGUMENT',
        `the inventory takes ${u.body.length} bytes stored; one client may keep ${retention.maxBytes} (limits.storedBytesPerClient)`,
        { limit: 'limits.storedBytesPerClient', bytes: u.body.length, max: retention.maxBytes },
      );
    }
  }
  // Round r holds each client's r-th upload of the group: within a round, clients are distinct.
  const rounds: number[][] = [];
  const seen = new Map<number, number>();
  uploads.forEach((u, k) => {
    const r = seen.get(u.clientId) ?? 0;
    seen.set(u.clientId, r + 1);
    (rounds[r] ??= []).push(k);
  });
  const ids: (number | undefined)[] = new Array<number | undefined>(uploads.length).fill(undefined);
  for (const round of rounds) await storeRound(db, uploads, round, ids, retention);
  return ids;
}

async function storeRound(
  db: SqlExecutor,
  uploads: readonly NewInventory[],
  round: readonly number[],
  ids: (number | undefined)[],
  retention?: InventoryRetention,
): Promise<void> {
  const at = now();
  // The clients' rows first: on PostgreSQL they stay locked until the commit, so uploads of one client, and a scan
  // being recorded for it, take turns with the pruning below. A client revoked or removed meanwhile stops here.
  const arch: SqlValue[] = [];
  const os: SqlValue[] = [];
  for (const k of round) {
    arch.push(uploads[k]!.clientId, uploads[k]!.architecture);
    os.push(uploads[k]!.clientId, uploads[k]!.os ?? null);
  }
  const clientIds = round.map((k) => uploads[k]!.clientId);
  const enrolled = new Set(
    (
      await db.all<{ id: number }>(
        `UPDATE clients SET architecture = CASE id ${round.map(() => 'WHEN ? THEN ?').join(' ')} END,
        os = CASE id ${round.map(() => 'WHEN ? THEN ?').join(' ')} END,
      last_upload_at = ? WHERE id IN (${marks(round.length)}) AND revoked_at IS NULL RETURNING id`,
        [...arch, ...os, at, ...clientIds],
      )
    ).map((r) => r.id),
  );
  const live = round.filter((k) => enrolled.has(uploads[k]!.clientId));
  if (live.length === 0) return;

  const values: SqlValue[] = [];
  for (const k of live) {
    const u = uploads[k]!;
    values.push(u.clientId, at, sha256Hex(u.body), u.body.length, u.body);
  }
  // Clients are distinct within a round: the returned client_id says which row is whose (whatever the row order).
  const inserted = await db.all<{ id: number; client_id: number }>(
    `INSERT INTO inventories (client_id, received_at, sha256, bytes, body) VALUES ` +
      `${live.map(() => '(?, ?, ?, ?, ?)').join(', ')} RETURNING id, client_id`,
    values,
  );
  const byClient = new Map(inserted.map((r) => [r.client_id, r.id]));
  for (const k of live) ids[k] = byClient.get(uploads[k]!.clientId);
  if (retention) await prune(db, byClient, retention);
}

interface HistoryRow {
  readonly client_id: number;
  readonly id: number;
  readonly bytes: number;
  readonly rn: number;
  readonly n: number;
  readonly scanned: number | null;
}

/**
 * Retention (InventoryRetention) for every client of `newIds` (client → its new inventory): one read of each
 * client's newest `keep` inventories, the one its latest scan read and how many it has; one DELETE of the rest.
 */
async function prune(db: SqlExecutor, newIds: ReadonlyMap<number, number>, r: InventoryRetention): Promise<void> {
  const clients = [...newIds.keys()];
  const keep = Math.max(1, r.keep);
  const rows = await db.all<HistoryRow>(
    `SELECT t.client_id, t.id, t.bytes, t.rn, t.n, s.inventory_id AS scanned FROM (
       SELECT client_id, id, bytes, row_number() OVER (PARTITION BY client_id ORDER BY id DESC) AS rn,
       count(*) OVER (PARTITION BY client_id) AS n
         FROM inventories WHERE client_id IN (${marks(clients.length)})
     ) t LEFT JOIN scans s ON s.client_id = t.client_id
     WHERE t.rn <= ? OR t.id = s.inventory_id`,
    [...clients, keep],
  );
  const history = new Map<number, HistoryRow[]>();
  for (const row of rows) {
    const h = history.get(row.client_id);
    if (h) h.push(row);
    else history.set(row.client_id, [row]);
  }
  const pruned: number[] = [];
  const kept: number[] = [];
  for (const [clientId, h] of history) {
    const newId = newIds.get(clientId);
    const scanned = h[0]!.scanned;
    // Oldest first; the newest `keep` and the scanned one are candidates, then bytes decide.
    const candidates = h.slice().sort((a, b) => a.id - b.id);
    let total = 0;
    for (const c of candidates) total += c.bytes;
    const keptHere = new Set(candidates.map((c) => c.id));
    for (const c of candidates) {
      if (total <= r.maxBytes) break;
      if (c.id === newId || c.id === scanned) continue; // never the new one nor the scanned one
      total -= c.bytes;
      keptHere.delete(c.id);
    }
    if (keptHere.size === h[0]!.n) continue; // every inventory of the client is kept
    pruned.push(clientId);
    kept.push(...keptHere);
  }
  if (pruned.length === 0) return;
  // An inventory a scan refers to is also kept by the statement itself (the schema refuses to delete it:
  // scans.inventory_id references it); the index scans_by_inventory answers that per row.
  await db.run(
    `DELETE FROM inventories WHERE client_id IN (${marks(pruned.length)}) AND id NOT IN (${marks(kept.length)})
    AND NOT EXISTS (SELECT 1 FROM scans s WHERE s.inventory_id = inventories.id)`,
    [...pruned, ...kept],
  );
}
