// In-process A/B of two builds' first-of-a-profile scans (issue 14, item 3). On this 2-core VM, single-process timings
// of one build moved by up to 40 % between runs; here both builds are loaded in one process and their scanners
// alternate machine by machine (which one goes first alternates too), so both see the same load and cache weather.
// Outcomes are compared word for word on every machine (and reasons on the first REASONS machines).
//
//   A=OLD/dist B=dist node bench/ab-builds.mjs
//     N=800         machines read from the fleet (the first WARM only warm up)      WARM=50
//     FLEET=…       default bench/.work/fleet-50000-5000-d100.msgpack (100 % distinct)
//     CAT=…         default bench/.work/catalog-50000-1.pscat
//     AGAIN=1       scan the same machines once more: every rule value shared (what deciding alone costs)
//     ALL=1         every update's outcome, not only the reportable ones that apply
//     REASONS=150   also compare reasons on that many machines
//
// A build's dist directory must resolve `msgpackr` (a checkout with node_modules, or a symlink to one). Each build
// loads its own catalog, so both together run slower than either alone: read the ratio, not the milliseconds.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
/** A module of a build's dist directory (relative to the current directory or absolute). */
const at = (dist, path) => pathToFileURL(join(resolve(dist), path)).href;
const load = async (D) => ({
  Catalog: (await import(at(D, '/engine/catalog/catalog.js'))).Catalog,
  readCatalogFile: (await import(at(D, '/engine/catalog/file.js'))).readCatalogFile,
  scanOutcomes: (await import(at(D, '/engine/fleet/scan-outcomes.js'))).scanOutcomes,
  Scanner: (await import(at(D, '/engine/scanner/scanner.js'))).Scanner,
  msgpackValueEnd: (await import(at(D, '/engine/inventory/msgpack-frames.js'))).msgpackValueEnd,
  decodeInventory: (await import(at(D, '/engine/inventory/validate.js'))).decodeInventory,
});
const A = await load(process.env.A),
  B = await load(process.env.B);
const N = +(process.env.N ?? 800),
  WARM = +(process.env.WARM ?? 50);
const fleet = process.env.FLEET ?? 'bench/.work/fleet-50000-5000-d100.msgpack';
const bytes = readFileSync(fleet);
const invs = [];
for (let at = 0; at < bytes.length && invs.length < N;) {
  const end = A.msgpackValueEnd(bytes, at);
  invs.push(A.decodeInventory(bytes.subarray(at, end), 'fleet'));
  at = end;
}
const cat = process.env.CAT ?? 'bench/.work/catalog-50000-1.pscat';
const sa = new A.Scanner(new A.Catalog(A.readCatalogFile(cat))),
  sb = new B.Scanner(new B.Catalog(B.readCatalogFile(cat)));
const o = { all: process.env.ALL === '1', reasons: false };
let ta = 0,
  tb = 0,
  diff = 0;
const t = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const pass = (measure) => {
  for (let k = 0; k < invs.length; k++) {
    const first = k % 2 === 0;
    const run = (S, sc) => {
      const t0 = t();
      const r = S.scanOutcomes(sc, invs[k], o);
      return [r, t() - t0];
    };
    let ra, rb, da, db;
    if (first) {
      [ra, da] = run(A, sa);
      [rb, db] = run(B, sb);
    } else {
      [rb, db] = run(B, sb);
      [ra, da] = run(A, sa);
    }
    if (measure && k >= WARM) {
      ta += da;
      tb += db;
    }
    const x = ra.outcomes,
      y = rb.outcomes;
    if (x.length !== y.length || x.some((w, j) => w !== y[j])) diff++;
  }
};
pass(true);
const n = invs.length - WARM;
console.log(
  `first pass: A ${(ta / 1000 / n).toFixed(3)} ms  B ${(tb / 1000 / n).toFixed(3)} ms  A/B ${(ta / tb).toFixed(3)}x  differ ${diff}`,
);
if (process.env.AGAIN === '1') {
  ta = tb = 0;
  diff = 0;
  pass(true);
  console.log(
    `again:      A ${(ta / 1000 / n).toFixed(3)} ms  B ${(tb / 1000 / n).toFixed(3)} ms  A/B ${(ta / tb).toFixed(3)}x  differ ${diff}`,
  );
}
const R = +(process.env.REASONS ?? 0);
if (R > 0) {
  let rd = 0;
  const ro = { all: false, reasons: true };
  for (let k = 0; k < Math.min(R, invs.length); k++) {
    const ra = A.scanOutcomes(sa, invs[k], ro),
      rb = B.scanOutcomes(sb, invs[k], ro);
    if (JSON.stringify(ra.reasons) !== JSON.stringify(rb.reasons) || ra.outcomes.some((w, j) => w !== rb.outcomes[j])) rd++;
  }
  console.log(`reasons compared on ${R}: differ ${rd}`);
}
