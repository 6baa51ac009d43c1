/**
 * The catalog diff's former update fingerprints (engine/catalog/catalog-delta.ts before 2026-12-02), kept as the
 * reference the structural comparison that replaced them is tested against: a string per update of everything a scan
 * reads of it, rule trees numbered by content through one table shared by both catalogs.
 */
import type { Catalog } from '../../engine/catalog/catalog.js';
import { F_KB_FROM_TITLE, F_SOFTWARE, RULE_OP_BASE } from '../../engine/catalog/data.js';

const REPORT_ONLY_FLAGS = F_KB_FROM_TITLE | F_SOFTWARE;

/**
 * A key per update for everything a scan reads of it: equal keys = the same outcomes given the same inputs (compared
 * directly: only an update against its namesake). Rule trees are numbered through one table shared by both catalogs,
 * by content (type names, attributes, children's numbers), not by node
 * index or opcode, so equal trees of two catalogs get one number. Separators are control characters, which XML text
 * (the source of every string here) cannot hold.
 */
export class Fingerprints {
  private readonly trees: Int32Array;
  constructor(
    private readonly c: Catalog,
    private readonly interned: Map<string, number>,
  ) {
    this.trees = new Int32Array(c.data.nodes.count).fill(-1);
  }

  private intern(key: string): number {
    let n = this.interned.get(key);
    if (n === undefined) {
      n = this.interned.size;
      this.interned.set(key, n);
    }
    return n;
  }

  of(i: number): string {
    const c = this.c;
    const u = c.data.updates;
    // Of the flags, those a scan reads (not where the KB came from, nor package.xml's IsSoftware, which no rule reads).
    const flags = u.flags[i] & ~REPORT_ONLY_FLAGS;
    let s = `${u.revisionNumber[i]}\u0001${u.revisionId[i]}\u0001${u.type[i]}\u0001${u.action[i]}\u0001${flags}\u0001`;
    for (let slot = 0; slot < 3; slot++) s += `${this.tree(u.rules[i * 3 + slot])}\u0001`;
    if (u.metadataElement[i] !== 0) {
      s += c.str(u.metadataElement[i]);
      const m = c.data.metadata;
      for (let k = m.offsets[i]; k < m.offsets[i + 1]; k++) s += `\u0002${c.str(m.pairs[k])}`;
    }
    s += '\u0001';
    const p = c.data.prerequisites;
    for (let g = p.groupOffsets[i]; g < p.groupOffsets[i + 1]; g++) {
      s += `${p.groupKind[g]}:`;
      for (let m = p.memberOffsets[g]; m < p.memberOffsets[g + 1]; m++) s += `${c.str(p.guid[m])},`;
      s += ';';
    }
    s += '\u0001';
    const b = c.data.bundles;
    for (let g = b.groupOffsets[i]; g < b.groupOffsets[i + 1]; g++) {
      s += `${b.groupKind[g]}:`;
      for (let m = b.memberOffsets[g]; m < b.memberOffsets[g + 1]; m++) s += `${c.str(b.guid[m])}@${b.revisionNumber[m]},`;
      s += ';';
    }
    return s;
  }

  private tree(node: number): number {
    if (node < 0) return -1;
    const known = this.trees[node];
    if (known >= 0) return known;
    const c = this.c;
    const n = c.data.nodes;
    const op = n.op[node];
    let s = op >= RULE_OP_BASE ? (c.data.ruleTypes[op - RULE_OP_BASE] ?? `#${op}`) : String(op);
    for (let k = n.attrOffsets[node]; k < n.attrOffsets[node + 1]; k++) s += `\u0002${c.str(n.attrs[k])}`;
    s += '\u0001';
    for (let k = n.childOffsets[node]; k < n.childOffsets[node + 1]; k++) s += `${this.tree(n.children[k])},`;
    const id = this.intern(s);
    this.trees[node] = id;
    return id;
  }
}
