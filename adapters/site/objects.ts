/**
 * ITMU's site objects — the package, its programs, the collections and the advertisements that tie them —
 * created by `patchscan init` with the seed's default names (Configuration Manager 2007, "How to install the
 * Inventory Tool for Microsoft Updates"), checked by `verify`, recreated by `verify --repair`.
 *
 * Each object has a stable role; names are what administrators see and may be overridden. The main collection
 * starts limited to the pre-production collection (the test computer); `collection unlimit` lifts that.
 */
import type { CollectionRow, SiteStore } from '../store/port.js';

export type Variant = 'x86' | 'x64' | 'ia64' | 'arm64';
export const VARIANTS: readonly Variant[] = ['x86', 'x64', 'ia64', 'arm64'];

/** PROCESSOR_ARCHITECTURE values (reference §3.8) → program variant. */
export function variantOf(architecture: number | undefined): Variant | undefined {
  switch (architecture) {
    case 0:
      return 'x86';
    case 9:
      return 'x64';
    case 6:
      return 'ia64';
    case 12:
      return 'arm64';
    default:
      return undefined;
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
    const collect =
      `powershell -File Collect-PatchscanInventory.ps1 -Out inventory.json; patchscan ` +
      `upload --server %PATCHSCAN_SERVER% --token %PATCHSCAN_TOKEN% inventory.json`;
    specs.push({
      role: `scan-${v}`,
      variant: v,
      expedited: false,
      commandLine: collect,
      collection: VARIANT_COLLECTION[v],
      schedule: 'every 7 days',
    });
    specs.push({
      role: `scan-${v}-expedited`,
      variant: v,
      expedited: true,
      commandLine: `${collect} --expedited`,
      collection: VARIANT_COLLECTION[v],
      schedule: 'as soon as possible, after each deployment',
    });
  }
  specs.push({ role: 'sync', variant: null, expedited: false, commandLine: 'patchscan sync', collection: 'sync', schedule: 'daily' });
  return specs;
}

export interface InitOptions {
  readonly names?: Partial<{
    package: string;
    programs: Partial<Record<ProgramRole, string>>;
    collections: Partial<Record<CollectionRole, string>>;
  }>;
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

const KIND_OF = { packages: 'package', programs: 'program', collections: 'collection', advertisements: 'advertisement' } as const;
const idOf = (store: SiteStore, table: keyof typeof KIND_OF, role: string): Promise<number | undefined> =>
  store.objectId(KIND_OF[table], role);

/** Every object that should exist and does not (or is wrong); empty when the site is whole. */
export async function verifyObjects(store: SiteStore): Promise<ObjectProblem[]> {
  const names = await storedNames(store);
  const problems: ObjectProblem[] = [];
  if ((await idOf(store, 'packages', 'package')) === undefined)
    problems.push({ kind: 'package', role: 'package', name: names.package, problem: 'missing' });
  for (const c of COLLECTIONS)
    if ((await idOf(store, 'collections', c.role)) === undefined)
      problems.push({ kind: 'collection', role: c.role, name: names.collections[c.role], problem: 'missing' });
  for (const p of programSpecs()) {
    if ((await idOf(store, 'programs', p.role)) === undefined)
      problems.push({ kind: 'program', role: p.role, name: names.programs[p.role], problem: 'missing' });
    if ((await idOf(store, 'advertisements', p.role)) === undefined)
      problems.push({ kind: 'advertisement', role: p.role, name: advertisementName(names, p), problem: 'missing' });
  }
  for (const [role, setting] of [
    ['pilot', 'test_computer'],
    ['sync', 'sync_host'],
  ] as const) {
    const computer = await store.setting(setting);
    const cid = await idOf(store, 'collections', role);
    if (computer && cid !== undefined && !(await store.isMember(cid, computer))) {
      problems.push({ kind: 'member', role, name: computer, problem: `not a member of ${names.collections[role]}` });
    }
  }
  return problems;
}

function advertisementName(names: SiteNames, p: ProgramSpec): string {
  return `${names.programs[p.role]} → ${names.collections[p.collection]}`;
}

/** The names in use: stored ones where objects exist, else the ones init recorded, else the seed's. */
async function storedNames(store: SiteStore): Promise<SiteNames> {
  const saved = await store.setting('object_names');
  return saved ? (JSON.parse(saved) as SiteNames) : DEFAULT_NAMES;
}

/**
 * Creates whatever is missing (all of it on a new site). Existing objects are left as they are — including a
 * collection an administrator already unlimited.
 */
export function ensureObjects(store: SiteStore, o?: InitOptions): Promise<{ created: ObjectProblem[] }> {
  return store.transaction(async (store) => {
    if (o) {
      if (o.names || !(await store.setting('object_names'))) await store.setSetting('object_names', JSON.stringify(resolveNames(o.names)));
      await store.setSetting('test_computer', o.testComputer);
      await store.setSetting('sync_host', o.syncHost);
    }
    const names = await storedNames(store);
    const created = await verifyObjects(store);
    const packageId = (await idOf(store, 'packages', 'package')) ?? (await store.addPackage('package', names.package));
    for (const c of COLLECTIONS) {
      if ((await idOf(store, 'collections', c.role)) !== undefined) continue;
      const limit = c.limitTo ? ((await idOf(store, 'collections', c.limitTo)) ?? null) : null;
      await store.addCollection({ role: c.role, name: names.collections[c.role], architecture: c.architecture ?? null, limitTo: limit });
    }
    for (const [role, setting] of [
      ['pilot', 'test_computer'],
      ['sync', 'sync_host'],
    ] as const) {
      const computer = await store.setting(setting);
      if (computer) await store.addMember((await idOf(store, 'collections', role))!, computer);
    }
    for (const p of programSpecs()) {
      const programId =
        (await idOf(store, 'programs', p.role)) ??
        (await store.addProgram({
          role: p.role,
          packageId,
          name: names.programs[p.role],
          variant: p.variant,
          expedited: p.expedited,
          commandLine: p.commandLine,
        }));
      if ((await idOf(store, 'advertisements', p.role)) === undefined) {
        await store.addAdvertisement({
          role: p.role,
          name: advertisementName(names, p),
          programId,
          collectionId: (await idOf(store, 'collections', p.collection))!,
          schedule: p.schedule,
        });
      }
    }
    return { created };
  });
}

/** What removing the tool takes with it: its collections and advertisements too (the caller warns first). */
export async function objectsToRemove(store: SiteStore): Promise<{ collections: string[]; advertisements: string[]; programs: string[] }> {
  return {
    collections: await store.objectNames('collection'),
    advertisements: await store.objectNames('advertisement'),
    programs: await store.objectNames('program'),
  };
}

export function removeObjects(store: SiteStore): Promise<void> {
  return store.removeObjects();
}

export function collectionByName(store: SiteStore, name: string): Promise<CollectionRow | undefined> {
  return store.collectionByName(name);
}
