/**
 * Targeting: a client is scanned only when it is a member of a collection that advertises the scan program of its
 * architecture's variant. Collection membership = direct members ∪ the architecture query, limited (intersected)
 * to the limiting collection's members — as Configuration Manager's limiting collections work.
 */
import type { ClientRow, SiteStore } from '../store/site-store.js';

interface CollectionRow {
  readonly id: number;
  readonly name: string;
  readonly architecture: string | null;
  readonly limit_to: number | null;
}

export function isMember(store: SiteStore, collectionId: number, client: Pick<ClientRow, 'name' | 'architecture'>, depth = 0): boolean {
  if (depth > 16) return false; // a limiting cycle: nobody is a member
  const c = store.db.prepare('SELECT id, name, architecture, limit_to FROM collections WHERE id = ?').get(collectionId) as CollectionRow | undefined;
  if (!c) return false;
  const direct = store.db.prepare('SELECT 1 FROM collection_members WHERE collection_id = ? AND computer = ?').get(c.id, client.name) !== undefined;
  const byQuery = c.architecture === '*' || (c.architecture !== null && c.architecture === client.architecture);
  if (!direct && !byQuery) return false;
  return c.limit_to === null || isMember(store, c.limit_to, client, depth + 1);
}

/** The scan program that targets this client (expedited or not), or undefined when none does. */
export function targetingProgram(store: SiteStore, client: Pick<ClientRow, 'name' | 'architecture'>, expedited: boolean): { program: string; collection: string } | undefined {
  if (!client.architecture) return undefined;
  const ads = store.db.prepare(`SELECT p.name AS program, c.id AS collection_id, c.name AS collection
    FROM advertisements a JOIN programs p ON p.id = a.program_id JOIN collections c ON c.id = a.collection_id
    WHERE p.variant = ? AND p.expedited = ? ORDER BY a.id`).all(client.architecture, expedited ? 1 : 0) as { program: string; collection_id: number; collection: string }[];
  for (const a of ads) if (isMember(store, a.collection_id, client)) return { program: a.program, collection: a.collection };
  return undefined;
}

/** Members of a collection among known clients and direct members (for `collection show`). */
export function members(store: SiteStore, collectionId: number): string[] {
  const names = new Map<string, { name: string; architecture: string | null }>();
  for (const c of store.clients()) names.set(c.name.toLowerCase(), c);
  for (const r of store.db.prepare('SELECT computer FROM collection_members').all() as { computer: string }[]) {
    if (!names.has(r.computer.toLowerCase())) names.set(r.computer.toLowerCase(), { name: r.computer, architecture: null });
  }
  return [...names.values()].filter((c) => isMember(store, collectionId, c)).map((c) => c.name).sort();
}
