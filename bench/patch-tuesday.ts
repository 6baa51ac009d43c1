/**
 * A compiled catalog back as update records, and a "Patch Tuesday" edit of them: the catalog that would follow it a
 * month later, for bench/catalog-delta.bench.ts. Both catalogs are built from records by the same builder, so they
 * differ only where the edit says.
 */
import { Catalog } from '../engine/catalog/catalog.js';
import { CatalogBuilder } from '../engine/catalog/builder.js';
import type { BundleGroup, Prerequisite, RuleNode, RuleSlot, UpdateRecord } from '../engine/model.js';

const SLOTS: readonly RuleSlot[] = ['IsInstalled', 'IsInstallable', 'IsSuperseded'];

export function catalogRecords(c: Catalog): UpdateRecord[] {
  const out: UpdateRecord[] = [];
  for (let i = 0; i < c.size; i++) {
    const rules: Partial<Record<RuleSlot, RuleNode>> = {};
    for (const slot of SLOTS) {
      const root = c.ruleRoot(i, slot);
      if (root >= 0) rules[slot] = c.ruleTree(root);
    }
    const prerequisites: Prerequisite[] = c
      .prerequisites(i)
      .map((g) =>
        g.kind === 'update'
          ? { kind: 'update', updateId: g.members[0]!.updateId }
          : { kind: 'atLeastOne', isCategory: g.kind === 'atLeastOneCategory', updateIds: g.members.map((m) => m.updateId) },
      );
    const child = (m: { updateId: string; revisionNumber: number }) => ({
      updateId: m.updateId,
      ...(m.revisionNumber ? { revisionNumber: m.revisionNumber } : {}),
    });
    const bundledUpdates: BundleGroup[] = c
      .bundledUpdates(i)
      .map((g) =>
        g.kind === 'update' ? { kind: 'update', child: child(g.members[0]!) } : { kind: 'atLeastOne', children: g.members.map(child) },
      );
    const meta = c.metadata(i);
    const categoryType = c.categoryType(i);
    out.push({
      updateId: c.updateId(i),
      revisionNumber: c.revisionNumber(i),
      revisionId: c.revisionId(i),
      updateType: c.updateType(i),
      isLeaf: c.isLeaf(i),
      isBundle: c.isBundle(i),
      deploymentAction: c.deploymentAction(i),
      explicitlyDeployable: c.explicitlyDeployable(i),
      categories: c.categories(i).map((x) => ({ type: x.type, id: x.ref.updateId })),
      prerequisites,
      bundledUpdates,
      bundledByRevisionIds: c.bundledBy(i).map((r) => c.revisionId(r.index)),
      supersedes: c.supersedes(i).map((r) => r.updateId),
      supersededByRevisionIds: c.supersededBy(i).map((r) => c.revisionId(r.index)),
      rules,
      ...(meta ? { metadata: meta } : {}),
      ...(c.kb(i) ? { kb: c.kb(i) } : {}),
      severity: c.severity(i),
      cves: c.cves(i),
      ...(categoryType ? { categoryType } : {}),
      localized: c.localized(i),
    });
  }
  return out;
}

export function buildCatalog(records: readonly UpdateRecord[], path: string): Catalog {
  const b = new CatalogBuilder();
  for (const r of records) b.addRecord(r);
  return new Catalog(b.build({ kind: 'records', path, sha256: '' }));
}

export interface EditSummary {
  readonly added: number;
  readonly revised: number;
  readonly removed: number;
  readonly revisedByType: Record<string, number>;
  /** Of the new and revised updates: bundles, and updates only bundled (deployment action Bundle). */
  readonly bundles: number;
  readonly bundledOnly: number;
}

/** splitmix32 (as the corpus generator's): numbers in [0, 1), the same for the same seed. */
export function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

/**
 * Edits `percent` % of the revisions: 40 % of that many new updates (each a newer copy of a software update or bundle,
 * with a new UpdateId, superseding it), 40 % new revisions of existing updates of any type (rule trees restructured), 20 %
 * software updates expired (removed). Deterministic from `seed`. With `renames`, half the updates the new ones
 * supersede and half the revised ones get a new title too (nothing a scan reads: only the names reasons quote).
 */
export function patchTuesday(
  records: readonly UpdateRecord[],
  percent: number,
  seed: number,
  options: { readonly renames?: boolean } = {},
): { records: UpdateRecord[]; summary: EditSummary } {
  const rnd = splitmix32(seed);
  const edits = Math.max(3, Math.round((records.length * percent) / 100));
  const out = [...records];
  let nextRevision = Math.max(...records.map((r) => r.revisionId)) + 1;
  const software = (): number => {
    for (;;) {
      const k = Math.floor(rnd() * out.length);
      if (out[k]!.updateType === 'Software') return k;
    }
  };
  const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
  const touched = new Set<number>();
  const revisedByType: Record<string, number> = {};
  const nAdd = Math.round(edits * 0.4),
    nRevise = Math.round(edits * 0.4),
    nRemove = edits - nAdd - nRevise;
  for (let n = 0; n < nRevise; n++) {
    let k: number;
    do k = Math.floor(rnd() * out.length);
    while (touched.has(k));
    touched.add(k);
    const r = out[k]!;
    const rules: Partial<Record<RuleSlot, RuleNode>> = {};
    for (const [slot, node] of Object.entries(r.rules) as [RuleSlot, RuleNode][]) rules[slot] = { kind: 'and', children: [node] };
    out[k] = { ...r, revisionNumber: r.revisionNumber + 1, revisionId: nextRevision++, rules };
    if (options.renames && rnd() < 0.5) out[k] = retitled(out[k]!);
    revisedByType[r.updateType] = (revisedByType[r.updateType] ?? 0) + 1;
  }
  const added: UpdateRecord[] = [];
  for (let n = 0; n < nAdd; n++) {
    const k = software();
    const r = out[k]!;
    if (options.renames && rnd() < 0.5) out[k] = retitled(r);
    added.push({
      ...r,
      updateId: `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`,
      revisionNumber: 200,
      revisionId: nextRevision++,
      supersedes: [r.updateId],
      supersededByRevisionIds: [],
      bundledByRevisionIds: [],
    });
  }
  const removed = new Set<number>();
  while (removed.size < nRemove) {
    const k = software();
    if (!touched.has(k)) removed.add(k);
  }
  return {
    records: [...out.filter((_, k) => !removed.has(k)), ...added],
    summary: {
      added: nAdd,
      revised: nRevise,
      removed: nRemove,
      revisedByType,
      bundles: [...added, ...[...touched].map((k) => out[k]!)].filter((r) => r.isBundle).length,
      bundledOnly: [...added, ...[...touched].map((k) => out[k]!)].filter((r) => r.deploymentAction === 'Bundle').length,
    },
  };
}

/** The record with every title changed (a month's re-titling): `suffix` appended. */
export function retitled(r: UpdateRecord, suffix = '(revised)'): UpdateRecord {
  return { ...r, localized: r.localized.map((l) => ({ ...l, title: `${l.title} ${suffix}` })) };
}

/** UpdateIds of the copies {@link supersedingCopies} adds start with it. */
const COPY_ID = '0c0c0c0c-0000-4000-8000-';

/**
 * Newer copies of the updates only bundled (deployment action Bundle), each superseding the one it copies: a bundle's
 * reason quotes its child's, whose supersedence then changes where the copy applies. With `install`, the copies are
 * deployed on their own (stored rows hold them, never a child); else only bundled, as what they copy.
 */
export function supersedingCopies(records: readonly UpdateRecord[], options: { readonly install?: boolean } = {}): UpdateRecord[] {
  let revision = Math.max(...records.map((r) => r.revisionId));
  const copies = records
    .filter((r) => r.deploymentAction === 'Bundle')
    .map((r, k) => ({
      ...r,
      ...(options.install ? { deploymentAction: 'Install' as const } : {}),
      updateId: `${COPY_ID}${String(k).padStart(12, '0')}`,
      revisionNumber: 200,
      revisionId: ++revision,
      supersedes: [r.updateId],
      supersededByRevisionIds: [],
      bundledByRevisionIds: [],
    }));
  return [...records, ...copies];
}

/** The records without the copies {@link supersedingCopies} added (they expire). */
export function withoutCopies(records: readonly UpdateRecord[]): UpdateRecord[] {
  return records.filter((r) => !r.updateId.startsWith(COPY_ID));
}
