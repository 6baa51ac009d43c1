/**
 * Targeting: a client is scanned only when it is a member of a collection that advertises the scan program of its
 * architecture's variant. Collection membership = direct members ∪ the architecture query, limited (intersected)
 * to the limiting collection's members — as Configuration Manager's limiting collections work.
 */
import type { ClientRow, SiteStore } from '../store/site-store.js';

export interface CollectionShape {
  readonly name: string;
  /** Membership query: clients of this architecture; '*' every client; null direct members only. */
  readonly architecture: string | null;
  readonly limit_to: number | null;
}

/**
 * The membership rule, in one place: a client belongs to collection `id` when it is a direct member or matches the
 * architecture query, and — if the collection is limited — also belongs to the limiting collection. A limiting
 * cycle admits nobody.
 */
export function inCollection(cols: ReadonlyMap<number, CollectionShape>, id: number, architecture: string | null, isDirect: (collectionId: number) => boolean, depth = 0): boolean {
  const c = cols.get(id);
  if (!c || depth > 16) return false;
  const own = isDirect(id) || c.architecture === '*' || (c.architecture !== null && c.architecture === architecture);
  return own && (c.limit_to === null || inCollection(cols, c.limit_to, architecture, isDirect, depth + 1));
}

/** The scan program that targets this client (expedited or not), or undefined when none does. */
export function targetingProgram(store: SiteStore, client: Pick<ClientRow, 'name' | 'architecture'>, expedited: boolean): { program: string; collection: string } | undefined {
  return new TargetingSnapshot(store).program(client, expedited);
}

/** Members of a collection among known clients and direct members (for `collection show`). */
export function members(store: SiteStore, collectionId: number): string[] {
  const snap = new TargetingSnapshot(store);
  const names = new Map<string, { name: string; architecture: string | null }>();
  for (const c of store.clients()) names.set(c.name.toLowerCase(), c);
  for (const r of store.stmt('SELECT computer FROM collection_members').all() as { computer: string }[]) {
    if (!names.has(r.computer.toLowerCase())) names.set(r.computer.toLowerCase(), { name: r.computer, architecture: null });
  }
  return [...names.values()].filter((c) => snap.isMember(collectionId, c)).map((c) => c.name).sort();
}

/**
 * The same rule over an in-memory copy of the collections, memberships and advertisements — for the upload path,
 * which asks once per request. One tiny query per request tells whether those (small) tables changed, in this
 * process or another (`patchscan collection unlimit`); only then is the copy rebuilt.
 */
export class TargetingSnapshot {
  private signature = '';
  private cols = new Map<number, CollectionShape>();
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

  isMember(collectionId: number, client: Pick<ClientRow, 'name' | 'architecture'>): boolean {
    this.refresh();
    const name = client.name.toLowerCase();
    return inCollection(this.cols, collectionId, client.architecture, (id) => this.direct.get(id)?.has(name) === true);
  }

  program(client: Pick<ClientRow, 'name' | 'architecture'>, expedited: boolean): { program: string; collection: string } | undefined {
    if (!client.architecture) return undefined;
    this.refresh();
    for (const a of this.ads) {
      if (a.variant === client.architecture && a.expedited === expedited && this.isMember(a.collectionId, client)) {
        return { program: a.program, collection: this.cols.get(a.collectionId)!.name };
      }
    }
    return undefined;
  }
}
