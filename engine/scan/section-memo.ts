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
import { OS_FIELDS_READ } from '../eval/rules/os.js';
import type { Inventory } from '../inventory/types.js';
import type { FactKind } from '../rules/facts.js';
import { relevantDetails, type RelevantDetails } from './result-cache.js';

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
const SECTION_COUNT = 14;

/** The sections each kind of fact is resolved from (context.ts `resolve` and machine.ts say how). */
const SECTIONS_OF_KIND: Readonly<Record<FactKind, number>> = {
  os: Section.Os,
  osLanguage: Section.Os,
  muiLanguages: Section.Os,
  systemMetric: Section.SystemMetrics,
  processor: Section.Processor,
  cluster: Section.Cluster,
  file: Section.Files | Section.Csidl,
  // The folder comes from a registry string (read in the machine's registry view), the file from `files`.
  fileUnderRegSz: Section.Files | Section.Registry | Section.Processor,
  // Processor: 32-bit machines have one registry view.
  regKey: Section.Registry | Section.Processor,
  regValue: Section.Registry | Section.Processor,
  regSubtree: Section.Registry | Section.Processor,
  wmi: Section.Wmi,
  genericQuery: 0,
  licenseDword: Section.Licensing,
  msiProduct: Section.Msi,
  msiPatch: Section.Msi,
  msiPatchMetadata: Section.Msi,
  msiFeature: Section.Msi,
  msiComponent: Section.Msi,
  cbsPackage: Section.Cbs,
  driver: 0,
  productRelease: Section.ProductReleases,
  deviceAttribute: Section.DeviceAttributes,
  appxPackage: 0,
  hardware: 0,
};

/** Rules that read the machine beyond their facts (packages.ts: CbsPackageInstallable infers from OS, UBR and CPU). */
const EXTRA_SECTIONS_OF_RULE: Readonly<Record<string, number>> = {
  CbsPackageInstallable: Section.Os | Section.OsRevision | Section.Processor | Section.Cbs,
};

/** Where a section's text goes in {@link sectionTexts}: the position of its bit (key builders test `1 << s`). */
const slotOf = (section: Section): number => 31 - Math.clz32(section);

/** Each section of a machine as text, projected to what rules read; '' when the section is missing. */
function sectionTexts(inv: Inventory, d: RelevantDetails): string[] {
  const texts = new Array<string>(SECTION_COUNT);
  // Each text is filed under its own Section member, so the enum's order cannot drift from this list's.
  const put = (section: Section, v: unknown): void => {
    texts[slotOf(section)] = v === undefined ? '' : JSON.stringify(v);
  };
  const os = inv.os;
  put(Section.Os, os && OS_FIELDS_READ.map((k) => os[k] ?? null));
  put(Section.Processor, inv.processor && (d.processorDetail ? inv.processor : inv.processor.architecture));
  put(Section.Cluster, inv.cluster);
  put(Section.Csidl, inv.csidl);
  put(Section.Files, inv.files?.map((f) => [f.path, f.exists, f.version ?? null, d.fileSize ? f.size ?? null : 0, d.fileDates ? [f.created ?? null, f.modified ?? null] : 0, d.fileLanguage ? f.language ?? null : 0]));
  put(Section.Registry, inv.registry);
  put(Section.Wmi, inv.wmi);
  put(Section.Licensing, inv.licensing);
  put(Section.SystemMetrics, inv.systemMetrics);
  put(Section.DeviceAttributes, inv.deviceAttributes);
  put(Section.ProductReleases, inv.productReleases);
  put(Section.Cbs, inv.cbs);
  put(Section.Msi, inv.msi);
  put(Section.OsRevision, os?.ubr);
  return texts;
}

/** Memory bounds of a {@link SectionMemo}. */
export interface SectionMemoLimits {
  /** Value arrays kept (bytes; oldest dropped first past it). Default 48 MiB per scanner (per worker thread). */
  readonly bytes?: number;
  /** Distinct section contents numbered before everything starts over. Default 50,000. */
  readonly sectionTexts?: number;
}

/** The sections node `id` (and its subtree) reads, memoized in `known` (-1: not computed yet). */
function maskOf(c: Catalog, id: number, known: Int32Array): number {
  if (known[id]! >= 0) return known[id]!;
  const nodes = c.data.nodes;
  let m = 0;
  // A kind of fact missing from the table reads "everything": never shared wrongly.
  for (const f of c.nodeFacts(id)) m |= SECTIONS_OF_KIND[c.fact(f).kind as FactKind] ?? 0x7fffffff;
  const op = nodes.op[id]!;
  if (op >= RULE_OP_BASE) m |= EXTRA_SECTIONS_OF_RULE[c.data.ruleTypes[op - RULE_OP_BASE] ?? ''] ?? 0;
  for (let k = nodes.childOffsets[id]!; k < nodes.childOffsets[id + 1]!; k++) m |= maskOf(c, nodes.children[k]!, known);
  known[id] = m;
  return m;
}

export class SectionMemo {
  /**
   * Per rule slot (update × 3 + slot): the group of its root (the distinct set of sections it reads; -1: no rule)
   * and its place in the group's value arrays. Per slot rather than per node: a scan visits slots in update order,
   * so these are read sequentially instead of at random places (cache misses are most of a scan's cost).
   */
  readonly slotGroup: Int32Array;
  readonly slotLocal: Int32Array;
  private readonly groupMasks: number[] = [];
  private readonly groupSizes: number[] = [];
  private readonly maskGroup = new Map<number, number>();
  /** Per group: content key → values of its roots (-1: not evaluated yet). Insertion order = age. */
  private readonly variants: Map<string, Int8Array>[] = [];
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
    const n = catalog.data.nodes.count;
    const groupOf = new Int32Array(n); // group + 1 per root node, 0 until seen
    const local = new Int32Array(n);
    const nodeMask = new Int32Array(n).fill(-1); // sections read by each node's subtree, -1 until computed
    this.details = relevantDetails(catalog);
    // Every slot root gets its group and place up front: value arrays then have a fixed size per group.
    const rules = catalog.data.updates.rules;
    for (let k = 0; k < rules.length; k++) {
      const root = rules[k]!;
      if (root < 0 || groupOf[root] !== 0) continue;
      const mask = maskOf(catalog, root, nodeMask);
      let g = this.maskGroup.get(mask);
      if (g === undefined) {
        g = this.groupMasks.length;
        this.maskGroup.set(mask, g);
        this.groupMasks.push(mask);
        this.groupSizes.push(0);
        this.variants.push(new Map());
      }
      groupOf[root] = g + 1;
      local[root] = this.groupSizes[g]!++;
    }
    this.slotGroup = new Int32Array(rules.length).fill(-1);
    this.slotLocal = new Int32Array(rules.length);
    for (let k = 0; k < rules.length; k++) {
      const root = rules[k]!;
      if (root < 0) continue;
      this.slotGroup[k] = groupOf[root]! - 1;
      this.slotLocal[k] = local[root]!;
    }
  }

  /** A machine's view of the memo: one value array per group, found on first use. */
  forMachine(inv: Inventory): MachineMemo {
    return new MachineMemo(this, inv);
  }

  /** @internal */
  sectionIdsOf(inv: Inventory): Int32Array {
    const texts = sectionTexts(inv, this.details);
    const ids = new Int32Array(SECTION_COUNT);
    for (let s = 0; s < SECTION_COUNT; s++) {
      const m = this.sectionIds[s]!;
      let id = m.get(texts[s]!);
      if (id === undefined) {
        id = m.size;
        m.set(texts[s]!, id);
      }
      ids[s] = id;
    }
    return ids;
  }

  /** @internal The value array of group `g` for a machine with these section ids. */
  variant(g: number, sectionIds: Int32Array): Int8Array {
    const mask = this.groupMasks[g]!;
    let key = '';
    for (let s = 0; s < SECTION_COUNT; s++) if (mask & (1 << s)) key += `${sectionIds[s]},`;
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
    return this.groupMasks.length;
  }
}

export class MachineMemo {
  private ids: Int32Array | undefined;
  private readonly arrays: (Int8Array | undefined)[];
  private generation: number;

  constructor(private readonly memo: SectionMemo, private readonly inv: Inventory) {
    this.arrays = new Array<Int8Array | undefined>(memo.groups);
    this.generation = memo.generation;
  }

  /** The value array shared by machines whose sections read by rule slot `q` (update × 3 + slot) equal this one's. */
  valuesForSlot(q: number): Int8Array {
    return this.valuesOfGroup(this.memo.slotGroup[q]!);
  }

  /** Counts one slot value taken from an earlier machine (`true`) or evaluated. */
  count(shared: boolean): void {
    if (shared) this.memo.shared++;
    else this.memo.evaluated++;
  }

  /** Where rule slot `q`'s value is in {@link valuesForSlot}. */
  slotIndex(q: number): number {
    return this.memo.slotLocal[q]!;
  }

  private valuesOfGroup(g: number): Int8Array {
    if (this.generation !== this.memo.generation) {
      // Everything was dropped and section ids renumbered: key this machine again.
      this.ids = undefined;
      this.arrays.fill(undefined);
      this.generation = this.memo.generation;
    }
    let a = this.arrays[g];
    if (a === undefined) {
      this.ids ??= this.memo.sectionIdsOf(this.inv);
      a = this.memo.variant(g, this.ids);
      this.arrays[g] = a;
    }
    return a;
  }
}
