/**
 * ITMU's site objects — the package, its programs, the collections and the advertisements that tie them —
 * created by `patchscan init` with the seed's default names (Configuration Manager 2007, "How to install the
 * Inventory Tool for Microsoft Updates"), checked by `verify`, recreated by `verify --repair`.
 *
 * Each object has a stable role; names are what administrators see and may be overridden. The main collection
 * starts limited to the pre-production collection (the test computer); `collection unlimit` lifts that.
 */
import type { SiteStore } from '../store/site-store.js';

export type Variant = 'x86' | 'x64' | 'ia64' | 'arm64';
export const VARIANTS: readonly Variant[] = ['x86', 'x64', 'ia64', 'arm64'];

/** PROCESSOR_ARCHITECTURE values (reference §3.8) → program variant. */
export function variantOf(architecture: number | undefined): Variant | undefined {
  switch (architecture) {
    case 0: return 'x86';
    case 9: return 'x64';
    case 6: return 'ia64';
    case 12: return 'arm64';
    default: return undefined;
  }
}

export interface SiteNames {
  readonly package: string;
  readonly programs: Readonly<Record<ProgramRole, string>>;
  readonly collections: Readonly<Record<CollectionRole, string>>;
}

export type ProgramRole = `scan-${Variant}` | `scan-${Variant}-expedited` | 'sync';
export type CollectionRole = 'main' | 'pilot' | 'x64' | 'ia64' | 'arm64' | 'sync';

const TOOL = 'Microsoft Updates Tool';

/** The seed's names. ARM64 programs and collection are patchscan's modern addition. */
export const DEFAULT_NAMES: SiteNames = {
  package: 'Microsoft Corporation Microsoft Updates Tool 2.0 ALL',
  programs: {
    'scan-x86': TOOL,
    'scan-x86-expedited': `${TOOL} (expedited)`,
    'scan-x64': `${TOOL} x64`,
    'scan-x64-expedited': `${TOOL} x64 (expedited)`,
    'scan-ia64': `${TOOL} IA64`,
    'scan-ia64-expedited': `${TOOL} IA64 (expedited)`,
    'scan-arm64': `${TOOL} ARM64`,
    'scan-arm64-expedited': `${TOOL} ARM64 (expedited)`,
    sync: `${TOOL} Sync`,
  },
  collections: {
    main: TOOL,
    pilot: `${TOOL} (pre-production)`,
    x64: `${TOOL} x64`,
    ia64: `${TOOL} IA64`,
    arm64: `${TOOL} ARM64`,
    sync: `${TOOL} Sync`,
  },
};

interface CollectionSpec {
  readonly role: CollectionRole;
  /** Membership query: clients of this architecture ('*': every client); undefined: direct members only. */
  readonly architecture?: Variant | '*';
  readonly limitTo?: CollectionRole;
}

const COLLECTIONS: readonly CollectionSpec[] = [
  { role: 'pilot' },
  // Every client, limited at first to the pre-production collection: only the test computer is scanned.
  { role: 'main', architecture: '*', limitTo: 'pilot' },
  { role: 'x64', architecture: 'x64', limitTo: 'main' },
  { role: 'ia64', architecture: 'ia64', limitTo: 'main' },
  { role: 'arm64', architecture: 'arm64', limitTo: 'main' },
  { role: 'sync' },
];

/** Which collection advertises each variant's programs (x86 through the main collection, as in the seed). */
const VARIANT_COLLECTION: Readonly<Record<Variant, CollectionRole>> = { x86: 'main', x64: 'x64', ia64: 'ia64', arm64: 'arm64' };

interface ProgramSpec {
  readonly role: ProgramRole;
  readonly variant: Variant | null;
  readonly expedited: boolean;
  readonly commandLine: string;
  readonly collection: CollectionRole;
  readonly schedule: string;
}

function programSpecs(): ProgramSpec[] {
  const specs: ProgramSpec[] = [];
  for (const v of VARIANTS) {
    const collect = `powershell -File Collect-PatchscanInventory.ps1 -Out inventory.json; patchscan upload --server %PATCHSCAN_SERVER% --token %PATCHSCAN_TOKEN% inventory.json`;
    specs.push({ role: `scan-${v}`, variant: v, expedited: false, commandLine: collect, collection: VARIANT_COLLECTION[v], schedule: 'every 7 days' });
    specs.push({ role: `scan-${v}-expedited`, variant: v, expedited: true, commandLine: `${collect} --expedited`, collection: VARIANT_COLLECTION[v], schedule: 'as soon as possible, after each deployment' });
  }
  specs.push({ role: 'sync', variant: null, expedited: false, commandLine: 'patchscan sync', collection: 'sync', schedule: 'daily' });
  return specs;
}

export interface InitOptions {
  readonly names?: Partial<{ package: string; programs: Partial<Record<ProgramRole, string>>; collections: Partial<Record<CollectionRole, string>> }>;
  /** The computer in the pre-production collection (default: the sync host). */
  readonly testComputer: string;
  /** The computer in the Sync collection (the host that runs `patchscan sync`). */
  readonly syncHost: string;
}

function resolveNames(o: InitOptions['names']): SiteNames {
  return {
    package: o?.package ?? DEFAULT_NAMES.package,
    programs: { ...DEFAULT_NAMES.programs, ...o?.programs },
    collections: { ...DEFAULT_NAMES.collections, ...o?.collections },
  };
}

export interface ObjectProblem {
  readonly kind: 'package' | 'program' | 'collection' | 'advertisement' | 'member';
  readonly role: string;
  readonly name: string;
  readonly problem: string;
}

const idOf = (store: SiteStore, table: string, role: string): number | undefined =>
  (store.stmt(`SELECT id FROM ${table} WHERE role = ?`).get(role) as { id: number } | undefined)?.id;

/** Every object that should exist and does not (or is wrong); empty when the site is whole. */
export function verifyObjects(store: SiteStore): ObjectProblem[] {
  const names = storedNames(store);
  const problems: ObjectProblem[] = [];
  if (idOf(store, 'packages', 'package') === undefined) problems.push({ kind: 'package', role: 'package', name: names.package, problem: 'missing' });
  for (const c of COLLECTIONS) if (idOf(store, 'collections', c.role) === undefined) problems.push({ kind: 'collection', role: c.role, name: names.collections[c.role], problem: 'missing' });
  for (const p of programSpecs()) {
    if (idOf(store, 'programs', p.role) === undefined) problems.push({ kind: 'program', role: p.role, name: names.programs[p.role], problem: 'missing' });
    if (idOf(store, 'advertisements', p.role) === undefined) problems.push({ kind: 'advertisement', role: p.role, name: advertisementName(names, p), problem: 'missing' });
  }
  for (const [role, setting] of [['pilot', 'test_computer'], ['sync', 'sync_host']] as const) {
    const computer = store.setting(setting);
    const cid = idOf(store, 'collections', role);
    if (computer && cid !== undefined && !store.stmt('SELECT 1 FROM collection_members WHERE collection_id = ? AND computer = ?').get(cid, computer)) {
      problems.push({ kind: 'member', role, name: computer, problem: `not a member of ${names.collections[role]}` });
    }
  }
  return problems;
}

function advertisementName(names: SiteNames, p: ProgramSpec): string {
  return `${names.programs[p.role]} → ${names.collections[p.collection]}`;
}

/** The names in use: stored ones where objects exist, else the ones init recorded, else the seed's. */
function storedNames(store: SiteStore): SiteNames {
  const saved = store.setting('object_names');
  return saved ? (JSON.parse(saved) as SiteNames) : DEFAULT_NAMES;
}

/**
 * Creates whatever is missing (all of it on a new site). Existing objects are left as they are — including a
 * collection an administrator already unlimited.
 */
export function ensureObjects(store: SiteStore, o?: InitOptions): { created: ObjectProblem[] } {
  return store.tx(() => {
    if (o) {
      if (o.names || !store.setting('object_names')) store.setSetting('object_names', JSON.stringify(resolveNames(o.names)));
      store.setSetting('test_computer', o.testComputer);
      store.setSetting('sync_host', o.syncHost);
    }
    const names = storedNames(store);
    const created = verifyObjects(store);
    if (idOf(store, 'packages', 'package') === undefined) store.stmt('INSERT INTO packages (role, name) VALUES (?, ?)').run('package', names.package);
    const packageId = idOf(store, 'packages', 'package')!;
    for (const c of COLLECTIONS) {
      if (idOf(store, 'collections', c.role) !== undefined) continue;
      const limit = c.limitTo ? idOf(store, 'collections', c.limitTo) ?? null : null;
      store.stmt('INSERT INTO collections (role, name, architecture, limit_to) VALUES (?, ?, ?, ?)').run(c.role, names.collections[c.role], c.architecture ?? null, limit);
    }
    for (const [role, setting] of [['pilot', 'test_computer'], ['sync', 'sync_host']] as const) {
      const computer = store.setting(setting);
      if (computer) store.stmt('INSERT OR IGNORE INTO collection_members (collection_id, computer) VALUES (?, ?)').run(idOf(store, 'collections', role)!, computer);
    }
    for (const p of programSpecs()) {
      if (idOf(store, 'programs', p.role) === undefined) {
        store.stmt('INSERT INTO programs (role, package_id, name, variant, expedited, command_line) VALUES (?, ?, ?, ?, ?, ?)')
          .run(p.role, packageId, names.programs[p.role], p.variant, p.expedited ? 1 : 0, p.commandLine);
      }
      if (idOf(store, 'advertisements', p.role) === undefined) {
        store.stmt('INSERT INTO advertisements (role, name, program_id, collection_id, schedule) VALUES (?, ?, ?, ?, ?)')
          .run(p.role, advertisementName(names, p), idOf(store, 'programs', p.role)!, idOf(store, 'collections', p.collection)!, p.schedule);
      }
    }
    return { created };
  });
}

/** What removing the tool takes with it: its collections and advertisements too (the caller warns first). */
export function objectsToRemove(store: SiteStore): { collections: string[]; advertisements: string[]; programs: string[] } {
  const col = (sql: string): string[] => (store.stmt(sql).all() as { name: string }[]).map((r) => r.name);
  return {
    collections: col('SELECT name FROM collections ORDER BY id'),
    advertisements: col('SELECT name FROM advertisements ORDER BY id'),
    programs: col('SELECT name FROM programs ORDER BY id'),
  };
}

export function removeObjects(store: SiteStore): void {
  store.tx(() => {
    store.db.exec('DELETE FROM advertisements; DELETE FROM collection_members; DELETE FROM collections; DELETE FROM programs; DELETE FROM packages;');
  });
}

export interface CollectionInfo {
  readonly id: number;
  readonly role: string;
  readonly name: string;
  readonly architecture: string | null;
  readonly limitTo: string | null;
  readonly members: string[];
}

export function collectionByName(store: SiteStore, name: string): { id: number; role: string; name: string; architecture: string | null; limit_to: number | null } | undefined {
  return store.stmt('SELECT id, role, name, architecture, limit_to FROM collections WHERE name = ?').get(name) as { id: number; role: string; name: string; architecture: string | null; limit_to: number | null } | undefined;
}
