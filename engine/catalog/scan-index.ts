/**
 * A catalog's scan index: what every fleet scan of a catalog needs before its first machine and can only get by
 * walking the whole catalog — updates grouped by prerequisite list (scanner/prerequisite-classes.ts), the order
 * decisions read them in (fleet/flat-decisions.ts), each rule slot's place among the values machines share
 * (scanner/section-memo.ts). A function of the catalog alone: built (fleet/scan-index.ts) when a catalog file is
 * written and stored in it, so that neither a process nor each of its worker threads walks 50,000 revisions again
 * (~0.3 s each, before any machine; bench/RESULTS.md). A catalog without one — compiled in memory, or read from a file
 * written before it existed — builds each part on first use, as before.
 *
 * Here: its shape, its version and its check; the catalog layer reads and writes it without knowing how it is built.
 * It is kept beside the data it was read with (scanIndexOf), never in it: data made from other data has none.
 * The index is only as right as the code that reads it. Each index records the scheme it was built under — a digest
 * of the tables it is built by (scanner/section-memo.ts `scanScheme`) — and one of another scheme is left unread; a
 * change to how any part is built from them (a class's key, the layout's order, a bucket's hash) must bump
 * SCAN_INDEX_VERSION, and one of another version is left unread too (scans build their own).
 * test/catalog/scan-index.test.ts holds, per scheme, the digest of the indexes of a fixed set of catalogs and fails when
 * they change under the same scheme. Its prepared rule leaves (PreparedLeaves) have a version and a scheme of their own
 * (eval/leaf-scheme.ts), apart from the rest: of another version they are left unread, of another scheme unused, and
 * the rest of the index is read either way. An index read from a file is checked before anything reads it: its shape and
 * bounds (every length, offset and number within what the catalog and the index hold), and what can be checked in a
 * few reads per update against the catalog (a permutation; each position's class, superseders and reported updates;
 * bundled updates placed before their bundle; no group larger than its rule slots) — not the groups' sections, which
 * cost what building them costs.
 */
import { RULE_OP_BASE, type CatalogData } from './data.js';
import { normalizeGuid } from '../inventory/machine.js';
import type { PatchscanError } from '../errors.js';

/** Bump when any part of the index is built differently (see above). */
export const SCAN_INDEX_VERSION = 1;

export interface ScanIndex {
  readonly version: number;
  /**
   * A digest of the tables the index was built by (scanner/section-memo.ts `scanScheme`: this version, the sections
   * and their buckets, the sections each fact kind and rule type reads, which updates are reported): an index of
   * another scheme is left unread, so a change to one of those tables needs no version bump to stay safe.
   */
  readonly scheme: string;
  readonly classes: PrerequisiteClasses;
  /** Absent when the catalog has a prerequisite cycle (no flat layout: MachineScan decides everything). */
  readonly flat?: FlatLayout;
  readonly sections: SectionPlaces;
  /**
   * How each rule leaf is evaluated, set up as a scan's first evaluation of it would (eval/program.ts): absent in an
   * index written before it existed, or dropped when of another {@link PREPARED_LEAVES_VERSION} — a scan then prepares
   * each leaf as it meets it, as before.
   */
  readonly leaves?: PreparedLeaves;
}

/**
 * Bump when a leaf's numbered form is read differently from its attributes (eval/numbered-forms.ts), or its table
 * keeps it differently: prepared leaves of another version are left unread (each scan prepares its own), and the rest
 * of the index is still read. test/catalog/scan-index.test.ts holds the digest of this part apart.
 */
// 1: without a scheme; 2: numbered in node order (builds of 2026-12-04 that no release carried).
export const PREPARED_LEAVES_VERSION = 3;

/** How a rule leaf is evaluated (eval/program.ts): 0 until its first evaluation prepares it. */
export const LEAF_UNPREPARED = 0,
  LEAF_CLOSURE = 1,
  LEAF_MSI_PATCH = 2,
  LEAF_FILE_VERSION = 3,
  /** CbsPackageInstalled(ByIdentity): the number is the rule's fact (evaluators/packages.ts cbsInstalledOf). */
  LEAF_CBS_INSTALLED = 4,
  /** RegValueExists, RegDword: the number is the rule's record in reg-value-table.ts. */
  LEAF_REG_VALUE = 5,
  /** CbsPackageInstallable: the number is its place in RuleProgram's list of them (never stored: prepared on use). */
  LEAF_CBS_INSTALLABLE = 6;

/** The rule types a stored leaf of each kind may be (a stored kind on a leaf of another type is refused). */
const STORED_LEAF_TYPES: Readonly<Record<number, readonly string[]>> = {
  [LEAF_MSI_PATCH]: ['MsiPatchInstalledForProduct'],
  [LEAF_FILE_VERSION]: ['FileVersion', 'FileVersionPrependRegSz'],
  [LEAF_CBS_INSTALLED]: ['CbsPackageInstalled', 'CbsPackageInstalledByIdentity'],
  [LEAF_REG_VALUE]: ['RegValueExists', 'RegDword'],
};
/**
 * The MSI patch table's key: product number × 2^16 + patch number (eval/msi-patch-table.ts), for at most
 * {@link MSI_MAX_PRODUCTS} products and 2^16 patches (keys stay small integers; GUIDs past these stay closures).
 */
export const MSI_PATCH_KEY_SPAN = 1 << 16,
  MSI_MAX_PRODUCTS = 1 << 14;
/** Numbers per record of the file version and registry value tables (eval/file-version-table.ts, reg-value-table.ts). */
export const FILE_VERSION_RECORD = 6,
  REG_VALUE_RECORD = 4;
/** A registry value record's kind (its second number). */
export const REG_VALUE_EXISTS = 0,
  REG_VALUE_DWORD = 1;
/** How many comparisons a record may name (eval/compare.ts SCALAR_COMPARISONS; a test holds them equal). */
export const STORED_COMPARISONS = 5;

/**
 * The rule leaves a scan would number (eval/numbered-forms.ts), numbered at import: a scan's first machines spent a
 * fifth of their time preparing the ~40,000 leaves of a 50,000-revision catalog they meet, each worker thread again
 * (bench/RESULTS.md, 2026-12-03 23:38–02:38). Leaves that become closures, and CbsPackageInstallable ones (their
 * parsed identity is an object), are left to be prepared on first use.
 */
export interface PreparedLeaves {
  readonly version: number;
  /**
   * What the numbers mean rests on besides this version (eval/leaf-scheme.ts: the parsers and tables a leaf's form is
   * read with): a scan uses stored leaves only under its own scheme, else it prepares each leaf as it meets it.
   */
  readonly scheme: string;
  /** Per rule node: LEAF_UNPREPARED, or how it is evaluated (LEAF_MSI_PATCH … LEAF_REG_VALUE). */
  readonly how: Uint8Array;
  /** Per rule node: its number in the table `how` names (its fact for LEAF_CBS_INSTALLED); 0 where unprepared. */
  readonly number: Int32Array;
  /** File version rules, {@link FILE_VERSION_RECORD} numbers each: fact, comparison, the wanted version's four parts. */
  readonly fileVersions: Uint32Array;
  /** Registry value rules, {@link REG_VALUE_RECORD} each: fact, kind (0 exists, 1 DWORD), Type number + 1 or comparison, wanted DWORD. */
  readonly regValues: Uint32Array;
  /** The Type attributes RegValueExists rules name, by number. */
  readonly regValueTypes: readonly string[];
  /** The MSI product and patch codes the MSI patch rules name (normalized), by number. */
  readonly msiProducts: readonly string[];
  readonly msiPatches: readonly string[];
}

export interface PrerequisiteClasses {
  /** Per update: its class (the same groups with the same members, in the same order). */
  readonly classOf: Int32Array;
  /** Per class: an update of that class, whose groups define it. */
  readonly representative: Int32Array;
  readonly count: number;
  /**
   * The updates a default scan reports (software that is not a bundle-only child), not in a prerequisite cycle, by
   * class: class c's are `classReportable[classReportableOffsets[c] .. classReportableOffsets[c + 1])`, in catalog
   * order. A scan evaluates each class once and takes only the lists of the classes that hold: an update of a class
   * that is False costs nothing at all.
   */
  readonly classReportable: Int32Array;
  readonly classReportableOffsets: Int32Array;
  /** The classes with reportable updates, in the order of their first one in the catalog. */
  readonly reportingClasses: Int32Array;
  /** Per class: an update of it that is in no prerequisite cycle (its groups are the class's value), or -1. */
  readonly acyclicMember: Int32Array;
  /** The reportable updates in a prerequisite cycle (decided one by one: their value is their own). */
  readonly reportableInCycles: Int32Array;
  /** How many updates are reportable (the longest list a scan gathers). */
  readonly reportableCount: number;
  /**
   * Per update: its prerequisite cycle (a strongly connected component of "needs the state of": prerequisites and
   * bundled children, with more than one update or a self-reference), or -1. Within a cycle, an update's reference to
   * another of the same cycle reads Unknown: what a cycle resolves to must not depend on where a scan enters it
   * (Windows Update's catalog has no such cycles; a damaged or hand-made one may).
   */
  readonly cycleOf: Int32Array;
  /**
   * Per update: its class when it is in no prerequisite cycle, else -1 — what a scan asks first about every update
   * (one read instead of `cycleOf` then `classOf`).
   */
  readonly acyclicClassOf: Int32Array;
}

/** The per-catalog part: where each update is placed and what a decision reads, by position. */
export interface FlatLayout {
  /** Per position: the catalog index of the update placed there. */
  readonly updateAt: Int32Array;
  /** Per position: the update's prerequisite class (16 bits where the catalog has fewer than 65,536 classes). */
  readonly classAt: Uint16Array | Int32Array;
  /** Per position: leaf, detectoid or category, or bundle. */
  readonly kindAt: Uint8Array;
  /**
   * Per position: what a decision reads first — kindAt, or 'decided by MachineScan' (3) when MachineScan may decide the update itself
   * while it evaluates a class: a software update that is a prerequisite of another, and the updates it bundles. The
   * flat path asks MachineScan for these (one decision per update, as on the on-demand path); Windows Update's
   * prerequisites are detectoids, so there are few or none.
   */
  readonly decideAs: Uint8Array;
  /** Per position: its bundled updates' positions (-1: not in the catalog) are `childPos[childOffsets[p] .. childOffsets[p + 1])`. */
  readonly childOffsets: Int32Array;
  readonly childPos: Int32Array;
  /** Per position: the positions of the updates that supersede it, likewise. */
  readonly supersederOffsets: Int32Array;
  readonly supersederPos: Int32Array;
  /** Per class: the positions of its reportable updates, in catalog order (what a scan reports when the class holds). */
  readonly rootOffsets: Int32Array;
  readonly rootPos: Int32Array;
}

/**
 * Where each rule slot's value lives in a section memo (scanner/section-memo.ts): slot roots grouped by the set of
 * sections they read (a group's machines with equal contents of those sections share one value array), each root its
 * place in its group's array. `sectionPlaces` finds them in the scan index or builds them.
 */
export interface SectionPlaces {
  /** Per rule slot q (update × 3 + slot), at 2q and 2q + 1: its root's group (-1: no rule) and its place in the group. */
  readonly slotPlace: Int32Array;
  /** Per group g: the sections it reads are `groupSections[groupSectionOffsets[g] .. groupSectionOffsets[g + 1])`. */
  readonly groupSectionOffsets: Int32Array;
  readonly groupSections: Int32Array;
  /** Per group: how many distinct roots it has (the length of its value arrays). */
  readonly groupSizes: Int32Array;
  /** How many sections a machine was keyed by when these were built (section-memo.ts SECTION_COUNT). */
  readonly sectionCount: number;
}

/**
 * The index read with each catalog's data (from its file, or its shared memory): kept beside the data object, not in
 * it, so that data made from other data — a copy, a spread with one part replaced — never carries an index that is
 * not its own.
 */
const attached = new WeakMap<CatalogData, ScanIndex>();

/** The scan index read with `data`, or undefined (compiled in memory, a copy, or a file without one). */
export function scanIndexOf(data: CatalogData): ScanIndex | undefined {
  return attached.get(data);
}

/** @internal For the readers of a file or a shared layout (catalog/file.ts, pool/shared-catalog.ts): `data`'s index. */
export function attachScanIndex(data: CatalogData, index: ScanIndex | undefined): CatalogData {
  if (index !== undefined) attached.set(data, index);
  return data;
}

/** A copy of `data` without its scan index (what scans of a catalog compiled in memory see). */
export function withoutScanIndex(data: CatalogData): CatalogData {
  return { ...data };
}

type Bad = (why: string) => PatchscanError;
type Ints = Int32Array | Uint8Array | Uint32Array;

/**
 * The index a catalog file holds, checked against its catalog: undefined when it is of another version (built again
 * on use); throws `bad(...)` when it is malformed — a reader must never index past an array.
 */
export function checkScanIndex(data: CatalogData, index: unknown, bad: Bad): ScanIndex | undefined {
  const o = obj(index, 'scanIndex', bad);
  if (o.version !== SCAN_INDEX_VERSION) return undefined;
  if (typeof o.scheme !== 'string') throw bad('its scanIndex.scheme is not a string');
  const n = data.updates.rules.length / 3;
  const classes = obj(o.classes, 'scanIndex.classes', bad);
  const count = int(classes.count, 'scanIndex.classes.count', n === 0 ? 0 : 1, n, bad);
  const c = (name: string, len: number | undefined, lo: number, hi: number): Int32Array =>
    ints(classes[name], `scanIndex.classes.${name}`, [Int32Array], len, lo, hi, bad) as Int32Array;
  const classReportable = c('classReportable', undefined, 0, n - 1);
  offsets(
    c('classReportableOffsets', count + 1, 0, classReportable.length),
    classReportable.length,
    'scanIndex.classes.classReportableOffsets',
    bad,
  );
  const classOf = c('classOf', n, 0, count - 1);
  c('representative', count, 0, n - 1);
  c('reportingClasses', undefined, 0, count - 1);
  c('acyclicMember', count, -1, n - 1);
  c('reportableInCycles', undefined, 0, n - 1);
  const cycleOf = c('cycleOf', n, -1, n - 1);
  const acyclicClassOf = c('acyclicClassOf', n, -1, count - 1);
  int(classes.reportableCount, 'scanIndex.classes.reportableCount', 0, n, bad);
  const cyclic = cycleOf.some((k) => k >= 0);
  for (let i = 0; i < n; i++)
    if (acyclicClassOf[i] !== (cycleOf[i]! >= 0 ? -1 : classOf[i])) throw bad(`its scan index gives update ${i} two classes`);

  if (o.flat !== undefined) {
    const f = obj(o.flat, 'scanIndex.flat', bad);
    const a = (name: string, kinds: readonly (new (n: number) => Ints)[], len: number | undefined, lo: number, hi: number): Ints =>
      ints(f[name], `scanIndex.flat.${name}`, kinds, len, lo, hi, bad);
    // Decisions over the layout assume no prerequisite cycle (flat-decisions.ts): a layout beside one is refused.
    if (cyclic) throw bad('its scan index has a decision layout for a catalog with a prerequisite cycle');
    const updateAt = a('updateAt', [Int32Array], n, 0, n - 1);
    const classAt = a('classAt', [Int32Array], n, 0, count - 1);
    a('kindAt', [Uint8Array], n, 0, 2);
    a('decideAs', [Uint8Array], n, 0, 3);
    const childPos = a('childPos', [Int32Array], undefined, -1, n - 1);
    const childOffsets = a('childOffsets', [Int32Array], n + 1, 0, childPos.length);
    offsets(childOffsets, childPos.length, 'scanIndex.flat.childOffsets', bad);
    const supersederPos = a('supersederPos', [Int32Array], undefined, 0, n - 1);
    const supersederOffsets = a('supersederOffsets', [Int32Array], n + 1, 0, supersederPos.length);
    offsets(supersederOffsets, supersederPos.length, 'scanIndex.flat.supersederOffsets', bad);
    const rootPos = a('rootPos', [Int32Array], classReportable.length, 0, n - 1);
    offsets(a('rootOffsets', [Int32Array], count + 1, 0, rootPos.length), rootPos.length, 'scanIndex.flat.rootOffsets', bad);
    // What the layout says of each update is what the catalog and the classes say (a few reads per update): a
    // permutation, each position's class and superseders its update's, each bundled update placed before its bundle
    // (a decision recurses into bundled updates: never into itself), each reported update where the classes list it.
    const seen = new Uint8Array(n);
    const sb = data.supersededBy;
    for (let p = 0; p < n; p++) {
      const i = updateAt[p]!;
      if (seen[i] === 1) throw bad(`its scan index places update ${i} twice`);
      seen[i] = 1;
      if (classAt[p] !== classOf[i]) throw bad(`its scan index's layout gives update ${i} another class`);
      for (let k = childOffsets[p]!; k < childOffsets[p + 1]!; k++)
        if (childPos[k]! >= p) throw bad(`its scan index's layout places a bundled update of update ${i} after it`);
      const from = sb.offsets[i]!;
      if (supersederOffsets[p + 1]! - supersederOffsets[p]! !== sb.offsets[i + 1]! - from)
        throw bad(`its scan index's layout gives update ${i} other superseding updates`);
      for (let k = supersederOffsets[p]!; k < supersederOffsets[p + 1]!; k++)
        if (updateAt[supersederPos[k]!] !== sb.target[from + k - supersederOffsets[p]!])
          throw bad(`its scan index's layout gives update ${i} other superseding updates`);
    }
    for (let r = 0; r < rootPos.length; r++)
      if (updateAt[rootPos[r]!] !== classReportable[r]) throw bad(`its scan index's layout lists reported update ${r} elsewhere`);
  }

  const s = obj(o.sections, 'scanIndex.sections', bad);
  const groupSizes = ints(s.groupSizes, 'scanIndex.sections.groupSizes', [Int32Array], undefined, 0, 0x7fffffff, bad);
  const groups = groupSizes.length;
  const sectionCount = int(s.sectionCount, 'scanIndex.sections.sectionCount', 0, 1 << 20, bad);
  const groupSections = ints(s.groupSections, 'scanIndex.sections.groupSections', [Int32Array], undefined, 0, sectionCount - 1, bad);
  offsets(
    ints(s.groupSectionOffsets, 'scanIndex.sections.groupSectionOffsets', [Int32Array], groups + 1, 0, groupSections.length, bad),
    groupSections.length,
    'scanIndex.sections.groupSectionOffsets',
    bad,
  );
  const slotPlace = ints(s.slotPlace, 'scanIndex.sections.slotPlace', [Int32Array], data.updates.rules.length * 2, -1, 0x7fffffff, bad);
  const slotsOf = new Int32Array(groups);
  for (let k = 0; k < slotPlace.length; k += 2) {
    const g = slotPlace[k]!;
    // A slot has a group exactly when it has a rule, and its place is inside the group's values.
    if (g >= groups || g >= 0 !== data.updates.rules[k >>> 1]! >= 0 || (g >= 0 && slotPlace[k + 1]! >= groupSizes[g]!))
      throw bad(`its scan index places rule slot ${k >>> 1} outside its groups`);
    if (g >= 0) slotsOf[g]!++;
  }
  // A group's value arrays (one per variant of its sections) are as long as its size: never longer than its slots.
  for (let g = 0; g < groups; g++)
    if (groupSizes[g]! > slotsOf[g]!) throw bad(`its scan index's group ${g} has ${groupSizes[g]} places for ${slotsOf[g]} rule slots`);
  if (o.leaves === undefined) return index as ScanIndex;
  const l = obj(o.leaves, 'scanIndex.leaves', bad);
  // Of another version: the rest of the index is read, and each scan prepares its own leaves.
  if (l.version !== PREPARED_LEAVES_VERSION) {
    const { leaves: _, ...rest } = index as ScanIndex;
    return rest;
  }
  if (typeof l.scheme !== 'string') throw bad('its scanIndex.leaves.scheme is not a string');
  checkPreparedLeaves(data, l, bad);
  return index as ScanIndex;
}

/**
 * Prepared leaves against their catalog: every number within its table, every record's fact and comparison within
 * theirs, each stored kind only on a leaf of a rule type it is for — and a CBS leaf's fact its own first fact.
 */
function checkPreparedLeaves(data: CatalogData, l: Record<string, unknown>, bad: Bad): void {
  const nodes = data.nodes;
  const facts = data.facts.count;
  const how = ints(l.how, 'scanIndex.leaves.how', [Uint8Array], nodes.count, LEAF_UNPREPARED, LEAF_REG_VALUE, bad);
  const number = ints(l.number, 'scanIndex.leaves.number', [Int32Array], nodes.count, 0, 0x7fffffff, bad);
  const strings = (v: unknown, name: string): readonly string[] => {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad(`its scanIndex.leaves.${name} is not a list of strings`);
    return v;
  };
  const types = strings(l.regValueTypes, 'regValueTypes');
  const products = strings(l.msiProducts, 'msiProducts');
  const patches = strings(l.msiPatches, 'msiPatches');
  if (products.length > MSI_MAX_PRODUCTS || patches.length > MSI_PATCH_KEY_SPAN)
    throw bad('its scanIndex.leaves number more MSI codes than a table holds');
  // A code's number is its place: each one once, as the MSI table keeps it (normalized), or numbers would shift.
  for (const [name, codes] of [
    ['msiProducts', products],
    ['msiPatches', patches],
  ] as const) {
    const seen = new Set<string>();
    for (const g of codes) {
      if (normalizeGuid(g) !== g || seen.has(g))
        throw bad(`its scanIndex.leaves.${name} holds ${JSON.stringify(g.slice(0, 60))} twice or not normalized`);
      seen.add(g);
    }
  }
  const records = (v: unknown, name: string, size: number): Uint32Array => {
    const a = ints(v, `scanIndex.leaves.${name}`, [Uint32Array], undefined, 0, 0xffffffff, bad) as Uint32Array;
    if (a.length % size !== 0) throw bad(`its scanIndex.leaves.${name} holds ${a.length} numbers, not records of ${size}`);
    return a;
  };
  const fileVersions = records(l.fileVersions, 'fileVersions', FILE_VERSION_RECORD);
  for (let at = 0; at < fileVersions.length; at += FILE_VERSION_RECORD)
    if (fileVersions[at]! >= facts || fileVersions[at + 1]! >= STORED_COMPARISONS)
      throw bad(`its scanIndex.leaves.fileVersions record ${at / FILE_VERSION_RECORD} names no fact or comparison`);
  const regValues = records(l.regValues, 'regValues', REG_VALUE_RECORD);
  for (let at = 0; at < regValues.length; at += REG_VALUE_RECORD) {
    const kind = regValues[at + 1]!;
    if (
      regValues[at]! >= facts ||
      (kind !== REG_VALUE_EXISTS && kind !== REG_VALUE_DWORD) ||
      regValues[at + 2]! >= (kind === REG_VALUE_EXISTS ? types.length + 1 : STORED_COMPARISONS)
    )
      throw bad(`its scanIndex.leaves.regValues record ${at / REG_VALUE_RECORD} names no fact, kind, type or comparison`);
  }
  const within: Readonly<Record<number, number>> = {
    [LEAF_MSI_PATCH]: products.length * MSI_PATCH_KEY_SPAN,
    [LEAF_FILE_VERSION]: fileVersions.length / FILE_VERSION_RECORD,
    [LEAF_CBS_INSTALLED]: facts,
    [LEAF_REG_VALUE]: regValues.length / REG_VALUE_RECORD,
  };
  for (let id = 0; id < nodes.count; id++) {
    const h = how[id]!;
    if (h === LEAF_UNPREPARED) {
      if (number[id] !== 0) throw bad(`its scanIndex.leaves numbers rule node ${id}, which it leaves unprepared`);
      continue;
    }
    const op = nodes.op[id]!;
    const type = op >= RULE_OP_BASE ? data.ruleTypes[op - RULE_OP_BASE] : undefined;
    const n = number[id]!;
    if (type === undefined || !(STORED_LEAF_TYPES[h] ?? []).includes(type))
      throw bad(`its scanIndex.leaves prepares rule node ${id} (${type ?? `op ${op}`}) as another rule type`);
    if (n >= within[h]! || (h === LEAF_MSI_PATCH && n % MSI_PATCH_KEY_SPAN >= patches.length))
      throw bad(`its scanIndex.leaves numbers rule node ${id} past its table`);
    if (h === LEAF_CBS_INSTALLED && (nodes.factOffsets[id]! >= nodes.factOffsets[id + 1]! || nodes.facts[nodes.factOffsets[id]!] !== n))
      throw bad(`its scanIndex.leaves gives rule node ${id} a fact it does not read`);
  }
}

function obj(v: unknown, path: string, bad: Bad): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(`its ${path} is not a table`);
  return v as Record<string, unknown>;
}

function int(v: unknown, path: string, lo: number, hi: number, bad: Bad): number {
  if (!Number.isSafeInteger(v) || (v as number) < lo || (v as number) > hi) throw bad(`its ${path} is not a count in ${lo}..${hi}`);
  return v as number;
}

/** A typed array of one of `kinds`, of `len` elements (any when undefined), every element in lo..hi. */
function ints(
  v: unknown,
  path: string,
  kinds: readonly (new (n: number) => Ints)[],
  len: number | undefined,
  lo: number,
  hi: number,
  bad: Bad,
): Ints {
  if (!kinds.some((k) => v instanceof k)) throw bad(`its ${path} is not an array of the right kind`);
  const a = v as Ints;
  if (len !== undefined && a.length !== len) throw bad(`its ${path} holds ${a.length} numbers, not ${len}`);
  for (let k = 0; k < a.length; k++) if (a[k]! < lo || a[k]! > hi) throw bad(`its ${path} holds ${a[k]} at ${k}, outside ${lo}..${hi}`);
  return a;
}

/** CSR offsets: from 0, never decreasing, ending at `total`. */
function offsets(a: Ints, total: number, path: string, bad: Bad): void {
  if (a.length === 0 || a[0] !== 0 || a[a.length - 1] !== total) throw bad(`its ${path} do not run from 0 to ${total}`);
  for (let k = 1; k < a.length; k++) if (a[k]! < a[k - 1]!) throw bad(`its ${path} decrease at ${k}`);
}
