/**
 * Read access to a compiled catalog: lookups through the stored sorted indexes (binary search, nothing rebuilt
 * at load), relations, titles, and rule trees rebuilt as {@link RuleNode}s for display and evaluation.
 */
import {
  CATEGORY_TYPES,
  DEPLOYMENT_ACTIONS,
  SEVERITIES,
  UPDATE_TYPES,
  type CategoryType,
  type DeploymentAction,
  type RuleNode,
  type RuleSlot,
  type Severity,
  type UpdateType,
} from '../model.js';
import { FACT_KINDS, type FactKind } from '../rules/facts.js';
import { classificationName } from './classifications.js';
import { isReportableCode } from './codes.js';
import { StringReader } from './string-table.js';
import { ruleSpec } from '../rules/registry.js';
import {
  F_BUNDLE,
  F_EXPLICIT,
  F_HAS_CORE,
  F_KB_FROM_TITLE,
  F_LEAF,
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
} from './data.js';

export interface UpdateRef {
  readonly index: number; // -1 when the catalog does not hold it
  readonly updateId: string;
}

export interface PrerequisiteGroup {
  readonly kind: 'update' | 'atLeastOne' | 'atLeastOneCategory';
  readonly members: readonly UpdateRef[];
}

export interface FactInfo {
  readonly id: number;
  readonly kind: FactKind;
  readonly args: readonly string[];
  readonly uses: number;
  /** An argument names HKEY_LOOP_TARGET: the value depends on the RegKeyLoop subkey being visited. */
  readonly loopRelative: boolean;
}

export class Catalog {
  /** The string table's strings, decoded as they are asked for (string-table.ts). */
  private readonly strings: StringReader;

  constructor(readonly data: CatalogData) {
    this.strings = new StringReader(data.strings);
  }

  get size(): number {
    return this.data.updates.count;
  }

  str(id: number): string {
    return this.strings.get(id);
  }

  updateId(i: number): string {
    return this.str(this.data.updates.updateId[i]!);
  }
  revisionNumber(i: number): number {
    return this.data.updates.revisionNumber[i]!;
  }
  revisionId(i: number): number {
    return this.data.updates.revisionId[i]!;
  }
  updateType(i: number): UpdateType {
    return UPDATE_TYPES[this.data.updates.type[i]!]!;
  }
  deploymentAction(i: number): DeploymentAction {
    return DEPLOYMENT_ACTIONS[this.data.updates.action[i]!]!;
  }
  categoryType(i: number): CategoryType | undefined {
    const c = this.data.updates.categoryType[i]!;
    return c === 0 ? undefined : CATEGORY_TYPES[c - 1];
  }
  severity(i: number): Severity {
    return SEVERITIES[this.data.updates.severity[i]!] ?? '';
  }
  kb(i: number): string {
    return this.str(this.data.updates.kb[i]!);
  }
  /** Where update `i`'s KB came from: its extended fragment's KBArticleID, or its title's "(KBnnnnnnn)". */
  kbSource(i: number): 'fragment' | 'title' | undefined {
    if (this.data.updates.kb[i] === 0) return undefined;
    return (this.data.updates.flags[i]! & F_KB_FROM_TITLE) !== 0 ? 'title' : 'fragment';
  }
  isLeaf(i: number): boolean {
    return (this.data.updates.flags[i]! & F_LEAF) !== 0;
  }
  isBundle(i: number): boolean {
    return (this.data.updates.flags[i]! & F_BUNDLE) !== 0;
  }
  explicitlyDeployable(i: number): boolean {
    return (this.data.updates.flags[i]! & F_EXPLICIT) !== 0;
  }
  /** Whether update `i` is a row of the default report: software that is not a bundle-only child (read as codes: hot path). */
  isReportable(i: number): boolean {
    return isReportableCode(this.data.updates.type[i]!, this.data.updates.action[i]!);
  }
  hasCore(i: number): boolean {
    return (this.data.updates.flags[i]! & F_HAS_CORE) !== 0;
  }

  /** Title in `language`, else the default language, else any; '' when the catalog has none. */
  title(i: number, language = 'en'): string {
    const l = this.data.localized;
    let any = '';
    const def = this.str(this.data.updates.defaultLanguage[i]!);
    let fallback = '';
    for (let k = l.offsets[i]!; k < l.offsets[i + 1]!; k++) {
      const lang = this.str(l.language[k]!);
      const t = this.str(l.title[k]!);
      if (lang === language) return t;
      if (lang === def) fallback = t;
      if (!any) any = t;
    }
    return fallback || any;
  }

  /**
   * When the revision was published: package.xml's CreationDate (ISO 8601), '' when the catalog has none. The
   * offline catalog carries no other date; Microsoft sets it when a revision is published, so it is the release date
   * reports show (a re-published revision shows its re-publication date).
   */
  releaseDate(i: number): string {
    return this.str(this.data.updates.creationDate[i]!);
  }

  /** The More-info link: the localized MoreInfoUrl in `language` (else the default language, else any), else SupportUrl. */
  moreInfoUrl(i: number, language = 'en'): string {
    const l = this.data.localized;
    const def = this.str(this.data.updates.defaultLanguage[i]!);
    let fallback = '';
    let any = '';
    for (let k = l.offsets[i]!; k < l.offsets[i + 1]!; k++) {
      const url = this.str(l.moreInfoUrl[k]!);
      if (!url) continue;
      const lang = this.str(l.language[k]!);
      if (lang === language) return url;
      if (lang === def) fallback = url;
      if (!any) any = url;
    }
    return fallback || any || this.str(this.data.updates.supportUrl[i]!);
  }

  /** Updates naming a CVE (`CVE-2024-21412`, any case), in catalog order. A scan of every update's CVE list. */
  findByCve(cve: string): number[] {
    const want = cve.trim().toUpperCase();
    const c = this.data.cves;
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) {
      for (let k = c.offsets[i]!; k < c.offsets[i + 1]!; k++) {
        if (this.str(c.value[k]!).toUpperCase() === want) {
          out.push(i);
          break;
        }
      }
    }
    return out;
  }

  localized(i: number): { language: string; title: string; description: string; moreInfoUrl: string }[] {
    const l = this.data.localized;
    const out = [];
    for (let k = l.offsets[i]!; k < l.offsets[i + 1]!; k++) {
      out.push({
        language: this.str(l.language[k]!),
        title: this.str(l.title[k]!),
        description: this.str(l.description[k]!),
        moreInfoUrl: this.str(l.moreInfoUrl[k]!),
      });
    }
    return out;
  }

  private bsearch(index: Uint32Array, key: (i: number) => string | number, want: string | number): number {
    let lo = 0;
    let hi = index.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (key(index[mid]!) < want) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** All revisions of an UpdateId (normally one), highest revision last. */
  findByUpdateId(updateId: string): number[] {
    const want = updateId.toLowerCase();
    const idx = this.data.indexes.byUpdateId;
    const out: number[] = [];
    for (let p = this.bsearch(idx, (i) => this.updateId(i), want); p < idx.length && this.updateId(idx[p]!) === want; p++)
      out.push(idx[p]!);
    return out.sort((a, b) => this.revisionNumber(a) - this.revisionNumber(b));
  }

  findByRevisionId(revisionId: number): number | undefined {
    const idx = this.data.indexes.byRevisionId;
    const p = this.bsearch(idx, (i) => this.revisionId(i), revisionId);
    return p < idx.length && this.revisionId(idx[p]!) === revisionId ? idx[p] : undefined;
  }

  /** Updates carrying a KB number (`KB5026368` or `5026368`). */
  findByKb(kb: string): number[] {
    const want = kb.replace(/^kb/i, '');
    const idx = this.data.indexes.byKb;
    const out: number[] = [];
    for (let p = this.bsearch(idx, (i) => this.kb(i), want); p < idx.length && this.kb(idx[p]!) === want; p++) out.push(idx[p]!);
    return out;
  }

  /** Resolves a user's query: an UpdateId, `KB123`/`123`, or a RevisionId. */
  find(query: string): number[] {
    const q = query.trim();
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(q)) return this.findByUpdateId(q);
    const byKb = this.findByKb(q);
    if (byKb.length > 0) return byKb;
    if (/^\d+$/.test(q)) {
      const r = this.findByRevisionId(Number(q));
      if (r !== undefined) return [r];
    }
    return [];
  }

  private refs(offsets: Uint32Array, guid: Uint32Array | undefined, target: Int32Array, i: number): UpdateRef[] {
    const out: UpdateRef[] = [];
    for (let k = offsets[i]!; k < offsets[i + 1]!; k++) {
      const t = target[k]!;
      out.push({ index: t, updateId: guid ? this.str(guid[k]!) : this.updateId(t) });
    }
    return out;
  }

  categories(i: number): { type: string; ref: UpdateRef }[] {
    const c = this.data.categories;
    const out = [];
    for (let k = c.offsets[i]!; k < c.offsets[i + 1]!; k++)
      out.push({ type: this.str(c.type[k]!), ref: { index: c.target[k]!, updateId: this.str(c.guid[k]!) } });
    return out;
  }

  prerequisites(i: number): PrerequisiteGroup[] {
    const p = this.data.prerequisites;
    const out: PrerequisiteGroup[] = [];
    for (let g = p.groupOffsets[i]!; g < p.groupOffsets[i + 1]!; g++) {
      const kind =
        p.groupKind[g] === G_SINGLE ? 'update' : p.groupKind[g] === G_AT_LEAST_ONE_CATEGORY ? 'atLeastOneCategory' : 'atLeastOne';
      out.push({ kind, members: this.refs(p.memberOffsets, p.guid, p.target, g) });
    }
    return out;
  }

  bundledUpdates(i: number): { kind: 'update' | 'atLeastOne'; members: (UpdateRef & { revisionNumber: number })[] }[] {
    const b = this.data.bundles;
    const out = [];
    for (let g = b.groupOffsets[i]!; g < b.groupOffsets[i + 1]!; g++) {
      const members = [];
      for (let k = b.memberOffsets[g]!; k < b.memberOffsets[g + 1]!; k++) {
        members.push({ index: b.target[k]!, updateId: this.str(b.guid[k]!), revisionNumber: b.revisionNumber[k]! });
      }
      out.push({ kind: b.groupKind[g] === G_SINGLE ? ('update' as const) : ('atLeastOne' as const), members });
    }
    return out;
  }

  bundledBy(i: number): UpdateRef[] {
    return this.refs(this.data.bundledBy.offsets, undefined, this.data.bundledBy.target, i);
  }
  supersedes(i: number): UpdateRef[] {
    return this.refs(this.data.supersedes.offsets, this.data.supersedes.guid, this.data.supersedes.target, i);
  }
  supersededBy(i: number): UpdateRef[] {
    return this.refs(this.data.supersededBy.offsets, undefined, this.data.supersededBy.target, i);
  }
  dependents(i: number): UpdateRef[] {
    return this.refs(this.data.dependents.offsets, undefined, this.data.dependents.target, i);
  }
  cves(i: number): string[] {
    const c = this.data.cves;
    return Array.from(c.value.subarray(c.offsets[i], c.offsets[i + 1]), (v) => this.str(v));
  }

  /**
   * The UpdateClassification category's name (e.g. "Security Updates"): its title, else Microsoft's name for it, else
   * its GUID ({@link categoryName}).
   */
  classification(i: number): string {
    const names = (this.classificationNames ??= new Array<string | undefined>(this.size));
    return (names[i] ??= this.categoriesOfType(i, 'UpdateClassification')[0] ?? '');
  }
  /** The titles of the Product categories the update belongs to (their GUIDs when not in the catalog). */
  products(i: number): readonly string[] {
    const names = (this.productNames ??= new Array<readonly string[] | undefined>(this.size));
    return (names[i] ??= Object.freeze(this.categoriesOfType(i, 'Product')));
  }
  // Kept per update once asked for: a site tallies both for every outcome of every result set it stores, and
  // finding them each time (categories, then each one's title among its languages) took ~0.7 ms per 1,800 outcomes.
  private classificationNames: (string | undefined)[] | undefined;
  private productNames: (readonly string[] | undefined)[] | undefined;
  private categoriesOfType(i: number, type: CategoryType): string[] {
    return this.categories(i)
      .filter((c) => c.type === type)
      .map((c) => this.categoryName(type, c.ref.index, c.ref.updateId));
  }
  /**
   * What every report calls a category an update belongs to (its index in this catalog, -1 when not in it): its title;
   * for a classification the catalog lacks or carries without a title, Microsoft's name for it (classifications.ts);
   * else its UpdateId. One rule, so a site's per-set counts (adapters/site/result-groups.ts) name groups as the
   * reports that drill into them do.
   */
  categoryName(type: CategoryType, index: number, updateId: string): string {
    return (index >= 0 && this.title(index)) || (type === 'UpdateClassification' ? classificationName(updateId) : undefined) || updateId;
  }

  metadata(i: number): { element: string; attrs: Record<string, string> } | undefined {
    const el = this.data.updates.metadataElement[i]!;
    if (el === 0) return undefined;
    const m = this.data.metadata;
    const attrs: Record<string, string> = {};
    for (let k = m.offsets[i]!; k < m.offsets[i + 1]!; k += 2) attrs[this.str(m.pairs[k]!)] = this.str(m.pairs[k + 1]!);
    return { element: this.str(el), attrs };
  }

  ruleRoot(i: number, slot: RuleSlot): number {
    return this.data.updates.rules[i * 3 + SLOT_INDEX[slot]]!;
  }

  /** Rebuilds a rule node (and its subtree) from the flat arrays. */
  ruleTree(node: number): RuleNode {
    const n = this.data.nodes;
    const op = n.op[node]!;
    const kids = Array.from(n.children.subarray(n.childOffsets[node], n.childOffsets[node + 1]), (c) => this.ruleTree(c));
    const attrs = this.nodeAttrs(node);
    switch (op) {
      case OP_FALSE:
        return { kind: 'const', value: false };
      case OP_TRUE:
        return { kind: 'const', value: true };
      case OP_AND:
        return { kind: 'and', children: kids };
      case OP_OR:
        return { kind: 'or', children: kids };
      case OP_NOT:
        return { kind: 'not', child: kids[0]! };
      case OP_UNSUPPORTED: {
        const { $element = '', $reason = '', ...rest } = attrs;
        return { kind: 'unsupported', element: $element, reason: $reason, attrs: rest };
      }
      default: {
        const type = this.data.ruleTypes[op - RULE_OP_BASE] ?? `#${op}`;
        const { $items, ...rest } = attrs;
        return {
          kind: 'rule',
          type,
          family: ruleSpec(type)?.family ?? 'base',
          attrs: rest,
          ...(kids[0] ? { child: kids[0] } : {}),
          ...($items ? { items: JSON.parse($items) as [] } : {}),
        };
      }
    }
  }

  nodeAttrs(node: number): Record<string, string> {
    const n = this.data.nodes;
    const out: Record<string, string> = {};
    for (let k = n.attrOffsets[node]!; k < n.attrOffsets[node + 1]!; k += 2) out[this.str(n.attrs[k]!)] = this.str(n.attrs[k + 1]!);
    return out;
  }

  nodeFacts(node: number): number[] {
    const n = this.data.nodes;
    // A loop, not Array.from over a subarray: a worker asks this of each of ~41,000 leaves as it compiles them, and the
    // view and its iterator cost ~1.5 µs a call.
    const out: number[] = [];
    for (let k = n.factOffsets[node]!; k < n.factOffsets[node + 1]!; k++) out.push(n.facts[k]!);
    return out;
  }

  private factCache: (FactInfo | undefined)[] | undefined;

  /** One fact of the dictionary (built once per catalog, then shared by every scan). */
  fact(id: number): FactInfo {
    const cache = (this.factCache ??= new Array<FactInfo | undefined>(this.data.facts.count));
    return (cache[id] ??= this.buildFact(id));
  }

  private buildFact(id: number): FactInfo {
    const f = this.data.facts;
    const args: string[] = [];
    for (let k = f.argOffsets[id]!; k < f.argOffsets[id + 1]!; k++) args.push(this.str(f.args[k]!));
    return {
      id,
      kind: FACT_KINDS[f.kind[id]!]!,
      args,
      uses: f.uses[id]!,
      loopRelative: args.some((a) => a.startsWith('HKEY_LOOP_TARGET')),
    };
  }

  /** Rule element names used by the catalog's rule nodes, with counts (unsupported ones as `unsupported:<name>`). */
  ruleTypeCounts(): Record<string, number> {
    const n = this.data.nodes;
    const counts: Record<string, number> = {};
    const names = ['False', 'True', 'And', 'Or', 'Not'];
    for (let i = 0; i < n.count; i++) {
      const op = n.op[i]!;
      let name: string;
      if (op < names.length) name = names[op]!;
      else if (op === OP_UNSUPPORTED) name = `unsupported:${this.nodeAttrs(i).$element ?? '?'}`;
      else name = this.data.ruleTypes[op - RULE_OP_BASE] ?? `#${op}`;
      counts[name] = (counts[name] ?? 0) + 1;
    }
    return counts;
  }
}
