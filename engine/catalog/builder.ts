/**
 * Compiles parsed catalog pieces into {@link CatalogData}. Pieces arrive in any order (package.xml first,
 * then fragments cabinet by cabinet) and are flattened at once: strings interned, rule trees turned into node
 * arrays, facts entered in the dictionary. Only relationship resolution waits for `build()`.
 */
import {
  CATEGORY_TYPES,
  DEPLOYMENT_ACTIONS,
  SEVERITIES,
  UPDATE_TYPES,
  type BundleGroup,
  type CoreFragment,
  type ExtendedFragment,
  type LocalizedText,
  type PackageEntry,
  type Prerequisite,
  type RuleMetadata,
  type RuleNode,
  type UpdateRecord,
} from '../model.js';
import { FACT_KINDS, type Fact } from '../rules/facts.js';
import { RULE_TYPE_IDS, ruleSpec } from '../rules/registry.js';
import { encodeStrings } from './string-table.js';
import { PatchscanError } from '../errors.js';
import {
  CATALOG_FORMAT_VERSION,
  F_BUNDLE,
  F_EXPLICIT,
  F_FROM_PACKAGE,
  F_HAS_CORE,
  F_HAS_EXTENDED,
  F_KB_FROM_TITLE,
  F_LEAF,
  F_SOFTWARE,
  G_AT_LEAST_ONE,
  G_AT_LEAST_ONE_CATEGORY,
  G_SINGLE,
  OP_AND,
  OP_FALSE,
  OP_NOT,
  OP_OR,
  OP_TRUE,
  OP_UNSUPPORTED,
  RULE_OP_BASE,
  SLOT_INDEX,
  type CatalogData,
  type CatalogSource,
  type ImportStats,
} from './data.js';

/**
 * Throws unless package.xml's entry and the core fragment of one RevisionId name one update (UpdateIds compare case
 * aside). Fragments are found by RevisionId: one that names another update would give this one its rules and texts.
 * Revision numbers are not compared: package.xml's is the one kept, and corpus/generate-catalog.ts writes category and
 * bundle-child fragments with a revision number of their own.
 */
function oneUpdate(revisionId: number, listed: string, core: string): void {
  if (listed.toLowerCase() !== core.toLowerCase())
    throw new PatchscanError(
      'CATALOG_BAD_FORMAT',
      `RevisionId ${revisionId}: package.xml lists update ${listed}, but its core fragment is update ${core}: the catalog is damaged`,
      { revisionId },
    );
}

class StringTable {
  readonly list: string[] = [''];
  private readonly ids = new Map<string, number>([['', 0]]);
  id(s: string | undefined): number {
    if (s === undefined || s === '') return 0;
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.list.length;
      this.list.push(s);
      this.ids.set(s, id);
    }
    return id;
  }
}

/** A growable typed array (amortised doubling), so large catalogs never build huge JS number arrays. */
class Grow<T extends Uint32Array | Int32Array | Uint8Array> {
  private buf: T;
  length = 0;
  constructor(
    private readonly make: (n: number) => T,
    initial = 1024,
  ) {
    this.buf = make(initial);
  }
  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = this.make(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }
  finish(): T {
    return this.buf.slice(0, this.length) as T;
  }
}
const u32 = (): Grow<Uint32Array> => new Grow((n) => new Uint32Array(n));
const i32 = (): Grow<Int32Array> => new Grow((n) => new Int32Array(n));
const u8 = (): Grow<Uint8Array> => new Grow((n) => new Uint8Array(n));

interface Group {
  kind: number;
  members: { guid: number; revision: number }[];
}

interface Slot {
  updateId: number;
  revisionNumber: number;
  revisionId: number;
  type: number;
  flags: number;
  action: number;
  categoryType: number;
  severity: number;
  kb: number;
  bulletin: number;
  handler: number;
  supportUrl: number;
  creationDate: number;
  defaultLanguage: number;
  payloadFiles: number;
  rules: [number, number, number];
  metadataElement: number;
  metadata: number[];
  categories: [number, number][]; // (type, guid)
  prereqs: Group[];
  prereqsFromCore: boolean;
  bundles: Group[];
  bundledByRev: number[];
  supersededByRev: number[];
  supersedes: number[];
  localized: [number, number, number, number][];
  cves: number[];
  languages: number[];
}

function emptySlot(revisionId: number): Slot {
  return {
    updateId: 0,
    revisionNumber: 0,
    revisionId,
    type: 0,
    flags: 0,
    action: 0,
    categoryType: 0,
    severity: 0,
    kb: 0,
    bulletin: 0,
    handler: 0,
    supportUrl: 0,
    creationDate: 0,
    defaultLanguage: 0,
    payloadFiles: 0,
    rules: [-1, -1, -1],
    metadataElement: 0,
    metadata: [],
    categories: [],
    prereqs: [],
    prereqsFromCore: false,
    bundles: [],
    bundledByRev: [],
    supersededByRev: [],
    supersedes: [],
    localized: [],
    cves: [],
    languages: [],
  };
}

/**
 * "… (KB5026368)": the KB number Microsoft puts in parentheses at the end of update titles. Only at the end: a title
 * that mentions a KB elsewhere ("… (KB5026368) for x64-based Systems", a bundle's child) names its parent's KB.
 */
const KB_IN_TITLE = /\(KB(\d{4,8})\)\s*$/i;

export class CatalogBuilder {
  private readonly strings = new StringTable();
  private readonly slots = new Map<number, Slot>();
  private syntheticKey = -1;

  // Rule nodes
  private readonly nodeOp = u8();
  private readonly childOffsets = u32();
  private readonly children = u32();
  private readonly attrOffsets = u32();
  private readonly attrs = u32();
  private readonly factOffsets = u32();
  private readonly nodeFacts = u32();
  private nodeCount = 0;
  /** Hash-consing: one node per distinct subtree, so a machine evaluates each distinct subtree once (memo by id). */
  private readonly nodeIds = new Map<string, number>();

  // Fact dictionary
  private readonly factIds = new Map<string, number>();
  private readonly factKind = u8();
  private readonly factArgOffsets = u32();
  private readonly factArgs = u32();
  private readonly factUses = u32();

  private stats = {
    packageUpdates: 0,
    coreFragments: 0,
    extendedFragments: 0,
    localizedFragments: 0,
    orphanFragments: 0,
    fileLocations: 0,
    unsupportedRules: {} as Record<string, number>,
  };

  constructor() {
    this.childOffsets.push(0);
    this.attrOffsets.push(0);
    this.factOffsets.push(0);
    this.factArgOffsets.push(0);
  }

  private slot(revisionId: number): Slot {
    let s = this.slots.get(revisionId);
    if (!s) {
      s = emptySlot(revisionId > 0 ? revisionId : 0);
      this.slots.set(revisionId, s);
    }
    return s;
  }

  /** Whether package.xml or a core fragment has already introduced this RevisionId. */
  has(revisionId: number): boolean {
    return this.slots.has(revisionId);
  }

  /** A key for records that carry no RevisionId (full documents, generated records). */
  newSyntheticRevision(): number {
    return this.syntheticKey--;
  }

  setFileLocations(n: number): void {
    this.stats.fileLocations = n;
  }

  /** Import statistics count what was read from package.xml and fragments, not records added whole. */
  private counting = true;

  addPackageEntry(e: PackageEntry): void {
    if (this.counting) this.stats.packageUpdates++;
    const s = this.slot(e.revisionId);
    const str = this.strings;
    // Two updates under one RevisionId: the second would replace the first, and its fragments describe only one.
    if ((s.flags & F_FROM_PACKAGE) !== 0)
      throw new PatchscanError(
        'CATALOG_BAD_FORMAT',
        `RevisionId ${e.revisionId} is given to two updates, ${str.list[s.updateId]} and ${e.updateId} (package.xml lists each once): the catalog is damaged`,
        { revisionId: e.revisionId },
      );
    if ((s.flags & F_HAS_CORE) !== 0) oneUpdate(e.revisionId, e.updateId, str.list[s.updateId]!);
    s.updateId = str.id(e.updateId);
    s.revisionNumber = e.revisionNumber;
    s.flags |= F_FROM_PACKAGE | (e.isLeaf ? F_LEAF : 0) | (e.isBundle ? F_BUNDLE : 0) | (e.isSoftware ? F_SOFTWARE : 0);
    s.action = DEPLOYMENT_ACTIONS.indexOf(e.deploymentAction);
    s.creationDate = str.id(e.creationDate);
    s.defaultLanguage = str.id(e.defaultLanguage);
    s.payloadFiles = e.payloadFiles;
    s.categories = e.categories.map((c) => [str.id(c.type), str.id(c.id)]);
    if (!s.prereqsFromCore) s.prereqs = this.prereqGroups(e.prerequisites);
    s.languages = e.languages.map((l) => str.id(l));
    s.bundledByRev = [...e.bundledByRevisionIds];
    s.supersededByRev = [...e.supersededByRevisionIds];
  }

  /** A core fragment for a RevisionId package.xml does not list is kept (it fully describes an update) and counted as orphan. */
  addCore(revisionId: number, c: CoreFragment): void {
    if (this.counting) {
      this.stats.coreFragments++;
      if (!this.slots.has(revisionId)) this.stats.orphanFragments++;
    }
    const s = this.slot(revisionId);
    const str = this.strings;
    if (s.updateId === 0) {
      s.updateId = str.id(c.updateId);
      s.revisionNumber = c.revisionNumber;
    } else oneUpdate(revisionId, str.list[s.updateId]!, c.updateId);
    s.flags |= F_HAS_CORE | (c.explicitlyDeployable ? F_EXPLICIT : 0);
    s.type = UPDATE_TYPES.indexOf(c.updateType);
    // The core fragment's prerequisites are authoritative (same form WUA receives online; reference §1.3).
    s.prereqs = this.prereqGroups(c.prerequisites);
    s.prereqsFromCore = true;
    s.bundles = this.bundleGroups(c.bundledUpdates);
    s.supersedes = c.supersedes.map((g) => str.id(g));
    if (c.metadata) {
      s.metadataElement = str.id(c.metadata.element);
      s.metadata = Object.entries(c.metadata.attrs).flatMap(([k, v]) => [str.id(k), str.id(v)]);
    }
    for (const [slot, idx] of Object.entries(SLOT_INDEX)) {
      const rule = c.rules[slot as keyof typeof SLOT_INDEX];
      s.rules[idx] = rule ? this.addRule(rule, c.metadata) : -1;
    }
  }

  addExtended(revisionId: number, x: ExtendedFragment): void {
    if (this.counting) this.stats.extendedFragments++;
    if (!this.slots.has(revisionId)) {
      // Extended data alone (no package entry, no core) describes nothing we can scan: count it, keep nothing.
      this.stats.orphanFragments++;
      return;
    }
    const s = this.slot(revisionId);
    const str = this.strings;
    s.flags |= F_HAS_EXTENDED;
    s.kb = str.id(x.kb);
    s.severity = SEVERITIES.indexOf(x.severity);
    s.bulletin = str.id(x.securityBulletin);
    s.handler = str.id(x.handler);
    s.supportUrl = str.id(x.supportUrl);
    s.cves = x.cves.map((c) => str.id(c));
    if (x.categoryType) s.categoryType = 1 + CATEGORY_TYPES.indexOf(x.categoryType);
  }

  addLocalized(revisionId: number, l: LocalizedText): void {
    if (this.counting) this.stats.localizedFragments++;
    if (!this.slots.has(revisionId)) {
      this.stats.orphanFragments++;
      return;
    }
    const str = this.strings;
    this.slot(revisionId).localized.push([str.id(l.language), str.id(l.title), str.id(l.description), str.id(l.moreInfoUrl)]);
  }

  /** Adds a whole merged record (generators, full update documents, tests). */
  addRecord(r: UpdateRecord): void {
    const rev = r.revisionId > 0 ? r.revisionId : this.newSyntheticRevision();
    this.counting = false;
    try {
      this.addRecordParts(rev, r);
    } finally {
      this.counting = true;
    }
  }

  private addRecordParts(rev: number, r: UpdateRecord): void {
    this.addPackageEntry({
      updateId: r.updateId,
      revisionNumber: r.revisionNumber,
      revisionId: rev,
      isLeaf: r.isLeaf,
      isBundle: r.isBundle,
      deploymentAction: r.deploymentAction,
      categories: r.categories,
      prerequisites: r.prerequisites,
      languages: [],
      bundledByRevisionIds: r.bundledByRevisionIds,
      supersededByRevisionIds: r.supersededByRevisionIds,
      payloadFiles: 0,
      ...(r.creationDate ? { creationDate: r.creationDate } : {}),
      ...(r.defaultLanguage ? { defaultLanguage: r.defaultLanguage } : {}),
      isSoftware: r.updateType === 'Software',
    });
    // A record is a core and an extended fragment too (UpdateRecord extends both).
    this.addCore(rev, r);
    this.addExtended(rev, r);
    for (const l of r.localized) this.addLocalized(rev, l);
  }

  /**
   * An update whose extended fragment has no KBArticleID (the real CBS cumulative update KB5026368 has none) takes
   * its KB from a title ending "(KBnnnnnnn)", English first, so it can be found and reported by KB; the flag keeps
   * where it came from (`catalog show`).
   */
  private kbFromTitle(s: Slot): void {
    const str = this.strings;
    const en = str.id('en');
    const ordered = [...s.localized.filter((l) => l[0] === en), ...s.localized.filter((l) => l[0] !== en)];
    for (const [, title] of ordered) {
      const m = KB_IN_TITLE.exec(str.list[title]!);
      if (m) {
        s.kb = str.id(m[1]);
        s.flags |= F_KB_FROM_TITLE;
        return;
      }
    }
  }

  private prereqGroups(ps: readonly Prerequisite[]): Group[] {
    const str = this.strings;
    return ps.map((p) =>
      p.kind === 'update'
        ? { kind: G_SINGLE, members: [{ guid: str.id(p.updateId), revision: 0 }] }
        : {
            kind: p.isCategory ? G_AT_LEAST_ONE_CATEGORY : G_AT_LEAST_ONE,
            members: p.updateIds.map((g) => ({ guid: str.id(g), revision: 0 })),
          },
    );
  }

  private bundleGroups(bs: readonly BundleGroup[]): Group[] {
    const str = this.strings;
    return bs.map((b) =>
      b.kind === 'update'
        ? { kind: G_SINGLE, members: [{ guid: str.id(b.child.updateId), revision: b.child.revisionNumber ?? 0 }] }
        : { kind: G_AT_LEAST_ONE, members: b.children.map((c) => ({ guid: str.id(c.updateId), revision: c.revisionNumber ?? 0 })) },
    );
  }

  private internFact(f: Fact): number {
    let id = this.factIds.get(f.key);
    if (id === undefined) {
      id = this.factIds.size;
      this.factIds.set(f.key, id);
      this.factKind.push(FACT_KINDS.indexOf(f.kind));
      for (const a of f.args) this.factArgs.push(this.strings.id(a));
      this.factArgOffsets.push(this.factArgs.length);
      this.factUses.push(0);
    }
    return id;
  }

  /** Flattens a rule tree; children are written before their parent, so a node's children are contiguous. */
  private addRule(node: RuleNode, meta: RuleMetadata | undefined): number {
    let op: number;
    let kids: RuleNode[] = [];
    let attrs: [string, string][] = [];
    let facts: Fact[] = [];
    switch (node.kind) {
      case 'const':
        op = node.value ? OP_TRUE : OP_FALSE;
        break;
      case 'and':
        op = OP_AND;
        kids = [...node.children];
        break;
      case 'or':
        op = OP_OR;
        kids = [...node.children];
        break;
      case 'not':
        op = OP_NOT;
        kids = [node.child];
        break;
      case 'unsupported':
        op = OP_UNSUPPORTED;
        attrs = [['$element', node.element], ['$reason', node.reason], ...Object.entries(node.attrs)];
        this.stats.unsupportedRules[node.element] = (this.stats.unsupportedRules[node.element] ?? 0) + 1;
        break;
      case 'rule': {
        const typeId = RULE_TYPE_IDS.indexOf(node.type);
        if (typeId < 0) {
          // A rule type patchscan does not know (records given through the library, not the XML reader, which makes
          // these `unsupported` itself): Unknown, naming the rule — never another rule type's number.
          op = OP_UNSUPPORTED;
          attrs = [['$element', node.type], ['$reason', 'unknown rule type'], ...Object.entries(node.attrs)];
          this.stats.unsupportedRules[node.type] = (this.stats.unsupportedRules[node.type] ?? 0) + 1;
          break;
        }
        op = RULE_OP_BASE + typeId;
        const spec = ruleSpec(node.type);
        attrs = Object.entries(node.attrs);
        if (node.items) attrs.push(['$items', JSON.stringify(node.items)]);
        if (node.child) kids = [node.child];
        facts = spec ? spec.facts(node.attrs, meta, node.items ?? []) : [];
        break;
      }
    }
    const childIds = kids.map((k) => this.addRule(k, meta));
    // Identical subtrees become one node. Rules that read the update's Metadata (MSI, CBS, driver, Appx) differ by
    // it, so their key carries it.
    const family = node.kind === 'rule' ? ruleSpec(node.type)?.family : undefined;
    const metaKey =
      (family === 'msi' || family === 'cbs' || family === 'driver' || (node.kind === 'rule' && node.type.startsWith('Appx'))) && meta
        ? JSON.stringify(meta)
        : '';
    const key = `${op}\u0001${attrs.map(([k, v]) => `${k}\u0002${v}`).join('\u0003')}\u0001${childIds.join(',')}\u0001${metaKey}`;
    const known = this.nodeIds.get(key);
    if (known !== undefined) return known;
    const id = this.nodeCount++;
    this.nodeIds.set(key, id);
    this.nodeOp.push(op);
    for (const c of childIds) this.children.push(c);
    this.childOffsets.push(this.children.length);
    const str = this.strings;
    for (const [k, v] of attrs) {
      this.attrs.push(str.id(k));
      this.attrs.push(str.id(v));
    }
    this.attrOffsets.push(this.attrs.length);
    for (const f of facts) {
      const fid = this.internFact(f);
      this.nodeFacts.push(fid);
    }
    this.factOffsets.push(this.nodeFacts.length);
    return id;
  }

  build(source: CatalogSource, createdAt = new Date().toISOString()): CatalogData {
    const str = this.strings;
    // Deterministic order: by RevisionId, synthetic (no RevisionId) records last in insertion order.
    const keys = [...this.slots.keys()].sort((a, b) => (a > 0 && b > 0 ? a - b : a > 0 ? -1 : b > 0 ? 1 : b - a));
    const slots = keys.map((k) => this.slots.get(k)!).filter((s) => s.updateId !== 0);
    const n = slots.length;
    let unresolved = 0;

    const byGuid = new Map<number, number>();
    const byRev = new Map<number, number>();
    slots.forEach((s, i) => {
      const prev = byGuid.get(s.updateId);
      if (prev === undefined || slots[prev]!.revisionNumber < s.revisionNumber) byGuid.set(s.updateId, i);
      if (s.revisionId > 0) byRev.set(s.revisionId, i);
    });
    // A category update without CategoryInformation still has a type: the one package.xml gives where it is used.
    for (const s of slots) {
      for (const [typeId, guidId] of s.categories) {
        const t = byGuid.get(guidId);
        const k = CATEGORY_TYPES.indexOf(str.list[typeId] as (typeof CATEGORY_TYPES)[number]);
        if (t !== undefined && k >= 0 && slots[t]!.categoryType === 0) slots[t]!.categoryType = 1 + k;
      }
    }
    for (const s of slots) if (s.kb === 0) this.kbFromTitle(s);
    const target = (guidId: number): number => {
      const t = byGuid.get(guidId);
      if (t === undefined) unresolved++;
      return t ?? -1;
    };

    const col = <T extends Uint32Array | Uint8Array>(make: (n: number) => T, f: (s: Slot) => number): T => {
      const a = make(n);
      slots.forEach((s, i) => {
        a[i] = f(s);
      });
      return a;
    };
    const U32 = (k: number): Uint32Array => new Uint32Array(k);
    const U8 = (k: number): Uint8Array => new Uint8Array(k);

    const rules = new Int32Array(n * 3);
    slots.forEach((s, i) => rules.set(s.rules, i * 3));

    // CSR helpers
    const csr = <E>(items: (s: Slot) => readonly E[], emit: (e: E) => void): Uint32Array => {
      const off = new Uint32Array(n + 1);
      let count = 0;
      slots.forEach((s, i) => {
        for (const e of items(s)) {
          emit(e);
          count++;
        }
        off[i + 1] = count;
      });
      return off;
    };

    const metaPairs = u32();
    const metaOffsets = new Uint32Array(n + 1);
    slots.forEach((s, i) => {
      for (const v of s.metadata) metaPairs.push(v);
      metaOffsets[i + 1] = metaPairs.length;
    });

    const catType = u32(),
      catGuid = u32(),
      catTarget = i32();
    const catOffsets = csr(
      (s) => s.categories,
      ([t, g]) => {
        catType.push(t);
        catGuid.push(g);
        catTarget.push(target(g));
      },
    );

    const groups = (get: (s: Slot) => Group[], withRevision: boolean) => {
      const groupOffsets = new Uint32Array(n + 1);
      const kind = u8(),
        memberOffsets = u32(),
        guid = u32(),
        rev = u32(),
        tgt = i32();
      memberOffsets.push(0);
      let g = 0;
      slots.forEach((s, i) => {
        for (const grp of get(s)) {
          kind.push(grp.kind);
          for (const m of grp.members) {
            guid.push(m.guid);
            rev.push(m.revision);
            tgt.push(target(m.guid));
          }
          memberOffsets.push(guid.length);
          g++;
        }
        groupOffsets[i + 1] = g;
      });
      return {
        groupOffsets,
        groupKind: kind.finish(),
        memberOffsets: memberOffsets.finish(),
        guid: guid.finish(),
        target: tgt.finish(),
        ...(withRevision ? { revisionNumber: rev.finish() } : {}),
      };
    };
    const prerequisites = groups((s) => s.prereqs, false);
    const bundlesRaw = groups((s) => s.bundles, true);
    const bundles = { ...bundlesRaw, revisionNumber: bundlesRaw.revisionNumber! };

    // Reverse relations, merged with what package.xml states, de-duplicated.
    const reverse = (pairs: (add: (from: number, to: number) => void) => void): { offsets: Uint32Array; target: Int32Array } => {
      const lists: Set<number>[] = Array.from({ length: n }, () => new Set<number>());
      pairs((from, to) => {
        if (from >= 0 && to >= 0) lists[from]!.add(to);
      });
      const off = new Uint32Array(n + 1);
      const t = i32();
      lists.forEach((l, i) => {
        for (const v of [...l].sort((a, b) => a - b)) t.push(v);
        off[i + 1] = t.length;
      });
      return { offsets: off, target: t.finish() };
    };
    const revTarget = (rev: number): number => {
      const t = byRev.get(rev);
      if (t === undefined) unresolved++;
      return t ?? -1;
    };
    const bundledBy = reverse((add) => {
      slots.forEach((s, i) => {
        for (const r of s.bundledByRev) add(i, revTarget(r));
        for (let gi = bundles.groupOffsets[i]!; gi < bundles.groupOffsets[i + 1]!; gi++) {
          for (let m = bundles.memberOffsets[gi]!; m < bundles.memberOffsets[gi + 1]!; m++) add(bundles.target[m]!, i);
        }
      });
    });

    const supGuid = u32(),
      supTarget = i32();
    const supOffsets = csr(
      (s) => s.supersedes,
      (g) => {
        supGuid.push(g);
        supTarget.push(target(g));
      },
    );
    const supArr = supTarget.finish();
    const supersededBy = reverse((add) => {
      slots.forEach((s, i) => {
        for (const r of s.supersededByRev) add(i, revTarget(r));
        for (let m = supOffsets[i]!; m < supOffsets[i + 1]!; m++) add(supArr[m]!, i);
      });
    });
    const dependents = reverse((add) => {
      for (let i = 0; i < n; i++) {
        for (let gi = prerequisites.groupOffsets[i]!; gi < prerequisites.groupOffsets[i + 1]!; gi++) {
          for (let m = prerequisites.memberOffsets[gi]!; m < prerequisites.memberOffsets[gi + 1]!; m++) add(prerequisites.target[m]!, i);
        }
      }
    });

    const lLang = u32(),
      lTitle = u32(),
      lDesc = u32(),
      lMore = u32();
    const locOffsets = csr(
      (s) => s.localized,
      ([a, b, c, d]) => {
        lLang.push(a);
        lTitle.push(b);
        lDesc.push(c);
        lMore.push(d);
      },
    );
    const cveVal = u32();
    const cveOffsets = csr(
      (s) => s.cves,
      (v) => cveVal.push(v),
    );
    const langVal = u32();
    const langOffsets = csr(
      (s) => s.languages,
      (v) => langVal.push(v),
    );

    // Fact use counts
    const nodeFacts = this.nodeFacts.finish();
    const uses = this.factUses.finish();
    for (const f of nodeFacts) uses[f]!++;

    const list = str.list;
    const sortedBy = (idx: number[], key: (i: number) => string | number): Uint32Array => {
      const keysArr = idx.map(key);
      const order = idx
        .map((_, k) => k)
        .sort((a, b) => {
          const ka = keysArr[a]!,
            kb = keysArr[b]!;
          return ka < kb ? -1 : ka > kb ? 1 : idx[a]! - idx[b]!;
        });
      return Uint32Array.from(order.map((k) => idx[k]!));
    };
    const all = Array.from({ length: n }, (_, i) => i);

    const stats: ImportStats = {
      packageUpdates: this.stats.packageUpdates,
      coreFragments: this.stats.coreFragments,
      extendedFragments: this.stats.extendedFragments,
      localizedFragments: this.stats.localizedFragments,
      missingCore: slots.filter((s) => (s.flags & F_FROM_PACKAGE) !== 0 && (s.flags & F_HAS_CORE) === 0).length,
      orphanFragments: this.stats.orphanFragments,
      unresolvedReferences: unresolved,
      unsupportedRules: { ...this.stats.unsupportedRules },
      fileLocations: this.stats.fileLocations,
    };

    return {
      format: 'patchscan-catalog',
      version: CATALOG_FORMAT_VERSION,
      createdAt,
      source,
      stats,
      strings: encodeStrings(list),
      updates: {
        count: n,
        updateId: col(U32, (s) => s.updateId),
        revisionNumber: col(U32, (s) => s.revisionNumber),
        revisionId: col(U32, (s) => s.revisionId),
        type: col(U8, (s) => s.type),
        flags: col(U8, (s) => s.flags),
        action: col(U8, (s) => s.action),
        categoryType: col(U8, (s) => s.categoryType),
        severity: col(U8, (s) => s.severity),
        kb: col(U32, (s) => s.kb),
        bulletin: col(U32, (s) => s.bulletin),
        handler: col(U32, (s) => s.handler),
        supportUrl: col(U32, (s) => s.supportUrl),
        creationDate: col(U32, (s) => s.creationDate),
        defaultLanguage: col(U32, (s) => s.defaultLanguage),
        payloadFiles: col(U32, (s) => s.payloadFiles),
        rules,
        metadataElement: col(U32, (s) => s.metadataElement),
      },
      metadata: { offsets: metaOffsets, pairs: metaPairs.finish() },
      categories: { offsets: catOffsets, type: catType.finish(), guid: catGuid.finish(), target: catTarget.finish() },
      prerequisites: {
        groupOffsets: prerequisites.groupOffsets,
        groupKind: prerequisites.groupKind,
        memberOffsets: prerequisites.memberOffsets,
        guid: prerequisites.guid,
        target: prerequisites.target,
      },
      bundles,
      bundledBy,
      supersedes: { offsets: supOffsets, guid: supGuid.finish(), target: supArr },
      supersededBy,
      dependents,
      localized: {
        offsets: locOffsets,
        language: lLang.finish(),
        title: lTitle.finish(),
        description: lDesc.finish(),
        moreInfoUrl: lMore.finish(),
      },
      cves: { offsets: cveOffsets, value: cveVal.finish() },
      languages: { offsets: langOffsets, value: langVal.finish() },
      nodes: {
        count: this.nodeCount,
        op: this.nodeOp.finish(),
        childOffsets: this.childOffsets.finish(),
        children: this.children.finish(),
        attrOffsets: this.attrOffsets.finish(),
        attrs: this.attrs.finish(),
        factOffsets: this.factOffsets.finish(),
        facts: nodeFacts,
      },
      facts: {
        count: this.factIds.size,
        kind: this.factKind.finish(),
        argOffsets: this.factArgOffsets.finish(),
        args: this.factArgs.finish(),
        uses,
      },
      ruleTypes: [...RULE_TYPE_IDS],
      indexes: {
        byUpdateId: sortedBy(all, (i) => list[slots[i]!.updateId]!),
        byRevisionId: sortedBy(all, (i) => slots[i]!.revisionId),
        byKb: sortedBy(
          all.filter((i) => slots[i]!.kb !== 0),
          (i) => list[slots[i]!.kb]!,
        ),
      },
    };
  }
}
