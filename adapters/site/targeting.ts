/**
 * Targeting: a client is scanned only when it is a member of a collection that advertises the scan program of its
 * architecture's variant. Collection membership = direct members ∪ the architecture query, limited (intersected)
 * to the limiting collection's members — as Configuration Manager's limiting collections work.
 */
import { computerKey } from '../store/computer-name.js';
import type { AdvertisementRow, ClientRow, SiteStore } from '../store/port.js';

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
export function inCollection(
  cols: ReadonlyMap<number, CollectionShape>,
  id: number,
  architecture: string | null,
  isDirect: (collectionId: number) => boolean,
  depth = 0,
): boolean {
  const c = cols.get(id);
  if (!c || depth > 16) return false;
  const own = isDirect(id) || c.architecture === '*' || (c.architecture !== null && c.architecture === architecture);
  return own && (c.limit_to === null || inCollection(cols, c.limit_to, architecture, isDirect, depth + 1));
}

/** The scan program that targets this client (expedited or not), or undefined when none does. */
export async function targetingProgram(
  store: SiteStore,
  client: Pick<ClientRow, 'name' | 'architecture'>,
  expedited: boolean,
): Promise<{ program: string; collection: string } | undefined> {
  return (await new TargetingSnapshot(store).current()).program(client, expedited);
}

/** Members of a collection among known clients and direct members (for `collection show`). */
export async function members(store: SiteStore, collectionId: number): Promise<string[]> {
  const snap = await new TargetingSnapshot(store).current();
  const names = new Map<string, { name: string; architecture: string | null }>();
  for (const c of await store.clients()) names.set(computerKey(c.name), c);
  for (const m of snap.memberNames()) if (!names.has(computerKey(m))) names.set(computerKey(m), { name: m, architecture: null });
  return [...names.values()]
    .filter((c) => snap.isMember(collectionId, c))
    .map((c) => c.name)
    .sort();
}

/** Collections, direct members and advertisements at one version: answers membership and targeting questions. */
export class Targeting {
  private readonly cols: Map<number, CollectionShape>;
  private readonly direct = new Map<number, Set<string>>();
  private readonly ads: readonly AdvertisementRow[];
  private readonly names: readonly string[];

  constructor(
    readonly version: string,
    data: Awaited<ReturnType<SiteStore['targeting']>>,
  ) {
    this.cols = new Map(data.collections.map((c) => [c.id, c]));
    for (const m of data.members) {
      const set = this.direct.get(m.collection_id) ?? new Set<string>();
      set.add(computerKey(m.computer));
      this.direct.set(m.collection_id, set);
    }
    this.ads = data.advertisements.filter((a) => a.variant !== null);
    this.names = data.members.map((m) => m.computer);
  }

  memberNames(): readonly string[] {
    return this.names;
  }

  isMember(collectionId: number, client: Pick<ClientRow, 'name' | 'architecture'>): boolean {
    const key = computerKey(client.name);
    return inCollection(this.cols, collectionId, client.architecture, (id) => this.direct.get(id)?.has(key) === true);
  }

  program(client: Pick<ClientRow, 'name' | 'architecture'>, expedited: boolean): { program: string; collection: string } | undefined {
    if (!client.architecture) return undefined;
    for (const a of this.ads) {
      if (a.variant === client.architecture && (a.expedited === 1) === expedited && this.isMember(a.collection_id, client)) {
        return { program: a.program, collection: this.cols.get(a.collection_id)!.name };
      }
    }
    return undefined;
  }
}

/**
 * The targeting data kept in memory, for the upload path and the scan service, which ask once per request or job.
 * One tiny query tells whether the data changed (in this process or another — `patchscan collection unlimit`);
 * only then is the copy read again.
 */
export class TargetingSnapshot {
  private copy: Targeting | undefined;

  constructor(private readonly store: SiteStore) {}

  async current(): Promise<Targeting> {
    const version = await this.store.targetingVersion();
    if (this.copy?.version !== version) {
      const data = await this.store.targeting();
      this.copy = new Targeting(data.version, data);
    }
    return this.copy;
  }

  async program(
    client: Pick<ClientRow, 'name' | 'architecture'>,
    expedited: boolean,
  ): Promise<{ program: string; collection: string } | undefined> {
    return (await this.current()).program(client, expedited);
  }
}
