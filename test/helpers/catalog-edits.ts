/**
 * Catalog edits on update records, deterministic from a PRNG, for the carry-over's differential tests
 * (test/site/carry-over-edits.property.test.ts): the ways a catalog changes between two versions that the Patch
 * Tuesday edit of bench/patch-tuesday.ts does not make — prerequisites retargeted, added, removed or naming an update
 * the catalog lacks; a detectoid's rules or prerequisites; one rule slot; bundle membership and bundle-ness; deployment
 * action; supersedence added or removed between existing updates; an update others name expiring; categories; titles
 * and KBs; revision numbers going back; a second revision of one id. Written by a red-team pass (a helper session,
 * 2026-12-01). An edit with no candidate in the records throws (the caller skips it); `revise` gives the edited update
 * a new revision, else its content changes under the same one.
 */
import type { RuleNode, UpdateRecord } from '../../engine/model.js';
import { patchTuesday, retitled, splitmix32 } from '../../bench/patch-tuesday.js';

export type Rnd = () => number;
/** The edits' random numbers: the Patch Tuesday edit's generator, from a seed. */
export const prng: (seed: number) => Rnd = splitmix32;
const pickOf = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
const idxOf = (rnd: Rnd, rs: readonly UpdateRecord[], f: (r: UpdateRecord) => boolean): number => {
  const ks = rs.map((r, k) => (f(r) ? k : -1)).filter((k) => k >= 0);
  return ks.length ? pickOf(rnd, ks) : -1;
};
const nextRev = (rs: readonly UpdateRecord[]): number => Math.max(...rs.map((r) => r.revisionId)) + 1;
/** A new revision of r (revision number and id raised). */
const bump = (rs: readonly UpdateRecord[], r: UpdateRecord): UpdateRecord => ({
  ...r,
  revisionNumber: r.revisionNumber + 1,
  revisionId: nextRev(rs),
});
const set = (rs: readonly UpdateRecord[], k: number, r: UpdateRecord): UpdateRecord[] => rs.map((x, j) => (j === k ? r : x));

const isSoftware = (r: UpdateRecord) => r.updateType === 'Software';
const isDet = (r: UpdateRecord) => r.updateType === 'Detectoid';
const isCat = (r: UpdateRecord) => r.updateType === 'Category';

export type EditFn = (rs: UpdateRecord[], rnd: Rnd, revise: boolean) => UpdateRecord[];

/** [name, edit]; `revise`: the edited update gets a new revision (else its content changes under the same one). */
export const EDITS: Record<string, EditFn> = {
  prereqRetarget(rs, rnd, revise) {
    const k = idxOf(rnd, rs, (r) => isSoftware(r) && r.prerequisites.some((p) => p.kind === 'update'));
    const dets = rs.filter(isDet);
    const r = rs[k];
    const g = r.prerequisites.findIndex((p) => p.kind === 'update');
    const p = r.prerequisites.map((x, j) => (j === g ? { kind: 'update' as const, updateId: pickOf(rnd, dets).updateId } : x));
    const n = { ...r, prerequisites: p };
    return set(rs, k, revise ? bump(rs, n) : n);
  },
  prereqAdd(rs, rnd, revise) {
    const k = idxOf(rnd, rs, isSoftware);
    const r = rs[k];
    const n = { ...r, prerequisites: [...r.prerequisites, { kind: 'update' as const, updateId: pickOf(rnd, rs.filter(isDet)).updateId }] };
    return set(rs, k, revise ? bump(rs, n) : n);
  },
  prereqRemove(rs, rnd, revise) {
    const k = idxOf(rnd, rs, (r) => isSoftware(r) && r.prerequisites.length > 0);
    const r = rs[k];
    const g = Math.floor(rnd() * r.prerequisites.length);
    const n = { ...r, prerequisites: r.prerequisites.filter((_, j) => j !== g) };
    return set(rs, k, revise ? bump(rs, n) : n);
  },
  prereqMissing(rs, rnd, revise) {
    const k = idxOf(rnd, rs, isSoftware);
    const r = rs[k];
    const n = { ...r, prerequisites: [...r.prerequisites, { kind: 'update' as const, updateId: 'deadbeef-0000-4000-8000-000000000001' }] };
    return set(rs, k, revise ? bump(rs, n) : n);
  },
  /** A detectoid's IsInstalled becomes another detectoid's (or its negation): many readers flip. */
  detectoidRules(rs, rnd, revise) {
    const k = idxOf(rnd, rs, isDet);
    const other = pickOf(rnd, rs.filter(isDet));
    const r = rs[k];
    const rule: RuleNode =
      rnd() < 0.5
        ? (other.rules.IsInstalled ?? { kind: 'const', value: true })
        : { kind: 'not', child: r.rules.IsInstalled ?? { kind: 'const', value: false } };
    const n = { ...r, rules: { ...r.rules, IsInstalled: rule } };
    return set(rs, k, revise ? bump(rs, n) : n);
  },
  /** A category's or detectoid's prerequisites change. */
  detectoidPrereq(rs, rnd, revise) {
    const k = idxOf(rnd, rs, (r) => isDet(r) || isCat(r));
    const r = rs[k];
    const other = pickOf(
      rnd,
      rs.filter((x) => isDet(x) && x.updateId !== r.updateId),
    );
    const n = { ...r, prerequisites: r.prerequisites.length && rnd() < 0.5 ? [] : [{ kind: 'update' as const, updateId: other.updateId }] };
    return set(rs, k, revise ? bump(rs, n) : n);
  },
  /** One slot of a software update's rules changes (IsInstalled, IsInstallable or IsSuperseded). */
  slotRule(rs, rnd, revise) {
    const k = idxOf(rnd, rs, (r) => isSoftware(r) && !r.isBundle);
    const r = rs[k];
    const slot = pickOf(rnd, ['IsInstalled', 'IsInstallable', 'IsSuperseded'] as const);
    const donors = rs.filter((x) => x.rules[slot]);
    const donor = donors.length ? pickOf(rnd, donors).rules[slot] : { kind: 'const' as const, value: rnd() < 0.5 };
    const v = rnd();
    const rule: RuleNode | undefined =
      v < 0.3
        ? undefined
        : v < 0.6
          ? donor
          : v < 0.8
            ? { kind: 'const', value: rnd() < 0.5 }
            : { kind: 'not', child: r.rules[slot] ?? { kind: 'const', value: true } };
    const rules = { ...r.rules };
    if (rule) rules[slot] = rule;
    else delete rules[slot];
    const n = { ...r, rules };
    return set(rs, k, revise ? bump(rs, n) : n);
  },
  /** A bundle gains or loses a child. */
  bundleMembers(rs, rnd, revise) {
    const k = idxOf(rnd, rs, (r) => r.bundledUpdates.length > 0);
    const r = rs[k];
    let groups = [...r.bundledUpdates];
    if (rnd() < 0.5 && groups.length > 1) groups.splice(Math.floor(rnd() * groups.length), 1);
    else {
      const child = pickOf(
        rnd,
        rs.filter((x) => x.deploymentAction === 'Bundle'),
      );
      groups = [...groups, { kind: 'update', child: { updateId: child.updateId, revisionNumber: child.revisionNumber } }];
    }
    const n = { ...r, bundledUpdates: groups };
    return set(rs, k, revise ? bump(rs, n) : n);
  },
  /** A bundle stops being one (its children dropped), or a leaf becomes a bundle of existing children. */
  bundleness(rs, rnd, revise) {
    if (rnd() < 0.5) {
      const k = idxOf(rnd, rs, (r) => r.bundledUpdates.length > 0);
      const r = rs[k];
      const n: UpdateRecord = { ...r, isBundle: false, isLeaf: true, bundledUpdates: [] };
      return set(rs, k, revise ? bump(rs, n) : n);
    }
    const k = idxOf(rnd, rs, (r) => isSoftware(r) && r.deploymentAction === 'Install' && r.bundledUpdates.length === 0);
    const r = rs[k];
    const kids = [
      pickOf(
        rnd,
        rs.filter((x) => x.deploymentAction === 'Bundle'),
      ),
      pickOf(
        rnd,
        rs.filter((x) => x.deploymentAction === 'Bundle'),
      ),
    ];
    const n: UpdateRecord = {
      ...r,
      isBundle: true,
      bundledUpdates: [{ kind: 'atLeastOne', children: kids.map((c) => ({ updateId: c.updateId, revisionNumber: c.revisionNumber })) }],
    };
    return set(rs, k, revise ? bump(rs, n) : n);
  },
  /** A child only bundled becomes deployable on its own, or an installable update becomes only bundled. */
  deploymentAction(rs, rnd, revise) {
    const k = idxOf(rnd, rs, (r) => isSoftware(r));
    const r = rs[k];
    const n: UpdateRecord = { ...r, deploymentAction: r.deploymentAction === 'Bundle' ? 'Install' : 'Bundle' };
    return set(rs, k, revise ? bump(rs, n) : n);
  },
  /** An existing update supersedes another existing (older) one. */
  supersedeAdd(rs, rnd, revise) {
    const a = idxOf(rnd, rs, isSoftware);
    const s = idxOf(rnd, rs, (r) => isSoftware(r) && r.updateId !== rs[a].updateId);
    const r = rs[s];
    const n = { ...r, supersedes: [...r.supersedes, rs[a].updateId] };
    return set(rs, s, revise ? bump(rs, n) : n);
  },
  /** A supersedence goes (both sides of it). */
  supersedeRemove(rs, rnd, revise) {
    const s = idxOf(rnd, rs, (r) => r.supersedes.length > 0);
    const r = rs[s];
    const gone = pickOf(rnd, r.supersedes);
    const n = { ...r, supersedes: r.supersedes.filter((x) => x !== gone) };
    let out = set(rs, s, revise ? bump(rs, n) : n);
    out = out.map((x) =>
      x.updateId === gone ? { ...x, supersededByRevisionIds: x.supersededByRevisionIds.filter((id) => id !== r.revisionId) } : x,
    );
    return out;
  },
  /** An update others name as prerequisite (a detectoid) or bundle (a child), or one that supersedes others, expires. */
  removeNamed(rs, rnd) {
    const named = new Set<string>();
    const v = rnd();
    for (const r of rs) {
      if (v < 0.4) for (const p of r.prerequisites) for (const id of p.kind === 'update' ? [p.updateId] : p.updateIds) named.add(id);
      else if (v < 0.7)
        for (const g of r.bundledUpdates) for (const c of g.kind === 'update' ? [g.child] : g.children) named.add(c.updateId);
      else for (const id of r.supersedes) named.add(id);
    }
    const cands = v >= 0.7 ? rs.filter((r) => r.supersedes.length > 0) : rs.filter((r) => named.has(r.updateId) && !isCat(r));
    const gone = pickOf(rnd, cands).updateId;
    return rs.filter((r) => r.updateId !== gone);
  },
  /** Classification or product of an update changes (report-only: the groups count it). */
  categories(rs, rnd) {
    const k = idxOf(rnd, rs, (r) => isSoftware(r) && r.categories.length > 0);
    const r = rs[k];
    const cats = rs.filter(isCat);
    const c = r.categories.map((x) => (rnd() < 0.5 ? { ...x, id: pickOf(rnd, cats).updateId } : x));
    return set(rs, k, { ...r, categories: c });
  },
  /** New title or KB on a detectoid, a category, or a software update. */
  rename(rs, rnd) {
    const v = rnd();
    const k = idxOf(rnd, rs, v < 0.33 ? isDet : v < 0.66 ? isCat : isSoftware);
    const r = rs[k];
    const n = rnd() < 0.5 ? retitled(r, `(t${Math.floor(rnd() * 1000)})`) : { ...r, kb: String(1000000 + Math.floor(rnd() * 100000)) };
    return set(rs, k, n);
  },
  /** Many titles at once (detectoids and categories). */
  renameMany(rs, rnd) {
    return rs.map((r) => ((isDet(r) || isCat(r)) && rnd() < 0.5 ? retitled(r, '(x)') : r));
  },
  /** The revision number goes back (a new revision id, lower number), rules unchanged. */
  revisionBack(rs, rnd) {
    const k = idxOf(rnd, rs, (r) => r.revisionNumber > 1);
    const r = rs[k];
    return set(rs, k, { ...r, revisionNumber: r.revisionNumber - 1, revisionId: rnd() < 0.5 ? r.revisionId : nextRev(rs) });
  },
  /** A new revision with nothing else changed. */
  revisionOnly(rs, rnd) {
    const k = idxOf(rnd, rs, () => true);
    return set(rs, k, bump(rs, rs[k]));
  },
  /** A new superseding copy of an existing update (a new UpdateId), as Patch Tuesday does, maybe of a detectoid's reader. */
  supersedingCopy(rs, rnd) {
    const k = idxOf(rnd, rs, isSoftware);
    const r = rs[k];
    const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
    const copy: UpdateRecord = {
      ...r,
      updateId: `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`,
      revisionNumber: 200,
      revisionId: nextRev(rs),
      supersedes: [r.updateId],
      supersededByRevisionIds: [],
      bundledByRevisionIds: [],
    };
    return [...rs, copy];
  },
  /** A second revision of an existing update id held next to the first (a catalog with two revisions of one id). */
  twoRevisions(rs, rnd) {
    const k = idxOf(rnd, rs, (r) => !isCat(r) && rs.filter((x) => x.updateId === r.updateId).length === 1);
    const r = rs[k];
    const v = rnd();
    const second: UpdateRecord = {
      ...r,
      revisionNumber: r.revisionNumber + (v < 0.5 ? 1 : -1),
      revisionId: nextRev(rs),
      rules: v < 0.25 ? { IsInstalled: { kind: 'const', value: rnd() < 0.5 } } : r.rules,
      supersededByRevisionIds: [],
      bundledByRevisionIds: [],
    };
    return [...rs, second];
  },
  /** Of an id held in several revisions, all but one go. */
  oneRevision(rs, rnd) {
    const ids = new Map<string, number>();
    for (const r of rs) ids.set(r.updateId, (ids.get(r.updateId) ?? 0) + 1);
    const dup = [...ids].filter(([, n]) => n > 1).map(([id]) => id);
    if (!dup.length) throw new Error('none');
    const id = pickOf(rnd, dup);
    const keep = pickOf(
      rnd,
      rs.filter((r) => r.updateId === id),
    ).revisionId;
    return rs.filter((r) => r.updateId !== id || r.revisionId === keep);
  },
  patchTuesday(rs, rnd) {
    return patchTuesday(rs, 1, Math.floor(rnd() * 1e6), { renames: rnd() < 0.5 }).records;
  },
};
