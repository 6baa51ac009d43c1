/**
 * A carried set keeps the stored reason of every outcome that is neither one of its own rows nor `unsure`
 * (CatalogCarryOver.carryChanges): kept because no reason it may quote changed (reasonsKept), or because this machine's
 * scan shows nothing it names or follows changed (ReasonCheck). Differential over catalog edits, in process: for every
 * machine, each such outcome's reason as a full scan of the new catalog words it is the full scan's of the old one.
 */
import { describe, expect, it } from 'vitest';
import { buildCatalog, catalogRecords, patchTuesday, retitled, supersedingCopies, withoutCopies } from '../../bench/patch-tuesday.js';
import { CatalogCarryOver } from '../../adapters/site/catalog-carry-over.js';
import { FleetModel } from '../../corpus/generate-fleet.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { catalogDelta } from '../../engine/catalog/catalog-delta.js';
import { readCatalogFile } from '../../engine/catalog/file.js';
import { outcomeIndex } from '../../engine/fleet/result-set.js';
import { Scanner } from '../../engine/scanner/scanner.js';
import type { UpdateRecord } from '../../engine/model.js';
import { bundledCatalogFile } from '../helpers/bundled.js';
import { fullScan, type Full } from '../helpers/carry-over-diff.js';

const MACHINES = 40;

const renamed = (u: UpdateRecord): UpdateRecord => retitled(u, '(renamed)');

/** Every machine's full scan of a catalog: its outcomes, and its rows by "UpdateId/revision". */
function scanAll(c: Catalog, model: FleetModel): Full[] {
  const scanner = new Scanner(c);
  return Array.from({ length: MACHINES }, (_, k) => fullScan(c, model.machine(11, k), scanner));
}

describe('reasons a carried set keeps', () => {
  it('are the reasons a full scan of the new catalog gives, over edits that rename, supersede and expire', () => {
    const compiled = new Catalog(readCatalogFile(bundledCatalogFile()));
    const model = new FleetModel(compiled);
    // Rebuilt from its own records first: against the catalog compiled from XML nearly every update counts as changed.
    const a = buildCatalog(catalogRecords(compiled), 'base.pscat');
    let records = catalogRecords(a);
    const edits: [string, (r: UpdateRecord[]) => UpdateRecord[]][] = [
      // Titles changed on updates nothing else moved: every update only bundled, then every detectoid (the names a
      // bundle's or a prerequisite's reason quotes, of updates whose own reasons stay kept).
      ['new titles on updates only bundled', (r) => r.map((u) => (u.deploymentAction === 'Bundle' ? renamed(u) : u))],
      ['new titles on detectoids only', (r) => r.map((u) => (u.updateType === 'Detectoid' ? renamed(u) : u))],
      ['1 % edit', (r) => patchTuesday(r, 1, 1).records],
      ['3 % edit with new titles', (r) => patchTuesday(r, 3, 10, { renames: true }).records],
      // Copies deployed on their own: stored rows hold them, never a child.
      ['copies of bundled updates', (r) => supersedingCopies(r, { install: true })],
      ['the copies expired', withoutCopies],
      ['10 % edit with new titles', (r) => patchTuesday(r, 10, 4, { renames: true }).records],
      // Titles changed on every update but software (detectoids and the categories they need).
      ['new titles on all but software', (r) => r.map((u) => (u.updateType === 'Software' ? u : renamed(u)))],
    ];
    let from = a;
    let before = scanAll(from, model);
    let keptAffected = 0;
    let wordedAfterRenames = 0;
    for (const [what, edit] of edits) {
      records = edit(records);
      const to = buildCatalog(records, `${what}.pscat`);
      const co = CatalogCarryOver.between(1, from, to);
      expect(co.refused, what).toBeUndefined();
      const affected = catalogDelta(from, to).affected;
      const after = scanAll(to, model);
      for (let k = 0; k < MACHINES; k++) {
        const changes = co.carryChanges(model.machine(11, k), before[k].words, undefined, Number.POSITIVE_INFINITY)!;
        expect(changes, what).toBeDefined();
        expect([...changes.words], `${what}, machine ${k}`).toEqual([...after[k].words]);
        const worded = new Set([...changes.own, ...changes.unsure].map((o) => o.index));
        if (what.endsWith(' only')) wordedAfterRenames += worded.size;
        for (const o of [...changes.own, ...changes.unsure])
          expect(o.reason, `${what}, machine ${k}`).toBe(
            after[k].byKey.get(`${to.updateId(o.index)}/${to.revisionNumber(o.index)}`)?.reason,
          );
        for (const w of changes.words) {
          const i = outcomeIndex(w);
          if (worded.has(i)) continue;
          const key = `${to.updateId(i)}/${to.revisionNumber(i)}`;
          expect(before[k].byKey.get(key)?.reason, `${what}, machine ${k}, ${key}`).toBe(after[k].byKey.get(key)?.reason);
          if (affected[i] !== 0) keptAffected++;
        }
      }
      from = to;
      before = after;
    }
    // Not vacuous: outcomes of affected updates (never kept for every machine) were kept for some by their scan.
    expect(keptAffected).toBeGreaterThan(100);
    // And a rename alone had reasons worded again (those that name a renamed update).
    expect(wordedAfterRenames).toBeGreaterThan(100);
  }, 120_000);
});
