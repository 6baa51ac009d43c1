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
  const c = store.stmt('SELECT id, name, architecture, limit_to FROM collections WHERE id = ?').get(collectionId) as CollectionRow | undefined;
  if (!c) return false;
  const direct = store.stmt('SELECT 1 FROM collection_members WHERE collection_id = ? AND computer = ?').get(c.id, client.name) !== undefined;
  const byQuery = c.architecture === '*' || (c.architecture !== null && c.architecture === client.architecture);
  if (!direct && !byQuery) return false;
  return c.limit_to === null || isMember(store, c.limit_to, client, depth + 1);
}

/** The scan program that targets this client (expedited or not), or undefined when none does. */
export function targetingProgram(store: SiteStore, client: Pick<ClientRow, 'name' | 'architecture'>, expedited: boolean): { program: string; collection: string } | undefined {
  if (!client.architecture) return undefined;
  const ads = store.stmt(`SELECT p.name AS program, c.id AS collection_id, c.name AS collection
    FROM advertisements a JOIN programs p ON p.id = a.program_id JOIN collections c ON c.id = a.collection_id
    WHERE p.variant = ? AND p.expedited = ? ORDER BY a.id`).all(client.architecture, expedited ? 1 : 0) as { program: string; collection_id: number; collection: string }[];
  for (const a of ads) if (isMember(store, a.collection_id, client)) return { program: a.program, collection: a.collection };
  return undefined;
}

/** Members of a collection among known clients and direct members (for `collection show`). */
export function members(store: SiteStore, collectionId: number): string[] {
  const names = new Map<string, { name: string; architecture: string | null }>();
  for (const c of store.clients()) names.set(c.name.toLowerCase(), c);
  for (const r of store.stmt('SELECT computer FROM collection_members').all() as { computer: string }[]) {
    if (!names.has(r.computer.toLowerCase())) names.set(r.computer.toLowerCase(), { name: r.computer, architecture: null });
  }
  return [...names.values()].filter((c) => isMember(store, collectionId, c)).map((c) => c.name).sort();
}

/**
 * The same rule over an in-memory copy of the collections, memberships and advertisements — for the upload path,
 * which asks once per request. One tiny query per request tells whether those (small) tables changed, in this
 * process or another (`patchscan collection unlimit`); only then is the copy rebuilt.
 */
export class TargetingSnapshot {
  private signature = '';
  private cols = new Map<number, { architecture: string | null; limit_to: number | null; name: string }>();
  private direct = new Map<number, Set<string>>();
  private ads: { program: string; variant: string; expedited: boolean; collectionId: number }[] = [];

  constructor(private readonly store: SiteStore) {}

  private refresh(): void {
    const sig = (this.store.stmt(`SELECT
        (SELECT group_concat(id || ',' || coalesce(architecture, '') || ',' || coalesce(limit_to, ''), ';') FROM collections) || '|' ||
        (SELECT group_concat(collection_id || ',' || computer, ';') FROM collection_members) || '|' ||
        (SELECT group_concat(id || ',' || program_id || ',' || collection_id, ';') FROM advertisements) AS s`).get() as { s: string | null }).s ?? '';
    if (sig === this.signature && this.cols.size > 0) return;
    this.signature = sig;
    const cols = this.store.stmt('SELECT id, name, architecture, limit_to FROM collections').all() as { id: number; name: string; architecture: string | null; limit_to: number | null }[];
    this.cols = new Map(cols.map((c) => [c.id, c]));
    this.direct = new Map();
    for (const m of this.store.stmt('SELECT collection_id, computer FROM collection_members').all() as { collection_id: number; computer: string }[]) {
      const set = this.direct.get(m.collection_id) ?? new Set<string>();
      set.add(m.computer.toLowerCase());
      this.direct.set(m.collection_id, set);
    }
    this.ads = (this.store.stmt(`SELECT p.name AS program, p.variant, p.expedited, a.collection_id FROM advertisements a JOIN programs p ON p.id = a.program_id
      WHERE p.variant IS NOT NULL ORDER BY a.id`).all() as { program: string; variant: string; expedited: number; collection_id: number }[])
      .map((a) => ({ program: a.program, variant: a.variant, expedited: a.expedited === 1, collectionId: a.collection_id }));
  }

  private member(id: number, name: string, architecture: string, depth: number): boolean {
    const c = this.cols.get(id);
    if (!c || depth > 16) return false;
    const own = this.direct.get(id)?.has(name) === true || c.architecture === '*' || c.architecture === architecture;
    return own && (c.limit_to === null || this.member(c.limit_to, name, architecture, depth + 1));
  }

  program(client: Pick<ClientRow, 'name' | 'architecture'>, expedited: boolean): { program: string; collection: string } | undefined {
    if (!client.architecture) return undefined;
    this.refresh();
    const name = client.name.toLowerCase();
    for (const a of this.ads) {
      if (a.variant === client.architecture && a.expedited === expedited && this.member(a.collectionId, name, client.architecture, 0)) {
        return { program: a.program, collection: this.cols.get(a.collectionId)!.name };
      }
    }
    return undefined;
  }
}
