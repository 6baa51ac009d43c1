/**
 * The catalog diff's test of "the same for a scan" (catalog-delta.ts SameContent: the two updates' structures compared,
 * strings by their bytes) against the string fingerprints it replaced (test/helpers/update-fingerprints.ts), over
 * random catalogs with every rule type × random edits made with and without a new revision (the edits of the
 * carry-over's differential tests: rules, prerequisites, bundles, actions, metadata, titles…), each catalog compiled on
 * its own (other string numbers, other node indexes). The changed UpdateIds must be exactly those whose fingerprints
 * differ.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { Catalog } from '../../engine/catalog/catalog.js';
import { catalogDelta } from '../../engine/catalog/catalog-delta.js';
import type { BundledRef, BundleGroup, Prerequisite, RuleNode, UpdateRecord } from '../../engine/model.js';
import { EDITS, prng } from '../helpers/catalog-edits.js';
import { loadedCatalogOf } from '../helpers/update-record.js';
import { Fingerprints } from '../helpers/update-fingerprints.js';
import { catalogArbOf } from '../reference/random-world.js';

vi.setConfig({ testTimeout: 120_000 });

const NAMES = Object.keys(EDITS).filter((n) => n !== 'patchTuesday');

/** Rule nodes of a tree, depth first. */
function* nodesOf(n: RuleNode | undefined): Generator<RuleNode> {
  if (!n) return;
  yield n;
  if (n.kind === 'and' || n.kind === 'or') for (const c of n.children) yield* nodesOf(c);
  else if (n.kind === 'not') yield* nodesOf(n.child);
  else if (n.kind === 'rule') yield* nodesOf(n.child);
}

/** Tree `n` with its k-th node (depth first) replaced by f(node); the rest shared. */
function replaced(n: RuleNode, k: { left: number }, f: (x: RuleNode) => RuleNode): RuleNode {
  if (k.left-- === 0) return f(n);
  if (n.kind === 'and' || n.kind === 'or') return { ...n, children: n.children.map((c) => replaced(c, k, f)) };
  if (n.kind === 'not') return { ...n, child: replaced(n.child, k, f) };
  if (n.kind === 'rule' && n.child) return { ...n, child: replaced(n.child, k, f) };
  return n;
}

type Fine = (rs: UpdateRecord[], pick: number) => UpdateRecord[] | undefined;
const SLOTS = ['IsInstalled', 'IsInstallable', 'IsSuperseded'] as const;

/**
 * The smallest changes a scan reads, made under the same revision: what the fingerprints and the structural comparison
 * must both see (one attribute of one rule, a metadata attribute, a prerequisite group's kind, a bundled revision).
 */
const FINE: Record<string, Fine> = {
  ruleAttribute(rs, pick) {
    const at: [number, (typeof SLOTS)[number], number][] = [];
    rs.forEach((r, k) =>
      SLOTS.forEach((slot) =>
        [...nodesOf(r.rules[slot])].forEach((n, j) => {
          if ((n.kind === 'rule' || n.kind === 'unsupported') && Object.keys(n.attrs).length > 0) at.push([k, slot, j]);
        }),
      ),
    );
    if (at.length === 0) return undefined;
    const [k, slot, j] = at[pick % at.length];
    const r = rs[k];
    const rule = replaced(r.rules[slot]!, { left: j }, (n) => {
      const attrs = (n as { attrs: Record<string, string> }).attrs;
      const name = Object.keys(attrs)[pick % Object.keys(attrs).length];
      return { ...n, attrs: { ...attrs, [name]: `${attrs[name]}1` } } as RuleNode;
    });
    return rs.map((x, i) => (i === k ? { ...r, rules: { ...r.rules, [slot]: rule } } : x));
  },
  metadataAttribute(rs, pick) {
    const at = rs.flatMap((r, k) => (r.metadata ? [k] : []));
    if (at.length === 0) return undefined;
    const k = at[pick % at.length];
    const m = rs[k].metadata!;
    const names = Object.keys(m.attrs);
    const metadata = names.length
      ? { ...m, attrs: { ...m.attrs, [names[pick % names.length]]: 'other' } }
      : { ...m, element: `${m.element}X` };
    return rs.map((x, i) => (i === k ? { ...x, metadata } : x));
  },
  prerequisiteKind(rs, pick) {
    // One required update becomes a group of one (another kind of group, the same member), or a group's category flag flips.
    const at = rs.flatMap((r, k) => (r.prerequisites.length ? [k] : []));
    if (at.length === 0) return undefined;
    const k = at[pick % at.length];
    const r = rs[k];
    const prerequisites = r.prerequisites.map((p, j): Prerequisite => {
      if (j !== pick % r.prerequisites.length) return p;
      return p.kind === 'update' ? { kind: 'atLeastOne', isCategory: false, updateIds: [p.updateId] } : { ...p, isCategory: !p.isCategory };
    });
    return rs.map((x, i) => (i === k ? { ...r, prerequisites } : x));
  },
  bundledRevision(rs, pick) {
    const at = rs.flatMap((r, k) => (r.bundledUpdates.length > 0 ? [k] : []));
    if (at.length === 0) return undefined;
    const k = at[pick % at.length];
    const r = rs[k];
    const next = (ref: BundledRef): BundledRef => ({ ...ref, revisionNumber: (ref.revisionNumber ?? 1) + 1 });
    const bundledUpdates = r.bundledUpdates.map((g, j): BundleGroup =>
      j !== pick % r.bundledUpdates.length
        ? g
        : g.kind === 'update'
          ? { ...g, child: next(g.child) }
          : { ...g, children: g.children.map((c, m) => (m === 0 ? next(c) : c)) },
    );
    return rs.map((x, i) => (i === k ? { ...r, bundledUpdates } : x));
  },
};

/** The UpdateIds the fingerprints call changed: held once by each catalog, with other fingerprints. */
function changedByFingerprints(from: Catalog, to: Catalog): string[] {
  const interned = new Map<string, number>();
  const a = new Fingerprints(from, interned);
  const b = new Fingerprints(to, interned);
  const at = (c: Catalog): Map<string, number[]> => {
    const m = new Map<string, number[]>();
    for (let i = 0; i < c.size; i++) m.set(c.updateId(i), [...(m.get(c.updateId(i)) ?? []), i]);
    return m;
  };
  const was = at(from);
  const out: string[] = [];
  for (const [id, is] of at(to)) {
    const old = was.get(id);
    if (old === undefined) continue;
    if (is.length !== 1 || old.length !== 1 || a.of(old[0]) !== b.of(is[0])) out.push(id);
  }
  return out.sort();
}

describe('catalog diff: the same for a scan', () => {
  it('changed UpdateIds are exactly those whose former fingerprints differ', () => {
    let changedSeen = 0,
      sameSeen = 0;
    fc.assert(
      fc.property(
        catalogArbOf({ rules: 'all', maxLeaves: 8, maxBundles: 3, maxSupersede: 8 }),
        fc.array(fc.tuple(fc.constantFrom(...NAMES), fc.nat(), fc.boolean()), { maxLength: 3 }),
        fc.array(fc.tuple(fc.constantFrom(...Object.keys(FINE)), fc.nat()), { maxLength: 3 }),
        (records, edits, fine) => {
          let edited: UpdateRecord[] = records;
          for (const [name, seed, revise] of edits) {
            try {
              edited = EDITS[name](edited, prng(seed), revise);
            } catch {
              // no candidate for this edit in these records
            }
          }
          for (const [name, pick] of fine) edited = FINE[name](edited, pick) ?? edited;
          const from = loadedCatalogOf(records, 'a');
          const to = loadedCatalogOf(edited, 'b');
          const want = changedByFingerprints(from, to);
          expect([...catalogDelta(from, to).changed].sort()).toEqual(want);
          changedSeen += want.length;
          sameSeen += Math.min(from.size, to.size) - want.length;
        },
      ),
      { numRuns: 500, seed: 1202 },
    );
    // Not vacuous: both answers were given many times.
    expect(changedSeen).toBeGreaterThan(200);
    expect(sameSeen).toBeGreaterThan(2000);
  });

  it('the same catalog compiled twice has no changed update', () => {
    fc.assert(
      fc.property(catalogArbOf({ rules: 'all', maxLeaves: 8, maxBundles: 3, maxSupersede: 8 }), (records) => {
        // Compiled from the records in another order: other string numbers and node indexes, the same content.
        const from = loadedCatalogOf(records, 'a');
        const to = loadedCatalogOf([...records].reverse(), 'b');
        const d = catalogDelta(from, to);
        expect(d.changed).toEqual([]);
        expect(d.added).toEqual([]);
        expect(d.removed).toEqual([]);
      }),
      { numRuns: 100, seed: 1203 },
    );
  });
});
