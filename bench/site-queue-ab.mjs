// A/B of two builds' queue runs on one kept site (issue 14, item 4): each run copies the site as the sync left it
// (`node dist/bench/site-carry-over.bench.js … --keep` leaves it, `carrying`), flushes the copy to disk, opens it with
// one build's modules and times ScanService.runQueue — the carry-over, or with FULL=1 the full rescan — then deletes
// the copy. The builds alternate run by run (which goes first alternates too), in one process each: on this shared
// 2-core VM a run's time moves by ±15 %, more than most changes, and side by side both builds see the same weather.
// Runs of one build in one process get warmer (JIT) from run to run, as the bench's repeated runs do.
//
//   A=OLD/dist B=dist SITE=bench/.work/site-carry-NNN/carrying node bench/site-queue-ab.mjs
//     RUNS=4      runs per build (the median is printed; the first run of each is the coldest)
//     FULL=1      the full rescan (`carryOver: false`) instead of the carry-over
//
// A build's dist directory must resolve its packages (a checkout with node_modules, or a symlink to one).
import { cpSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
// This checkout's build (npm run build): the flush every site bench does before it times a copy.
import { flushed } from '../dist/bench/inputs.js';

const at = (dist, path) => pathToFileURL(join(resolve(dist), path)).href;
const load = async (D) => ({
  name: D,
  Site: (await import(at(D, '/adapters/site/site.js'))).Site,
  ScanService: (await import(at(D, '/adapters/site/scan-service.js'))).ScanService,
});
const site = process.env.SITE;
if (!site || !process.env.A || !process.env.B) throw new Error('set A and B (two dist directories) and SITE (a kept site)');
const builds = [await load(process.env.A), await load(process.env.B)];
const runs = +(process.env.RUNS ?? 4);
const full = process.env.FULL === '1';

const times = builds.map(() => []);
for (let r = 0; r < runs; r++) {
  for (const b of r % 2 === 0 ? [0, 1] : [1, 0]) {
    const copy = `${site}-ab-${process.pid}`;
    rmSync(copy, { recursive: true, force: true });
    cpSync(site, copy, { recursive: true });
    flushed(copy);
    const s = await builds[b].Site.open(copy);
    const service = new builds[b].ScanService(s, { prune: false, carryOver: !full });
    const t = performance.now();
    const c0 = process.cpuUsage();
    const q = await service.runQueue();
    const took = (performance.now() - t) / 1000;
    const cpu = process.cpuUsage(c0);
    await service.close();
    await s.close();
    rmSync(copy, { recursive: true, force: true });
    times[b].push(took);
    console.log(
      `run ${r + 1}, ${b === 0 ? 'A' : 'B'}: ${took.toFixed(3)} s, CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, ` +
        `${q.scanned} scanned, ${q.carried} carried over`,
    );
  }
}
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
for (const [k, b] of builds.entries())
  console.log(
    `${k === 0 ? 'A' : 'B'} ${b.name}: median ${median(times[k]).toFixed(3)} s (${times[k].map((x) => x.toFixed(2)).join(', ')})`,
  );
console.log(`B ÷ A: ${(median(times[1]) / median(times[0])).toFixed(3)} (${full ? 'full rescan' : 'carry-over'})`);
