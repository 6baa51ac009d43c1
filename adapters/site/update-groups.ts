/**
 * Software update groups with deadlines, as Configuration Manager's: a named set of updates made from KBs, a release
 * window, classifications or products (resolved against the catalog in service when the group is made; `add` and
 * `remove` change it later), and the group's compliance per collection and per computer.
 *
 * A computer's state for a group (Configuration Manager's "Compliance 1 – Overall compliance"):
 *   NonCompliant  at least one of the group's updates is missing: counted as Required by the site's counting rule
 *                 (engine/scanner/counting.ts: Required and not superseded; docs/semantics.md);
 *   Unknown       none is missing, but at least one is Unknown or possibly superseded (Required, its superseding
 *                 update Unknown) — or it was never scanned, or its latest scan used a catalog that does not hold one
 *                 of the updates ("not known" never becomes Compliant);
 *   Compliant     every update is Installed, NotApplicable, or Required but superseded.
 * With a deadline, a NonCompliant computer is overdue once the deadline has passed.
 *
 * Work grows with result sets (profiles), not clients: the group's outcomes are read per stored set, a set's state
 * is computed once, and clients only pick up their set's answer.
 */
import type { Catalog } from '../../engine/catalog/catalog.js';
import { PatchscanError } from '../../engine/errors.js';
import { countedAs, type CountBucket } from '../../engine/scanner/counting.js';
import { supersedenceFlags } from '../../engine/scanner/supersedence.js';
import {
  GROUP_BUCKET_ORDER,
  type SetBucketCountRow,
  type SiteStore,
  type UpdateGroupRow,
  type UpdateGroupUpdateRow,
} from '../store/port.js';
import { latestScanRows, type CatalogVersions, type Page } from './reports.js';
import { computerKey } from '../store/computer-name.js';
import { inCollection } from './targeting.js';

/** How a group was made; every criterion given must match (within one, any value matches). */
export interface GroupCriteria {
  /** KB numbers (`5034441`) or UpdateIds: every reportable update of each. */
  readonly kbs?: readonly string[];
  /** Released on or after this day (YYYY-MM-DD, UTC). */
  readonly releasedAfter?: string;
  /** Released before this day (YYYY-MM-DD, UTC): the window is [after, before). */
  readonly releasedBefore?: string;
  /** Classification titles, any case ("Security Updates"). */
  readonly classifications?: readonly string[];
  /** Product titles, any case ("Windows 10"). */
  readonly products?: readonly string[];
}

export type GroupState = 'Compliant' | 'NonCompliant' | 'Unknown';

export const GROUP_STATES: readonly GroupState[] = ['Compliant', 'NonCompliant', 'Unknown'];

/** One computer's standing for a group. */
export interface GroupComputer {
  readonly computer: string;
  readonly architecture: string | null;
  /** null: never scanned. */
  readonly scannedAt: string | null;
  readonly state: GroupState;
  /** The group's updates on it, by outcome (they add up to the group's size). */
  readonly missing: number;
  readonly superseded: number;
  /** Required, but an update that supersedes it is Unknown there: it may be missing (not known). */
  readonly possiblySuperseded: number;
  readonly installed: number;
  readonly notApplicable: number;
  readonly unknown: number;
  /** NonCompliant after the group's deadline. */
  readonly overdue: boolean;
}

export interface GroupTally {
  readonly members: number;
  readonly compliant: number;
  readonly nonCompliant: number;
  readonly unknown: number;
  readonly overdue: number;
  /** Compliant members in percent of members, one decimal; null without members (no one to be compliant: not 0 %). */
  readonly compliancePercent: number | null;
}

export interface GroupInfo {
  readonly name: string;
  readonly criteria: GroupCriteria;
  readonly deadline: string | null;
  /** Whether the deadline has passed (false without one). */
  readonly pastDeadline: boolean;
  readonly createdAt: string;
  readonly updates: number;
}

export interface GroupSummary extends GroupInfo {
  /** Every known computer (enrolled clients). */
  readonly fleet: GroupTally;
}

/** One of a group's updates as reports show it (camelCase like every other report field; the store's row is snake_case). */
export interface GroupUpdate {
  readonly updateId: string;
  /** '' when the update has no KB number. */
  readonly kb: string;
  readonly title: string;
}

const asGroupUpdate = (u: UpdateGroupUpdateRow): GroupUpdate => ({ updateId: u.update_id, kb: u.kb, title: u.title });

export interface GroupDetail extends GroupSummary {
  readonly updateList: readonly GroupUpdate[];
  /** Per collection: its members' standing. */
  readonly collections: readonly (GroupTally & { readonly collection: string })[];
}

/** One of the group's updates on one computer. */
export interface GroupComputerUpdate extends GroupUpdate {
  /** Installed, Required, NotApplicable or Unknown; 'Unknown' too when the scan's catalog does not hold it. */
  readonly state: string;
  readonly superseded: boolean;
  readonly possiblySuperseded: boolean;
  /** Counts against the group: counted as Required by the counting rule. */
  readonly missing: boolean;
}

// ---- argument parsing (CLI and HTTP share it: the same value is refused the same way)

const bad = (what: string, raw: unknown, accepted: string): PatchscanError =>
  new PatchscanError('BAD_ARGUMENT', `${what} ${JSON.stringify(raw)}: ${accepted}`, { option: what, value: raw });

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar day written YYYY-MM-DD that exists (2026-02-30 does not). */
export function parseDay(what: string, raw: string): string {
  const m = DAY.exec(raw.trim());
  const d = m ? new Date(`${m[0]}T00:00:00Z`) : undefined;
  if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== m[0])
    throw bad(what, raw, 'give a day as YYYY-MM-DD, e.g. 2026-12-09');
  return m[0];
}

/**
 * A deadline: a day (YYYY-MM-DD, meaning 00:00 UTC of that day) or a time with a zone (2026-12-09T18:00Z,
 * 2026-12-09T18:00:00+01:00). Returned as ISO-8601 UTC. A time without a zone is refused rather than guessed.
 */
export function parseDeadline(what: string, raw: string): string {
  const v = raw.trim();
  if (DAY.test(v)) return `${parseDay(what, v)}T00:00:00.000Z`;
  const accepted = 'give a day (YYYY-MM-DD, 00:00 UTC) or a time with its zone (2026-12-09T18:00Z, 2026-12-09T18:00+01:00)';
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/i.test(v)) throw bad(what, raw, accepted);
  const t = new Date(v);
  if (Number.isNaN(t.getTime())) throw bad(what, raw, accepted);
  parseDay(what, v.slice(0, 10)); // the day itself must exist (Date rolls 02-30 over to March)
  return t.toISOString();
}

const GROUP_NAME = /^[^\s\u0000-\u001f\u007f/\\][^\u0000-\u001f\u007f/\\]{0,99}$/;

/** A group name: 1 to 100 characters, no control characters or slashes, not starting with a space. */
export function checkGroupName(name: string): string {
  if (!GROUP_NAME.test(name) || name.trimEnd() !== name) {
    throw bad('group name', name, 'give 1 to 100 characters without slashes or control characters, not starting or ending with a space');
  }
  return name;
}

/**
 * Repeated values, trimmed, empty ones dropped; with `commas`, each may also list several (`--kb 1 2 --kb 3,4`).
 * Classification and product titles are never split: Microsoft's have commas ("Windows 10, version 22H2").
 */
export function listValues(values: readonly string[] | undefined, commas = false): string[] {
  return (values ?? [])
    .flatMap((v) => (commas ? v.split(',') : [v]))
    .map((v) => v.trim())
    .filter(Boolean);
}

/** Criteria from loose input (CLI options, an HTTP body): values checked, lists split, empty lists left out. */
export function criteriaFrom(o: {
  kbs?: readonly string[];
  releasedAfter?: string;
  releasedBefore?: string;
  classifications?: readonly string[];
  products?: readonly string[];
}): GroupCriteria {
  const kbs = listValues(o.kbs, true);
  const classifications = listValues(o.classifications);
  const products = listValues(o.products);
  const after = o.releasedAfter !== undefined ? parseDay('--released-after', o.releasedAfter) : undefined;
  const before = o.releasedBefore !== undefined ? parseDay('--released-before', o.releasedBefore) : undefined;
  if (after !== undefined && before !== undefined && after >= before) {
    throw new PatchscanError(
      'BAD_ARGUMENT',
      `the release window is empty: --released-after ${after} is not before --released-before ${before} (the window is [after, before))`,
    );
  }
  const c: GroupCriteria = {
    ...(kbs.length ? { kbs } : {}),
    ...(after !== undefined ? { releasedAfter: after } : {}),
    ...(before !== undefined ? { releasedBefore: before } : {}),
    ...(classifications.length ? { classifications } : {}),
    ...(products.length ? { products } : {}),
  };
  if (Object.keys(c).length === 0) {
    throw new PatchscanError(
      'BAD_ARGUMENT',
      'a group needs at least one criterion: --kb, --released-after, --released-before, --classification or --product',
    );
  }
  return c;
}

/** Criteria in words, for listings: `KB5034441, KB5034122; released 2026-11-01 … 2026-12-01; Security Updates`. */
export function describeCriteria(c: GroupCriteria): string {
  const parts: string[] = [];
  if (c.kbs?.length) parts.push(c.kbs.map((k) => (/^\d+$/.test(k) ? `KB${k}` : k)).join(', '));
  const window = [c.releasedAfter ? `on or after ${c.releasedAfter}` : '', c.releasedBefore ? `before ${c.releasedBefore}` : ''].filter(
    Boolean,
  );
  if (window.length) parts.push(`released ${window.join(' and ')}`);
  if (c.classifications?.length) parts.push(`classification ${c.classifications.join(' or ')}`);
  if (c.products?.length) parts.push(`product ${c.products.join(' or ')}`);
  return parts.join('; ');
}

// ---- resolving criteria against a catalog

/** The day an update was released: its revision's CreationDate (YYYY-MM-DD), or '' when the catalog has none. */
export function releaseDay(c: Catalog, i: number): string {
  return c.str(c.data.updates.creationDate[i]!).slice(0, 10);
}

const asMember = (c: Catalog, i: number): UpdateGroupUpdateRow => ({ update_id: c.updateId(i), kb: c.kb(i), title: c.title(i) });

/** The reportable updates a KB, UpdateId or RevisionId names (every architecture's and OS's); NOT_FOUND names it. */
export function updatesNamed(c: Catalog, query: string): number[] {
  const hits = c.find(query).filter((i) => c.isReportable(i));
  if (hits.length === 0) {
    throw new PatchscanError(
      'NOT_FOUND',
      `no update ${JSON.stringify(query)} in the catalog in service (give a KB number, an UpdateId or a RevisionId; ` +
        'patchscan catalog show lists one)',
      { update: query },
    );
  }
  return hits;
}

/** Checks names against what the catalog has (any case) and returns them as the catalog spells them. */
function knownNames(kind: 'classification' | 'product', given: readonly string[], available: ReadonlySet<string>): Set<string> {
  const byLower = new Map([...available].map((n) => [n.toLowerCase(), n]));
  const out = new Set<string>();
  for (const g of given) {
    const hit = byLower.get(g.toLowerCase());
    if (hit === undefined) {
      const list = [...available].sort();
      throw new PatchscanError(
        'BAD_ARGUMENT',
        `no ${kind} ${JSON.stringify(g)} in the catalog in service; it has: ${list.slice(0, 40).join(', ')}` +
          (list.length > 40 ? `, … (${list.length} in all)` : ''),
        { [kind]: g },
      );
    }
    out.add(hit);
  }
  return out;
}

/** The reportable updates of `c` that match every criterion given, by KB then title. */
export function resolveCriteria(c: Catalog, criteria: GroupCriteria): UpdateGroupUpdateRow[] {
  const classes = new Set<string>();
  const products = new Set<string>();
  for (let i = 0; i < c.size; i++) {
    if (!c.isReportable(i)) continue;
    const cls = c.classification(i);
    if (cls) classes.add(cls);
    for (const p of c.products(i)) products.add(p);
  }
  const wantClass = criteria.classifications ? knownNames('classification', criteria.classifications, classes) : undefined;
  const wantProduct = criteria.products ? knownNames('product', criteria.products, products) : undefined;
  const candidates = criteria.kbs
    ? [...new Set(criteria.kbs.flatMap((k) => updatesNamed(c, k)))]
    : Array.from({ length: c.size }, (_, i) => i).filter((i) => c.isReportable(i));
  const out: UpdateGroupUpdateRow[] = [];
  for (const i of candidates) {
    if (criteria.releasedAfter !== undefined || criteria.releasedBefore !== undefined) {
      const day = releaseDay(c, i);
      if (!day) continue; // no release date: it cannot be placed in the window
      if (criteria.releasedAfter !== undefined && day < criteria.releasedAfter) continue;
      if (criteria.releasedBefore !== undefined && day >= criteria.releasedBefore) continue;
    }
    if (wantClass && !wantClass.has(c.classification(i))) continue;
    if (wantProduct && !c.products(i).some((p) => wantProduct.has(p))) continue;
    out.push(asMember(c, i));
  }
  return out.sort((a, b) => (a.kb === b.kb ? a.title.localeCompare(b.title) : a.kb.localeCompare(b.kb, 'en', { numeric: true })));
}

// ---- the group's commands

async function catalogInService(store: SiteStore, catalogs: CatalogVersions): Promise<Catalog> {
  const cur = await store.currentCatalog();
  const c = cur && (await catalogs.get(cur.id));
  if (!c)
    throw new PatchscanError(
      'NOT_FOUND',
      "no catalog is in service yet: run patchscan sync first (a group is made from the catalog's updates)",
    );
  return c;
}

async function groupNamed(store: SiteStore, name: string): Promise<UpdateGroupRow> {
  const g = await store.updateGroup(name);
  if (!g) throw new PatchscanError('NOT_FOUND', `no update group named "${name}" (patchscan group list)`, { group: name });
  return g;
}

const parseCriteria = (json: string): GroupCriteria => {
  try {
    return JSON.parse(json) as GroupCriteria;
  } catch {
    return {};
  }
};

const info = (g: UpdateGroupRow, at: number): GroupInfo => ({
  name: g.name,
  criteria: parseCriteria(g.criteria),
  deadline: g.deadline,
  pastDeadline: g.deadline !== null && Date.parse(g.deadline) <= at,
  createdAt: g.created_at,
  updates: g.updates,
});

/** Makes a group from criteria against the catalog in service; refuses one that would hold no update. */
export async function createUpdateGroup(
  store: SiteStore,
  catalogs: CatalogVersions,
  name: string,
  criteria: GroupCriteria,
  deadline: string | null,
): Promise<GroupInfo> {
  checkGroupName(name);
  const taken = await store.updateGroup(name);
  if (taken)
    throw new PatchscanError(
      'BAD_ARGUMENT',
      `an update group named "${taken.name}" exists already (patchscan group list); choose another name or delete it first`,
      { group: 'exists' },
    );
  const c = await catalogInService(store, catalogs);
  const updates = resolveCriteria(c, criteria);
  if (updates.length === 0) {
    throw new PatchscanError(
      'NOT_FOUND',
      `no update in the catalog in service matches ${describeCriteria(criteria)}: nothing to put in "${name}"`,
      { group: name },
    );
  }
  await store.addUpdateGroup({ name, criteria: JSON.stringify(criteria), deadline, updates });
  return info((await store.updateGroup(name))!, Date.now());
}

/** Adds the updates of KBs or UpdateIds to a group; returns how many were new to it. */
export async function addToGroup(
  store: SiteStore,
  catalogs: CatalogVersions,
  name: string,
  queries: readonly string[],
): Promise<{ added: number; updates: number }> {
  const g = await groupNamed(store, name);
  const c = await catalogInService(store, catalogs);
  const list = listValues(queries, true);
  if (list.length === 0) throw new PatchscanError('BAD_ARGUMENT', 'name at least one KB or UpdateId to add');
  const rows = [...new Set(list.flatMap((q) => updatesNamed(c, q)))].map((i) => asMember(c, i));
  const added = await store.addUpdateGroupUpdates(g.id, rows);
  return { added, updates: (await groupNamed(store, name)).updates };
}

/**
 * Removes updates from a group by KB or UpdateId, as the group holds them (an update since gone from the catalog
 * can still be removed); NOT_FOUND for a query that matches none of its updates.
 */
export async function removeFromGroup(
  store: SiteStore,
  name: string,
  queries: readonly string[],
): Promise<{ removed: number; updates: number }> {
  const g = await groupNamed(store, name);
  const list = listValues(queries, true);
  if (list.length === 0) throw new PatchscanError('BAD_ARGUMENT', 'name at least one KB or UpdateId to remove');
  const held = await store.updateGroupUpdates(g.id);
  const ids = new Set<string>();
  for (const q of list) {
    const kb = q.replace(/^kb/i, '');
    const hits = held.filter((u) => u.update_id === q.toLowerCase() || (u.kb !== '' && u.kb === kb));
    if (hits.length === 0)
      throw new PatchscanError(
        'NOT_FOUND',
        `"${g.name}" holds no update ${JSON.stringify(q)} (patchscan group show "${g.name}" lists them)`,
        { update: q },
      );
    for (const h of hits) ids.add(h.update_id);
  }
  const removed = await store.removeUpdateGroupUpdates(g.id, [...ids]);
  return { removed, updates: (await groupNamed(store, name)).updates };
}

export async function setGroupDeadline(store: SiteStore, name: string, deadline: string | null): Promise<GroupInfo> {
  const g = await groupNamed(store, name);
  await store.setUpdateGroupDeadline(g.id, deadline);
  return info(await groupNamed(store, name), Date.now());
}

export async function deleteUpdateGroup(store: SiteStore, name: string): Promise<void> {
  if (!(await store.removeUpdateGroup(name)))
    throw new PatchscanError('NOT_FOUND', `no update group named "${name}" (patchscan group list)`, { group: name });
}

// ---- compliance

interface SetStanding {
  readonly missing: number;
  readonly superseded: number;
  readonly possiblySuperseded: number;
  readonly installed: number;
  readonly notApplicable: number;
  readonly unknown: number;
}

/**
 * One group update's outcome on a machine from its stored rows (normally one; one per revision otherwise), by the
 * counting rule: missing wins, then what is not known, then superseded, then installed.
 */
type StoredOutcome = { readonly state: string; readonly superseded: number };
function bucketOfRows(rows: readonly StoredOutcome[]): { bucket: CountBucket; row: StoredOutcome } {
  let best = { bucket: 'notApplicable' as CountBucket, row: rows[0]! };
  for (const r of rows) {
    const b = countedAs(r.state, r.superseded);
    if (GROUP_BUCKET_ORDER.indexOf(b) < GROUP_BUCKET_ORDER.indexOf(best.bucket)) best = { bucket: b, row: r };
  }
  return best;
}

const stateOf = (s: SetStanding): GroupState =>
  s.missing > 0 ? 'NonCompliant' : s.unknown + s.possiblySuperseded > 0 ? 'Unknown' : 'Compliant';

/** Whether a catalog version holds an update; undefined when that catalog cannot be read (then: not known). */
async function holder(catalogs: CatalogVersions, catalogId: number): Promise<Catalog | undefined> {
  try {
    return await catalogs.get(catalogId);
  } catch {
    return undefined;
  }
}

/** A computer the site has no scan of: every update of the group is not known on it. */
const unscanned = (computer: string, architecture: string | null, groupSize: number): GroupComputer => ({
  computer,
  architecture,
  scannedAt: null,
  state: 'Unknown',
  missing: 0,
  superseded: 0,
  possiblySuperseded: 0,
  installed: 0,
  notApplicable: 0,
  unknown: groupSize,
  overdue: false,
});

/** A group's updates and each result set's standing for it (computed once per set, on demand). */
interface Evaluation {
  readonly updates: UpdateGroupUpdateRow[];
  /** Whether the deadline has passed. */
  readonly past: boolean;
  standingOf(setId: number, catalogId: number): Promise<SetStanding>;
}

async function evaluation(store: SiteStore, catalogs: CatalogVersions, g: UpdateGroupRow, at: number): Promise<Evaluation> {
  const updates = await store.updateGroupUpdates(g.id);
  const bySet = new Map<number, SetBucketCountRow[]>();
  for (const r of await store.groupSetCounts(g.id)) {
    const list = bySet.get(r.set_id);
    if (list) list.push(r);
    else bySet.set(r.set_id, [r]);
  }
  // How many of the group's updates each catalog version holds (computed once per version, not per set): an update
  // without a stored row is NotApplicable when the scan's catalog holds it (the site stores only what a machine has
  // or needs), Unknown when that catalog does not hold it or cannot be read.
  const heldBy = new Map<number, ReadonlySet<string>>();
  const heldIn = async (catalogId: number): Promise<ReadonlySet<string>> => {
    let held = heldBy.get(catalogId);
    if (!held) {
      const catalog = await holder(catalogs, catalogId);
      held = new Set(catalog ? updates.map((u) => u.update_id).filter((id) => catalog.findByUpdateId(id).length > 0) : []);
      heldBy.set(catalogId, held);
    }
    return held;
  };
  const standing = new Map<number, SetStanding>();
  const standingOf = async (setId: number, catalogId: number): Promise<SetStanding> => {
    const known = standing.get(setId);
    if (known) return known;
    const held = await heldIn(catalogId);
    const s = { missing: 0, superseded: 0, possiblySuperseded: 0, installed: 0, notApplicable: 0, unknown: 0 };
    let withRows = 0;
    for (const r of bySet.get(setId) ?? []) {
      withRows += r.n;
      if (r.bucket === 'required') s.missing += r.n;
      else s[r.bucket] += r.n;
    }
    // The rest have no row: NotApplicable if the scan's catalog holds them, else not known. A set's rows come from a
    // scan against that catalog, so they are among the updates it holds — unless it cannot be read (held is empty).
    const heldWithRows = held.size > 0 ? withRows : 0;
    s.notApplicable += held.size - heldWithRows;
    s.unknown += updates.length - held.size - (withRows - heldWithRows);
    standing.set(setId, s);
    return s;
  };
  return { updates, past: g.deadline !== null && Date.parse(g.deadline) <= at, standingOf };
}

/** Every enrolled client's standing for a group, by name, with each one's computer-name key (for membership). */
async function evaluateComputers(store: SiteStore, e: Evaluation): Promise<{ computers: GroupComputer[]; keys: string[] }> {
  const computers: GroupComputer[] = [];
  const keys: string[] = [];
  for (const c of await store.clientSets()) {
    keys.push(c.key);
    if (c.set_id === null || c.catalog_id === null) {
      computers.push(unscanned(c.name, c.architecture, e.updates.length));
      continue;
    }
    const s = await e.standingOf(c.set_id, c.catalog_id);
    const state = stateOf(s);
    computers.push({
      computer: c.name,
      architecture: c.architecture,
      scannedAt: c.scanned_at,
      state,
      ...s,
      overdue: e.past && state === 'NonCompliant',
    });
  }
  return { computers, keys };
}

/** Counts computers into a GroupTally. */
class TallyCounter {
  members = 0;
  compliant = 0;
  nonCompliant = 0;
  unknown = 0;
  overdue = 0;

  add(state: GroupState, overdue: boolean, n: number): void {
    this.members += n;
    if (state === 'Compliant') this.compliant += n;
    else if (state === 'NonCompliant') this.nonCompliant += n;
    else this.unknown += n;
    if (overdue) this.overdue += n;
  }

  tally(): GroupTally {
    const { members, compliant, nonCompliant, unknown, overdue } = this;
    return {
      members,
      compliant,
      nonCompliant,
      unknown,
      overdue,
      compliancePercent: members === 0 ? null : Math.round((compliant / members) * 1000) / 10,
    };
  }
}

/**
 * Collection membership (targeting.ts inCollection) answered from the targeting data: a collection's members are the
 * enrolled clients its rule admits and the direct members that never enrolled (Unknown: the site knows nothing of them).
 */
async function membership(store: SiteStore): Promise<{
  readonly collections: readonly { readonly id: number; readonly name: string }[];
  isMember(collectionId: number, key: string, architecture: string | null): boolean;
  /** Direct members that are not enrolled clients (`enrolled`: keys of the enrolled ones), once each. */
  namedOnly(enrolled: (key: string) => boolean): { readonly name: string; readonly key: string }[];
}> {
  const t = await store.targeting();
  const shapes = new Map(t.collections.map((c) => [c.id, c]));
  const direct = new Map<string, { name: string; ids: Set<number> }>();
  for (const m of t.members) {
    const key = computerKey(m.computer);
    const d = direct.get(key) ?? { name: m.computer, ids: new Set<number>() };
    d.ids.add(m.collection_id);
    direct.set(key, d);
  }
  const isMember = (collectionId: number, key: string, architecture: string | null): boolean =>
    inCollection(shapes, collectionId, architecture, (id) => direct.get(key)?.ids.has(id) === true);
  return {
    collections: t.collections,
    isMember,
    namedOnly: (enrolled) => [...direct.entries()].filter(([key]) => !enrolled(key)).map(([key, d]) => ({ name: d.name, key })),
  };
}

/**
 * The group's standing across the fleet (enrolled clients) and per collection (its members, named-only direct members
 * Unknown), added up per result set and architecture: rows grow with profiles, not clients.
 */
async function tallies(
  store: SiteStore,
  e: Evaluation,
  withCollections: boolean,
): Promise<{ fleet: GroupTally; collections: (GroupTally & { collection: string })[] }> {
  const fleet = new TallyCounter();
  const m = withCollections ? await membership(store) : undefined;
  const perCollection = (m?.collections ?? []).map((c) => ({ c, t: new TallyCounter() }));
  const enrolledDirect = new Set<string>();
  for (const r of await store.clientSetGroups()) {
    let state: GroupState = 'Unknown',
      overdue = false;
    if (r.set_id !== null && r.catalog_id !== null) {
      state = stateOf(await e.standingOf(r.set_id, r.catalog_id));
      overdue = e.past && state === 'NonCompliant';
    }
    fleet.add(state, overdue, r.n);
    if (!m) continue;
    const key = r.name === null ? '' : computerKey(r.name); // '' is nobody's direct-membership key
    if (r.name !== null) enrolledDirect.add(key);
    for (const { c, t } of perCollection) if (m.isMember(c.id, key, r.architecture)) t.add(state, overdue, r.n);
  }
  if (m) {
    for (const named of m.namedOnly((key) => enrolledDirect.has(key)))
      for (const { c, t } of perCollection) if (m.isMember(c.id, named.key, null)) t.add('Unknown', false, 1);
  }
  return { fleet: fleet.tally(), collections: perCollection.map(({ c, t }) => ({ collection: c.name, ...t.tally() })) };
}

/** Every group with the fleet's standing. */
export async function listUpdateGroups(store: SiteStore, catalogs: CatalogVersions): Promise<GroupSummary[]> {
  const at = Date.now();
  const out: GroupSummary[] = [];
  for (const g of await store.updateGroups())
    out.push({ ...info(g, at), fleet: (await tallies(store, await evaluation(store, catalogs, g, at), false)).fleet });
  return out;
}

/** A group: how it was made, its updates, and its compliance across the fleet and per collection. */
export async function updateGroupDetail(store: SiteStore, catalogs: CatalogVersions, name: string): Promise<GroupDetail> {
  return (await detailOf(store, catalogs, await groupNamed(store, name), Date.now())).detail;
}

async function detailOf(
  store: SiteStore,
  catalogs: CatalogVersions,
  g: UpdateGroupRow,
  at: number,
): Promise<{ detail: GroupDetail; evaluation: Evaluation }> {
  const e = await evaluation(store, catalogs, g, at);
  const { fleet, collections } = await tallies(store, e, true);
  return { detail: { ...info(g, at), fleet, updateList: e.updates.map(asGroupUpdate), collections }, evaluation: e };
}

export interface GroupComputerFilter {
  readonly collection?: string;
  readonly state?: GroupState;
  readonly overdue?: boolean;
}

/** The group's computers that pass `o` (of one collection, in one state, or only the overdue ones), by name. */
async function computersOf(store: SiteStore, e: Evaluation, o: GroupComputerFilter): Promise<GroupComputer[]> {
  const all = await evaluateComputers(store, e);
  let computers = all.computers;
  if (o.collection !== undefined) {
    const col = await store.collectionByName(o.collection);
    if (!col)
      throw new PatchscanError('NOT_FOUND', `no collection named "${o.collection}" (patchscan collection list)`, {
        collection: o.collection,
      });
    const m = await membership(store);
    const members = computers.filter((c, k) => m.isMember(col.id, all.keys[k]!, c.architecture));
    const enrolled = new Set(all.keys);
    for (const named of m.namedOnly((key) => enrolled.has(key)))
      if (m.isMember(col.id, named.key, null)) members.push(unscanned(named.name, null, e.updates.length));
    computers = members.sort((a, b) => (a.computer < b.computer ? -1 : a.computer > b.computer ? 1 : 0));
  }
  return computers.filter((c) => (o.state === undefined || c.state === o.state) && (!o.overdue || c.overdue));
}

/** The group's computers (of one collection, in one state, or only the overdue ones), by name. */
export async function groupComputers(
  store: SiteStore,
  catalogs: CatalogVersions,
  name: string,
  o: GroupComputerFilter & { limit?: number; offset?: number } = {},
): Promise<Page<GroupComputer>> {
  const at = Date.now();
  const g = await groupNamed(store, name);
  const picked = await computersOf(store, await evaluation(store, catalogs, g, at), o);
  const limit = o.limit ?? 100,
    offset = o.offset ?? 0;
  return { total: picked.length, offset, limit, items: picked.slice(offset, offset + limit) };
}

/** A group's detail and its computers that pass `o`, evaluated once (the console's group page). */
export async function updateGroupView(
  store: SiteStore,
  catalogs: CatalogVersions,
  name: string,
  o: GroupComputerFilter = {},
): Promise<{ detail: GroupDetail; computers: GroupComputer[] }> {
  const { detail, evaluation: e } = await detailOf(store, catalogs, await groupNamed(store, name), Date.now());
  return { detail, computers: await computersOf(store, e, o) };
}

/** One computer against the group: each update's outcome on it. */
export async function groupComputer(
  store: SiteStore,
  catalogs: CatalogVersions,
  name: string,
  computer: string,
): Promise<GroupComputer & { readonly updates: readonly GroupComputerUpdate[] }> {
  const at = Date.now();
  const g = await groupNamed(store, name);
  const e = await evaluation(store, catalogs, g, at);
  const updates = e.updates;
  const client = await store.client(computer);
  const standing = client && (await evaluateComputers(store, e)).computers.find((c) => c.computer === client.name);
  if (!client || !standing) throw new PatchscanError('NOT_FOUND', `no computer named ${computer}`, { computer });
  const latest = await latestScanRows(store, client.name);
  const scan = latest?.scan;
  const rows = new Map<string, { state: string; superseded: number }[]>();
  for (const r of latest?.rows ?? []) rows.set(r.update_id, [...(rows.get(r.update_id) ?? []), r]);
  const catalog = scan ? await holder(catalogs, scan.catalog_id) : undefined;
  const list = updates.map((u): GroupComputerUpdate => {
    const outcomes = rows.get(u.update_id);
    if (!scan || !outcomes) {
      const state = scan && catalog && catalog.findByUpdateId(u.update_id).length > 0 ? 'NotApplicable' : 'Unknown';
      return { ...asGroupUpdate(u), state, superseded: false, possiblySuperseded: false, missing: false };
    }
    const { bucket, row } = bucketOfRows(outcomes);
    return { ...asGroupUpdate(u), state: row.state, ...supersedenceFlags(row.superseded), missing: bucket === 'required' };
  });
  return { ...standing, updates: list };
}

/** A tally's compliance as text: "75%", or "n/a" for a tally without members. */
export const percentText = (t: Pick<GroupTally, 'compliancePercent'>): string =>
  t.compliancePercent === null ? 'n/a' : `${t.compliancePercent}%`;
