/**
 * The carry-over of each machine's result set from one catalog to the next — both ways a site stores it
 * (CatalogCarryOver.carryChanges: own and unsure rows worded again, every other row the stored one; and carry: the
 * set stored whole) — against a full scan of the new catalog: every outcome's state, supersedence and reason. Written
 * by a red-team pass (a helper session, 2026-12-01).
 */
import { CatalogCarryOver } from '../../adapters/site/catalog-carry-over.js';
import type { Catalog } from '../../engine/catalog/catalog.js';
import { outcomeIndex, outcomeState, outcomeSupersedence } from '../../engine/fleet/result-set.js';
import { scanOutcomes } from '../../engine/fleet/scan-outcomes.js';
import type { Inventory } from '../../engine/inventory/types.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import type { ResultUpdateRow } from '../../adapters/store/port.js';

export interface Full {
  words: Uint32Array;
  rows: ResultUpdateRow[];
  byKey: Map<string, ResultUpdateRow>;
}

export function fullScan(c: Catalog, inv: Inventory, scanner = new Scanner(c)): Full {
  const { outcomes, reasons } = scanOutcomes(scanner, inv, { all: false, reasons: true });
  const rows: ResultUpdateRow[] = [];
  const byKey = new Map<string, ResultUpdateRow>();
  outcomes.forEach((w, n) => {
    const i = outcomeIndex(w);
    const r: ResultUpdateRow = {
      update_index: i,
      update_id: c.updateId(i),
      revision_number: c.revisionNumber(i),
      state: outcomeState(w),
      superseded: outcomeSupersedence(w),
      reason: reasons![n],
    };
    rows.push(r);
    byKey.set(`${r.update_id}/${r.revision_number}`, r);
  });
  rows.sort((a, b) => a.update_index - b.update_index);
  return { words: Uint32Array.from(outcomes).sort(), rows, byKey };
}

const show = (r: ResultUpdateRow | undefined): string =>
  r ? `${r.update_id}/${r.revision_number} ${r.state} sup=${r.superseded} reason=${JSON.stringify(r.reason)}` : '(none)';

/** What {@link differences} compared, over every call (a test checks it compared something). */
export const stats = { cases: 0, refused: 0, machines: 0, rows: 0, kept: 0, worded: 0, keptAffected: 0, reasonChanged: 0 };

/**
 * Differences between the carried set (as a site would show it: own + unsure rows, the rest the old full scan's row
 * of the same revision) and the new full scan; also the `carry` (whole) path. Empty: none. A refused carry-over (a full
 * rescan) is exact by definition and counts as such.
 */
export function differences(from: Catalog, to: Catalog, inventories: readonly Inventory[], opts: { decode?: boolean } = {}): string[] {
  let co = CatalogCarryOver.between(1, from, to);
  if (opts.decode) co = CatalogCarryOver.decode(1, co.encode(), to);
  stats.cases++;
  if (co.refused !== undefined) {
    stats.refused++;
    return [];
  }
  const out: string[] = [];
  const sa = new Scanner(from),
    sb = new Scanner(to);
  inventories.forEach((inv, m) => {
    stats.machines++;
    const before = fullScan(from, inv, sa);
    const after = fullScan(to, inv, sb);
    const want = new Map(after.rows.map((r) => [r.update_index, r]));
    // carryChanges: rows shown = own ∪ unsure ∪ (old rows of the rest)
    const ch = co.carryChanges(inv, before.words, undefined, Number.POSITIVE_INFINITY);
    if (!ch) out.push(`machine ${m}: carryChanges undefined`);
    else {
      if ([...ch.words].join() !== [...after.words].join()) {
        const a = new Set(ch.words),
          b = new Set(after.words);
        for (const w of ch.words)
          if (!b.has(w))
            out.push(
              `machine ${m}: words: carried has ${to.updateId(outcomeIndex(w))} ${outcomeState(w)} sup=${outcomeSupersedence(w)}; full: ${show(want.get(outcomeIndex(w)))}`,
            );
        for (const w of after.words)
          if (!a.has(w) && !ch.words.some((x) => outcomeIndex(x) === outcomeIndex(w)))
            out.push(`machine ${m}: words: full has ${show(want.get(outcomeIndex(w)))}, carried none`);
      }
      const worded = new Map<number, { state: string; supersedence: number; reason: string }>();
      for (const o of [...ch.own, ...ch.unsure]) worded.set(o.index, o);
      for (const w of ch.words) {
        const i = outcomeIndex(w);
        const f = want.get(i);
        const key = `${to.updateId(i)}/${to.revisionNumber(i)}`;
        const o = worded.get(i);
        const reason = o ? o.reason : before.byKey.get(key)?.reason;
        if (o && (o.state !== outcomeState(w) || o.supersedence !== outcomeSupersedence(w)))
          out.push(`machine ${m}: own row differs from word ${key}`);
        if (!f) continue;
        stats.rows++;
        if (o) stats.worded++;
        else stats.kept++;
        if (before.byKey.get(key)?.reason !== f.reason) stats.reasonChanged++;
        if (reason !== f.reason)
          out.push(
            `machine ${m}: ${o ? 'worded' : 'kept'} reason of ${key} ${f.state} sup=${f.superseded}: carried ${JSON.stringify(reason)} vs full ${JSON.stringify(f.reason)}`,
          );
      }
      // removed: ids the old set had and the new has no outcome for
      const newIds = new Set(after.rows.map((r) => r.update_id));
      for (const id of ch.removed) if (newIds.has(id)) out.push(`machine ${m}: removed ${id} but full has it`);
    }
    // carry (whole)
    const whole = co.carry(inv, before.rows);
    if (!whole) out.push(`machine ${m}: carry undefined`);
    else {
      const got = whole
        .map((o) => `${o.index} ${o.state} ${o.supersedence} ${o.reason}`)
        .sort()
        .join('\n');
      const exp = after.rows
        .map((r) => `${r.update_index} ${r.state} ${r.superseded} ${r.reason}`)
        .sort()
        .join('\n');
      if (got !== exp) {
        const g = new Set(got.split('\n')),
          e = new Set(exp.split('\n'));
        out.push(
          `machine ${m}: carry(): got-only ${[...g]
            .filter((x) => !e.has(x))
            .slice(0, 2)
            .join(' | ')} ; want-only ${[...e]
            .filter((x) => !g.has(x))
            .slice(0, 2)
            .join(' | ')}`,
        );
      }
    }
  });
  return out;
}
