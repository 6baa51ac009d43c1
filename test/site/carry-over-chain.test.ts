/**
 * Whole-site differential (SQLite): one site carries its result sets over, one rescans in full, over a chain of eight
 * catalog changes made of the edits in test/helpers/catalog-edits.ts (kinds the Patch Tuesday edit does not make),
 * some undoing earlier steps (back to the records of two steps before, whole or per update), with some clients
 * uploading another inventory (another client's, or a machine never seen) just before a new catalog goes into
 * service. Every client's stored rows and the classification and product summaries must be the full rescan's. From a
 * red-team pass (a helper session, 2026-12-01), which ran it over six seeds of fifteen steps and found nothing wrong.
 */
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { buildCatalog, catalogRecords } from '../../bench/patch-tuesday.js';
import { groupSummary } from '../../adapters/site/reports.js';
import type { Site } from '../../adapters/site/site.js';
import type { FleetModel } from '../../corpus/generate-fleet.js';
import { writeCatalogFile } from '../../engine/catalog/file.js';
import type { UpdateRecord } from '../../engine/model.js';
import { MACHINES, openSitePair, putInService } from '../helpers/carry-over-site.js';
import { tempDir } from '../helpers/tmp.js';
import { EDITS, prng } from '../helpers/catalog-edits.js';

async function rows(site: Site): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let k = 0; k < MACHINES; k++) {
    const scan = (await site.store.computerScan(`PC-${k}`))!;
    const layers = await site.store.resultSetLayers(scan.set_id);
    out.set(
      `PC-${k}`,
      layers.rows.map((u) => `${u.update_index} ${u.update_id} ${u.revision_number} ${u.state} ${u.superseded} ${u.reason}`),
    );
    expect(await site.store.resultUpdates(scan.set_id)).toEqual(layers.rows);
  }
  return out;
}

async function newInventories(site: Site, model: FleetModel, step: number): Promise<void> {
  const packr = new Packr({ useRecords: false });
  await site.store.transaction(async (tx) => {
    for (let k = 0; k < MACHINES; k++) {
      if ((k + step) % 6 !== 0) continue;
      // Another client's inventory (a profile stored on the old catalog), or a machine never seen.
      const inv = step % 2 ? model.machine(11, (k + 7) % MACHINES) : model.machine(13, k, true);
      const id = (await tx.client(`PC-${k}`))!.id;
      await tx.addInventory(id, packr.pack({ ...inv, computer: { name: `PC-${k}` } }), 'x64');
    }
  });
}

const SEED = 5;
const STEPS = 8;

describe('a site carrying its result sets over a chain of catalog changes (SQLite)', () => {
  it('stores for every client the rows a full rescan stores, step after step', async () => {
    const root = tempDir();
    const sites = await openSitePair(root);
    const { carrying, full, incremental, rescan, logged, model } = sites;
    const failures: string[] = [];
    try {
      const first = catalogRecords(sites.catalog);
      let records = first;
      const history: UpdateRecord[][] = [first];
      const rnd = prng(SEED);
      const names = Object.keys(EDITS);
      let carried = 0;
      const steps: string[] = [];
      for (let s = 0; s < STEPS; s++) {
        let what: string;
        if (s > 1 && rnd() < 0.3) {
          // Undo: back to the records of two steps ago for every update id changed since (or all of them).
          const back = history[history.length - 2];
          records =
            rnd() < 0.5
              ? back
              : (() => {
                  const byId = new Map(back.map((r) => [r.updateId, r]));
                  return records.map((r) => (rnd() < 0.5 && byId.has(r.updateId) ? byId.get(r.updateId)! : r));
                })();
          what = 'undo';
        } else {
          const picked: string[] = [];
          for (let e = 0, n = 1 + Math.floor(rnd() * 3); e < n; e++) {
            const name = names[Math.floor(rnd() * names.length)];
            const revise = rnd() < 0.5;
            try {
              records = EDITS[name](records, rnd, revise);
              picked.push(name + (revise ? '+rev' : ''));
            } catch {
              /* no candidate */
            }
          }
          what = picked.join(',');
        }
        history.push(records);
        const file = join(root, `step-${s}.pscat`);
        writeCatalogFile(file, buildCatalog(records, file).data);
        if (s % 3 === 2) {
          await newInventories(carrying, model, s);
          await newInventories(full, model, s);
        }
        await putInService(carrying, file, s % 2 === 1);
        await putInService(full, file);
        const c = await incremental.runQueue();
        await rescan.runQueue();
        carried += c.carried;
        const got = await rows(carrying);
        const want = await rows(full);
        for (const [name, w] of want) {
          const g = got.get(name)!;
          if (JSON.stringify(g) !== JSON.stringify(w)) {
            const gs = new Set(g),
              ws = new Set(w);
            failures.push(
              `step ${s} [${what}] ${name}: carried-only ${JSON.stringify(g.filter((x) => !ws.has(x)).slice(0, 2))} full-only ${JSON.stringify(w.filter((x) => !gs.has(x)).slice(0, 2))}`,
            );
          }
        }
        for (const kind of ['classification', 'product'] as const)
          if (JSON.stringify(await groupSummary(carrying.store, kind)) !== JSON.stringify(await groupSummary(full.store, kind)))
            failures.push(`step ${s} [${what}]: ${kind} groups differ`);
        steps.push(`step ${s} [${what}]: ${c.carried} carried`);
      }
      // Most sets were carried over (a step that carries none compares full scans with full scans).
      expect(carried, steps.join('; ')).toBeGreaterThan((STEPS * MACHINES) / 2);
      expect(failures).toEqual([]);
      // Nothing failed quietly: a carry-over that failed logs and scans in full.
      expect(logged.filter((l) => /failed/.test(l))).toEqual([]);
    } finally {
      await sites.close();
    }
  }, 900_000);
});
