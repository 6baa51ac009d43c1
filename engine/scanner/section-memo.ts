/**
 * Rule results shared across machines by the inventory sections they read.
 *
 * A rule tree's value is a function of the inventory sections its facts come from: a FileVersion rule reads
 * `files` (and `csidl`), a registry rule `registry` (and `processor`, for the 32-bit view), WindowsVersion `os`.
 * Machines of one image share most sections — a machine whose registry was not collected has the files, packages
 * and products of its neighbours at the same patch level — so a first-of-a-profile scan can take most slot values
 * from earlier machines instead of evaluating them. The memo is keyed per slot root by the content of exactly the
 * sections the root reads, projected to what rules can read (no unread file or processor details; the UBR is a
 * section apart from the rest of `os`, read only by CbsPackageInstallable), so equal keys mean equal rule inputs; a
 * different key only costs an evaluation.
 *
 * Memory is bounded: variants (one per distinct content of a group of sections) are dropped oldest first past
 * the budget.
 */
import type { Catalog } from '../catalog/catalog.js';
import { RULE_OP_BASE } from '../catalog/data.js';
import { createHash } from 'node:crypto';
import { isDetectoidOrCategory, isReportableCode } from '../catalog/codes.js';
import { SCAN_INDEX_VERSION, scanIndexOf, type ScanIndex, type SectionPlaces } from '../catalog/scan-index.js';
import { DEPLOYMENT_ACTIONS, UPDATE_TYPES } from '../model.js';
import { RULES } from '../rules/registry.js';
import { normalizeGuid, registryKeyText } from '../inventory/machine.js';
import type { Inventory } from '../inventory/types.js';
import { FACT_KINDS, type FactKind } from '../rules/facts.js';
import { FACT_SECTIONS, INVENTORY_SECTIONS, OS_FIELDS_READ, ruleReads, type InventorySection } from '../rules/reads.js';
import { relevantDetails, type RelevantDetails } from '../catalog/relevant-details.js';
import { TextMemo } from '../text-memo.js';

const enum Section {
  Os = 1 << 0,
  Processor = 1 << 1,
  Cluster = 1 << 2,
  Csidl = 1 << 3,
  Files = 1 << 4,
  Registry = 1 << 5,
  Wmi = 1 << 6,
  Licensing = 1 << 7,
  SystemMetrics = 1 << 8,
  DeviceAttributes = 1 << 9,
  ProductReleases = 1 << 10,
  Cbs = 1 << 11,
  Msi = 1 << 12,
  /** The OS section's UBR, apart: only CbsPackageInstallable reads it (machines of one build differ in it). */
  OsRevision = 1 << 13,
}

/** The bit of each section rules/reads.ts names (a Record: a section added there without a bit does not compile). */
export const SECTION_BIT: Readonly<Record<InventorySection, Section>> = {
  os: Section.Os,
  osRevision: Section.OsRevision,
  processor: Section.Processor,
  cluster: Section.Cluster,
  csidl: Section.Csidl,
  files: Section.Files,
  registry: Section.Registry,
  wmi: Section.Wmi,
  licensing: Section.Licensing,
  systemMetrics: Section.SystemMetrics,
  deviceAttributes: Section.DeviceAttributes,
  productReleases: Section.ProductReleases,
  cbs: Section.Cbs,
  msi: Section.Msi,
};
const WHOLE_SECTIONS = INVENTORY_SECTIONS.length;
const maskOfSections = (sections: readonly InventorySection[]): number => sections.reduce((m, s) => m | SECTION_BIT[s], 0);

/** The sections each kind of fact is resolved from, as a mask (from rules/reads.ts FACT_SECTIONS). */
const SECTIONS_OF_KIND = Object.fromEntries(FACT_KINDS.map((k) => [k, maskOfSections(FACT_SECTIONS[k])])) as Readonly<
  Record<FactKind, number>
>;

/** The sections a rule type reads beyond its facts, as a mask (from rules/reads.ts RULE_READS), memoized per type. */
const extraSectionsOfRule = new Map<string, number>();
function extraSections(type: string): number {
  let m = extraSectionsOfRule.get(type);
  if (m === undefined) extraSectionsOfRule.set(type, (m = maskOfSections(ruleReads(type).sections ?? [])));
  return m;
}

/*
 * Files, registry keys and MSI products are split into buckets, by file name, key path and product code: a machine
 * whose Defender or Office version drifted from its image-mates differs from them in one or two buckets, so rules
 * reading other files, keys or products still take their values from those machines. A fact reads the buckets its
 * lookup can touch (machine.ts): a file's name; a key's path and every ancestor's (the nearest collected ancestor
 * decides about a key that is not listed); a product's code. Anything it cannot place reads them all.
 */
const FILE_BUCKETS = 64;
const REG_BUCKETS = 32;
const MSI_BUCKETS = 16;
const FILE_BASE = WHOLE_SECTIONS; // after the whole sections (bits 0..13 of Section)
const REG_BASE = FILE_BASE + FILE_BUCKETS;
const MSI_BASE = REG_BASE + REG_BUCKETS;
/**
 * The MSI buckets again, each product cut to its code and patches: what a rule reading no other field of the product
 * it names sees (reads.ts `msiProductFields`) — Office's patch rules, whose machines drift in Office's version.
 */
const MSI_PATCHES_BASE = MSI_BASE + MSI_BUCKETS;
/**
 * The registry buckets again, each key cut to what a lookup of a key below it reads (machine.ts regKey): whether it
 * is listed, exists, and its subkeys — not its values. A rule reads its own key's bucket whole and its ancestors'
 * this way, so a DWORD that drifted in a parent key leaves the rules about its subkeys shared.
 */
const REG_TREE_BASE = MSI_PATCHES_BASE + MSI_BUCKETS;
/** @internal How many sections a machine is keyed by: the whole sections, then every bucket. */
export const SECTION_COUNT = REG_TREE_BASE + REG_BUCKETS;
const MASK_WORDS = Math.ceil(SECTION_COUNT / 32);

/** FNV-1a over UTF-16 units: bucket of a (lower-case) name. */
function bucketOf(text: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) % buckets;
}
/** A file's bucket: its name (the last path component), lower case — what a rule's path and the inventory's share. */
function fileBucketOf(path: string): number {
  const p = path.toLowerCase();
  return bucketOf(p.slice(Math.max(p.lastIndexOf('\\'), p.lastIndexOf('/')) + 1), FILE_BUCKETS);
}
/**
 * Buckets of the paths and keys machines list, kept by text: machines of a fleet list the same few hundred files and
 * keys, and lower-casing and hashing each again was most of digesting a machine.
 */
const fileBuckets = new TextMemo<number>(65_536, fileBucketOf);
// A key's bucket: its path as machine.ts keys it (registryKeyText), the view left out.
const regBuckets = new TextMemo<number>(65_536, (k) => bucketOf(registryKeyText(k), REG_BUCKETS));
const fileBucket = (path: string): number => fileBuckets.get(path);
const regBucket = (key: string): number => regBuckets.get(key);
const msiBucket = (code: string): number => bucketOf(normalizeGuid(code), MSI_BUCKETS);

/**
 * A bucketed part of the inventory, partitioned: its items by bucket, undefined when the part was not collected. The
 * registry and the MSI products each back two families of texts (below) from one partition.
 */
type Partition<T> = (inv: Inventory) => T[][] | undefined;
function partitionBy<T>(count: number, items: (inv: Inventory) => readonly T[] | undefined, bucket: (x: T) => number): Partition<T> {
  return (inv) => {
    const xs = items(inv);
    if (xs === undefined) return undefined;
    const parts: T[][] = Array.from({ length: count }, () => []);
    for (const x of xs) parts[bucket(x)]!.push(x);
    return parts;
  };
}
const FILES = partitionBy(
  FILE_BUCKETS,
  (inv) => inv.files,
  (f) => fileBucket(f.path),
);
const REGISTRY = partitionBy(
  REG_BUCKETS,
  (inv) => inv.registry,
  (k) => regBucket(k.key),
);
const MSI_PRODUCTS = partitionBy(
  MSI_BUCKETS,
  (inv) => inv.msi?.products,
  (p) => msiBucket(p.productCode),
);

/** A family of section texts: one per bucket of `of`, from section `base` on, each item projected to what rules read. */
interface Family {
  readonly base: number;
  readonly of: Partition<unknown>;
  readonly json: (bucket: readonly unknown[], d: RelevantDetails) => string;
}
const family = <T>(base: number, of: Partition<T>, text: (x: T, d: RelevantDetails) => unknown): Family => ({
  base,
  of,
  json: (bucket, d) => JSON.stringify((bucket as readonly T[]).map((x) => text(x, d))),
});
/** In section order: a family's texts run from its base to the next one's. */
const FAMILIES: readonly Family[] = [
  family(FILE_BASE, FILES, (f, d) => [
    f.path,
    f.exists,
    f.version ?? null,
    d.fileSize ? (f.size ?? null) : 0,
    d.fileDates ? [f.created ?? null, f.modified ?? null] : 0,
    d.fileLanguage ? (f.language ?? null) : 0,
  ]),
  family(REG_BASE, REGISTRY, (k) => k),
  family(MSI_BASE, MSI_PRODUCTS, (p) => p),
  family(MSI_PATCHES_BASE, MSI_PRODUCTS, (p) => [p.productCode, p.patches ?? null]),
  family(REG_TREE_BASE, REGISTRY, (k) => [k.key, k.view ?? null, k.exists, k.subkeys ?? null]),
];

/**
 * One machine's sections as texts, projected to what rules read ('' when the section is missing; a collected
 * section's empty bucket is '[]'), each built when first asked for: a scan reads the sections of a dozen groups, and
 * building all 206 texts of every machine was most of what keying it cost.
 */
class MachineSectionTexts {
  /** Per bucketed part, its items by bucket (made on the first of its texts asked for), or null when not collected. */
  private readonly partitions = new Map<Partition<unknown>, unknown[][] | null>();

  constructor(
    private readonly inv: Inventory,
    private readonly d: RelevantDetails,
  ) {}

  text(s: number): string {
    if (s < WHOLE_SECTIONS) return this.whole(1 << s);
    let f = FAMILIES[0]!;
    for (const g of FAMILIES) if (g.base <= s) f = g;
    let parts = this.partitions.get(f.of);
    if (parts === undefined) this.partitions.set(f.of, (parts = f.of(this.inv) ?? null));
    return parts === null ? '' : f.json(parts[s - f.base]!, this.d);
  }

  private whole(section: Section): string {
    const { inv, d } = this;
    const os = inv.os;
    const text = (v: unknown): string => (v === undefined ? '' : JSON.stringify(v));
    switch (section) {
      case Section.Os:
        return text(os && OS_FIELDS_READ.map((k) => os[k] ?? null));
      case Section.Processor:
        return text(inv.processor && (d.processorDetail ? inv.processor : inv.processor.architecture));
      case Section.Cluster:
        return text(inv.cluster);
      case Section.Csidl:
        return text(inv.csidl);
      case Section.Wmi:
        return text(inv.wmi);
      case Section.Licensing:
        return text(inv.licensing);
      case Section.SystemMetrics:
        return text(inv.systemMetrics);
      case Section.DeviceAttributes:
        return text(inv.deviceAttributes);
      case Section.ProductReleases:
        return text(inv.productReleases);
      case Section.Cbs:
        return text(inv.cbs);
      case Section.OsRevision:
        return text(os?.ubr);
      case Section.Files:
      case Section.Registry:
      case Section.Msi:
        // No text of their own: a mask naming one of these bits names all of its buckets too (setSections; a
        // fact of an unknown kind names every section).
        return '';
    }
  }
}

/** Memory bounds of a {@link SectionMemo}. */
export interface SectionMemoLimits {
  /** Value arrays kept (bytes; oldest dropped first past it). Default 48 MiB per scanner (per worker thread). */
  readonly bytes?: number;
  /** Distinct section contents numbered before everything starts over. Default 50,000. */
  readonly sectionTexts?: number;
}

/** Sets bit `s` of the mask at `m[at..]`. */
const setBit = (m: Int32Array, at: number, s: number): void => {
  m[at + (s >>> 5)]! |= 1 << (s & 31);
};
const setRange = (m: Int32Array, at: number, from: number, count: number): void => {
  for (let s = from; s < from + count; s++) setBit(m, at, s);
};
/**
 * Sets the sections of a mask of whole sections (Section bits): files, registry and MSI products as every one of
 * their buckets (they have no text of their own), the others as themselves.
 */
function setSections(m: Int32Array, at: number, sections: number): void {
  for (let s = 0; s < WHOLE_SECTIONS; s++) {
    const bit = 1 << s;
    if ((sections & bit) === 0) continue;
    if (bit === Section.Files) setRange(m, at, FILE_BASE, FILE_BUCKETS);
    else if (bit === Section.Registry) {
      setRange(m, at, REG_BASE, REG_BUCKETS);
      setRange(m, at, REG_TREE_BASE, REG_BUCKETS);
    } else if (bit === Section.Msi) {
      setRange(m, at, MSI_BASE, MSI_BUCKETS);
      setRange(m, at, MSI_PATCHES_BASE, MSI_BUCKETS);
    } else setBit(m, at, s);
  }
}

/**
 * The sections one fact is resolved from (context.ts `resolve` and machine.ts say how), into the mask at `at`.
 * `patchesOnly`: the reading rule reads no field of the MSI product it names but its patches (reads.ts).
 */
function factSections(
  kind: FactKind,
  args: readonly string[],
  loopRelative: boolean,
  patchesOnly: boolean,
  m: Int32Array,
  at: number,
): void {
  const whole = SECTIONS_OF_KIND[kind];
  if (whole === undefined) {
    // A kind of fact missing from the table reads "everything": never shared wrongly.
    setRange(m, at, 0, SECTION_COUNT);
    return;
  }
  for (let s = 0; s < WHOLE_SECTIONS; s++)
    if ((whole & (1 << s)) !== 0 && 1 << s !== Section.Files && 1 << s !== Section.Registry && 1 << s !== Section.Msi) setBit(m, at, s);
  const keyAndAncestors = (key: string): void => {
    const k = registryKeyText(key);
    setBit(m, at, REG_BASE + bucketOf(k, REG_BUCKETS));
    for (let cut = k.indexOf('\\'); cut >= 0; cut = k.indexOf('\\', cut + 1))
      if (cut > 0) setBit(m, at, REG_TREE_BASE + bucketOf(k.slice(0, cut), REG_BUCKETS));
  };
  switch (kind) {
    case 'file':
      setBit(m, at, FILE_BASE + fileBucket(args[1] ?? ''));
      return;
    case 'fileUnderRegSz':
      setBit(m, at, FILE_BASE + fileBucket(args[3] ?? ''));
      if (loopRelative) setRange(m, at, REG_BASE, REG_BUCKETS);
      else keyAndAncestors(args[1] ?? '');
      return;
    case 'regKey':
    case 'regValue':
      // Inside a RegKeyLoop the key is the subkey being visited: any key.
      if (loopRelative) setRange(m, at, REG_BASE, REG_BUCKETS);
      else keyAndAncestors(args[1] ?? '');
      return;
    case 'regSubtree':
      setRange(m, at, REG_BASE, REG_BUCKETS);
      return;
    case 'msiProduct':
      setBit(m, at, (patchesOnly ? MSI_PATCHES_BASE : MSI_BASE) + msiBucket(args[0] ?? ''));
      return;
    case 'msiPatch':
      setBit(m, at, (patchesOnly ? MSI_PATCHES_BASE : MSI_BASE) + msiBucket(args[1] ?? ''));
      return;
    case 'msiPatchMetadata':
    case 'msiFeature':
    case 'msiComponent':
      setRange(m, at, MSI_BASE, MSI_BUCKETS);
      return;
    default:
      // A kind not placed above that reads files, registry or MSI products reads all of their buckets.
      setSections(m, at, whole & (Section.Files | Section.Registry | Section.Msi));
  }
}

/** The sections node `id` (and its subtree) reads, into `masks` (MASK_WORDS per node), memoized by `done`. */
function maskOf(c: Catalog, id: number, masks: Int32Array, done: Uint8Array): void {
  if (done[id] === 1) return;
  const nodes = c.data.nodes;
  const at = id * MASK_WORDS;
  const op = nodes.op[id]!;
  const type = op >= RULE_OP_BASE ? (c.data.ruleTypes[op - RULE_OP_BASE] ?? '') : '';
  const productFields = type === '' ? undefined : ruleReads(type).msiProductFields;
  const patchesOnly = productFields !== undefined && productFields(c.nodeAttrs(id)).every((f) => f === 'patches');
  for (let k = nodes.factOffsets[id]!; k < nodes.factOffsets[id + 1]!; k++) {
    const info = c.fact(nodes.facts[k]!);
    factSections(info.kind, info.args, info.loopRelative, patchesOnly, masks, at);
  }
  if (type !== '') setSections(masks, at, extraSections(type));
  for (let k = nodes.childOffsets[id]!; k < nodes.childOffsets[id + 1]!; k++) {
    const child = nodes.children[k]!;
    maskOf(c, child, masks, done);
    for (let w = 0; w < MASK_WORDS; w++) masks[at + w]! |= masks[child * MASK_WORDS + w]!;
  }
  done[id] = 1;
}

export type { SectionPlaces } from '../catalog/scan-index.js';

let scheme: string | undefined;

/**
 * A digest of the tables a scan index is built by, beside the code itself: its version, the sections a machine is
 * keyed by and their buckets (with a few names hashed, so a changed hash shows), the sections each fact kind and rule
 * type reads, which update types and actions are reported and which are detectoids. An index built under another
 * scheme is left unread (scanIndexFor): a change to one of these tables cannot leave files written before it read
 * with a meaning they do not have. A change to how the index is built from them still needs SCAN_INDEX_VERSION bumped
 * (test/catalog/scan-index.test.ts says when).
 */
export function scanScheme(): string {
  if (scheme !== undefined) return scheme;
  const parts = {
    version: SCAN_INDEX_VERSION,
    sections: [WHOLE_SECTIONS, FILE_BUCKETS, REG_BUCKETS, MSI_BUCKETS, SECTION_COUNT],
    probes: [
      fileBucketOf('C:\\Windows\\System32\\ntoskrnl.exe'),
      bucketOf(registryKeyText('HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion'), REG_BUCKETS),
      msiBucket('{90160000-0011-0000-0000-0000000FF1CE}'),
    ],
    facts: FACT_KINDS.map((k) => [k, SECTIONS_OF_KIND[k]]),
    rules: Object.keys(RULES).map((t) => [t, extraSections(t), ruleReads(t).msiProductFields !== undefined]),
    reported: UPDATE_TYPES.map((_, t) => DEPLOYMENT_ACTIONS.map((_, a) => isReportableCode(t, a))),
    detectoids: UPDATE_TYPES.map((_, t) => isDetectoidOrCategory(t)),
  };
  return (scheme = createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32));
}

const usable = new WeakMap<Catalog['data'], ScanIndex | null>();

/** The scan index read with the catalog, when it was built under this build's scheme; else undefined (scans build it). */
export function scanIndexFor(c: Catalog): ScanIndex | undefined {
  let u = usable.get(c.data);
  if (u === undefined) {
    const index = scanIndexOf(c.data);
    u = index !== undefined && index.scheme === scanScheme() ? index : null;
    usable.set(c.data, u);
  }
  return u ?? undefined;
}

const placesOf = new WeakMap<Catalog['data'], SectionPlaces>();

/** The catalog's section places: from its scan index (a catalog file's), else built once per catalog. */
export function sectionPlaces(c: Catalog): SectionPlaces {
  let p = placesOf.get(c.data);
  if (p === undefined) {
    const stored = scanIndexFor(c)?.sections;
    // Places built with another number of sections are of another scheme (a scan index of the same version cannot
    // differ in it; checked all the same, since groups index a machine's section ids by it).
    p = stored !== undefined && stored.sectionCount === SECTION_COUNT ? stored : buildSectionPlaces(c);
    placesOf.set(c.data, p);
  }
  return p;
}

/** Builds the section places from the catalog's rules (~0.2 s for 50,000 revisions). */
export function buildSectionPlaces(catalog: Catalog): SectionPlaces {
  const n = catalog.data.nodes.count;
  const groupOf = new Int32Array(n); // group + 1 per root node, 0 until seen
  const local = new Int32Array(n);
  const nodeMasks = new Int32Array(n * MASK_WORDS); // sections read by each node's subtree
  const done = new Uint8Array(n);
  const maskGroup = new Map<string, number>();
  const sectionLists: number[][] = [];
  const sizes: number[] = [];
  // Every slot root gets its group and place up front: value arrays then have a fixed size per group.
  const rules = catalog.data.updates.rules;
  for (let k = 0; k < rules.length; k++) {
    const root = rules[k]!;
    if (root < 0 || groupOf[root] !== 0) continue;
    maskOf(catalog, root, nodeMasks, done);
    const words = nodeMasks.subarray(root * MASK_WORDS, (root + 1) * MASK_WORDS);
    const mask = words.join(',');
    let g = maskGroup.get(mask);
    if (g === undefined) {
      g = sizes.length;
      maskGroup.set(mask, g);
      const sections: number[] = [];
      for (let sec = 0; sec < SECTION_COUNT; sec++) if ((words[sec >>> 5]! & (1 << (sec & 31))) !== 0) sections.push(sec);
      sectionLists.push(sections);
      sizes.push(0);
    }
    groupOf[root] = g + 1;
    local[root] = sizes[g]!++;
  }
  const slotPlace = new Int32Array(rules.length * 2);
  for (let k = 0; k < rules.length; k++) {
    const root = rules[k]!;
    slotPlace[2 * k] = root < 0 ? -1 : groupOf[root]! - 1;
    slotPlace[2 * k + 1] = root < 0 ? 0 : local[root]!;
  }
  const groupSectionOffsets = new Int32Array(sizes.length + 1);
  for (let g = 0; g < sizes.length; g++) groupSectionOffsets[g + 1] = groupSectionOffsets[g]! + sectionLists[g]!.length;
  return {
    slotPlace,
    groupSectionOffsets,
    groupSections: Int32Array.from(sectionLists.flat()),
    groupSizes: Int32Array.from(sizes),
    sectionCount: SECTION_COUNT,
  };
}

export class SectionMemo {
  /**
   * Per rule slot q (update × 3 + slot), at 2q and 2q + 1: the group of its root (the distinct set of sections it
   * reads; -1: no rule) and its place in the group's value arrays. Per slot rather than per node, and the two side by
   * side: a scan visits slots in update order, so these are read sequentially, one cache line for both, instead of at
   * random places (cache misses are most of a scan's cost).
   */
  readonly slotPlace: Int32Array;
  /** Per group g: the sections it reads (indexes into a machine's section ids), `groupSections[groupSectionOffsets[g] ..]`. */
  private readonly groupSectionOffsets: Int32Array;
  private readonly groupSections: Int32Array;
  private readonly groupSizes: Int32Array;
  /** Per group: content key → values of its roots (-1: not evaluated yet). Insertion order = age. */
  private readonly variants: Map<string, Int8Array>[];
  /** Per section: content text → small id (so a group's key is a short string of ids). */
  private readonly sectionIds: Map<string, number>[] = Array.from({ length: SECTION_COUNT }, () => new Map());
  private readonly details: RelevantDetails;
  private bytes = 0;
  /** Bumped when everything is dropped: machines re-key (section ids are renumbered then). */
  generation = 0;
  /** Rule-slot values taken from an earlier machine, and evaluated (then kept for later ones). */
  shared = 0;
  evaluated = 0;

  private readonly budgetBytes: number;
  private readonly maxSectionTexts: number;

  constructor(catalog: Catalog, limits: SectionMemoLimits = {}) {
    this.budgetBytes = limits.bytes ?? 48 * 1024 * 1024;
    this.maxSectionTexts = limits.sectionTexts ?? 50_000;
    this.details = relevantDetails(catalog);
    const places = sectionPlaces(catalog);
    this.slotPlace = places.slotPlace;
    this.groupSectionOffsets = places.groupSectionOffsets;
    this.groupSections = places.groupSections;
    this.groupSizes = places.groupSizes;
    this.variants = Array.from({ length: places.groupSizes.length }, () => new Map<string, Int8Array>());
  }

  /** A machine's view of the memo: one value array per group, found on first use. */
  forMachine(inv: Inventory): MachineMemo {
    return new MachineMemo(this, inv);
  }

  /** @internal A machine's section texts, built as they are asked for. */
  textsOf(inv: Inventory): MachineSectionTexts {
    return new MachineSectionTexts(inv, this.details);
  }

  /** @internal The id of section `s`'s content `text` (numbered in the order contents are first seen). */
  sectionId(s: number, text: string): number {
    const m = this.sectionIds[s]!;
    let id = m.get(text);
    if (id === undefined) {
      id = m.size;
      m.set(text, id);
    }
    return id;
  }

  /** @internal The value array of group `g` for a machine whose section ids `idOf` gives. */
  variant(g: number, idOf: (section: number) => number): Int8Array {
    const sections = this.groupSections;
    let key = '';
    for (let k = this.groupSectionOffsets[g]!; k < this.groupSectionOffsets[g + 1]!; k++) key += `${idOf(sections[k]!)},`;
    const vs = this.variants[g]!;
    let arr = vs.get(key);
    if (arr === undefined) {
      arr = new Int8Array(this.groupSizes[g]!).fill(-1);
      vs.set(key, arr);
      this.bytes += arr.length + 64;
      if (this.bytes > this.budgetBytes || this.sectionIds.some((m) => m.size > this.maxSectionTexts)) this.evict(arr);
    }
    return arr;
  }

  /** Drops the oldest variants of every group (keeping `keep`) until half the budget is free. */
  private evict(keep: Int8Array): void {
    // The section-id tables grow with distinct contents: past a bound, everything starts over (new numbering).
    if (this.sectionIds.some((m) => m.size > this.maxSectionTexts)) {
      for (const m of this.sectionIds) m.clear();
      for (const vs of this.variants) vs.clear();
      this.bytes = 0;
      this.generation++;
      return;
    }
    for (const vs of this.variants) {
      for (const [k, a] of vs) {
        if (this.bytes <= this.budgetBytes / 2) return;
        if (a === keep) continue;
        vs.delete(k);
        this.bytes -= a.length + 64;
      }
    }
  }

  get groups(): number {
    return this.groupSizes.length;
  }
}

export class MachineMemo {
  private texts: MachineSectionTexts | undefined;
  /** Per section, its id for this machine, or -1 until a group read by the scan names it. */
  private readonly ids = new Int32Array(SECTION_COUNT).fill(-1);
  private readonly idOf = (s: number): number => {
    let id = this.ids[s]!;
    if (id < 0) {
      this.texts ??= this.memo.textsOf(this.inv);
      this.ids[s] = id = this.memo.sectionId(s, this.texts.text(s));
    }
    return id;
  };
  private readonly arrays: (Int8Array | undefined)[];
  private generation: number;

  constructor(
    private readonly memo: SectionMemo,
    private readonly inv: Inventory,
  ) {
    this.arrays = new Array<Int8Array | undefined>(memo.groups);
    this.generation = memo.generation;
  }

  /** Per rule slot: its group (-1: no rule) and its place in the group's value array, side by side (SectionMemo's, read-only). */
  get slotPlace(): Int32Array {
    return this.memo.slotPlace;
  }

  /** Counts slot values taken from earlier machines and evaluated (for ruleValueStats). */
  countMany(shared: number, evaluated: number): void {
    this.memo.shared += shared;
    this.memo.evaluated += evaluated;
  }

  private sync(): void {
    if (this.generation !== this.memo.generation) {
      // Everything was dropped and section ids renumbered: key this machine again.
      this.ids.fill(-1);
      this.arrays.fill(undefined);
      this.generation = this.memo.generation;
    }
  }

  /** The value array of group `g` for this machine (machines whose sections read by the group equal this one's share it). */
  valuesOfGroup(g: number): Int8Array {
    this.sync();
    let a = this.arrays[g];
    if (a === undefined) {
      a = this.memo.variant(g, this.idOf);
      this.arrays[g] = a;
    }
    return a;
  }
}
