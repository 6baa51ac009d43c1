// The fleet path's flat decisions against MachineScan's on-demand ones, in one build and one process (issue 14,
// item 3; bench/RESULTS.md). Two scanners over one catalog — `flatDecisions: true` (the default) and `false` — scan
// the same machines, alternating machine by machine (which goes first alternates too), so both see the same load and
// cache weather. Outcomes are compared word for word on every machine; rule evaluations are printed too (the flat
// path is as lazy as the on-demand one, so they match while the section memo does not evict — past its budget, which
// values stay depends on the order they were first asked for). A second pass over the same machines measures
// deciding alone: every rule value is shared by then.
//
//   npm run build && node bench/flat-decisions.mjs
//     N=800 machines (the first WARM=50 only warm up)   FLEET=… (default bench/.work's 5,000, 100 % distinct)   CAT=…
import { readFileSync } from 'node:fs';
import { Catalog } from '../dist/engine/catalog/catalog.js';
import { readCatalogFile } from '../dist/engine/catalog/file.js';
import { msgpackValueEnd } from '../dist/engine/inventory/msgpack-frames.js';
import { decodeInventory } from '../dist/engine/inventory/validate.js';
import { scanOutcomes } from '../dist/engine/fleet/scan-outcomes.js';
import { Scanner } from '../dist/engine/scanner/scanner.js';

const N = +(process.env.N ?? 800),
  WARM = +(process.env.WARM ?? 50);
const c = new Catalog(readCatalogFile(process.env.CAT ?? 'bench/.work/catalog-50000-1.pscat'));
const bytes = readFileSync(process.env.FLEET ?? 'bench/.work/fleet-50000-5000-d100.msgpack');
const invs = [];
for (let at = 0; at < bytes.length && invs.length < N;) {
  const end = msgpackValueEnd(bytes, at);
  invs.push(decodeInventory(bytes.subarray(at, end), 'fleet'));
  at = end;
}
const flat = new Scanner(c);
const onDemand = new Scanner(c, { flatDecisions: false });
const options = { all: false, reasons: false };
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
let differ = 0;
function pass(label) {
  let tf = 0,
    to = 0,
    counted = 0;
  for (let k = 0; k < invs.length; k++) {
    const timed = (scanner) => {
      const t0 = cpu();
      const r = scanOutcomes(scanner, invs[k], options);
      return [r, cpu() - t0];
    };
    let a, da, b, db;
    if (k % 2 === 0) {
      [a, da] = timed(flat);
      [b, db] = timed(onDemand);
    } else {
      [b, db] = timed(onDemand);
      [a, da] = timed(flat);
    }
    if (a.outcomes.length !== b.outcomes.length || a.outcomes.some((w, j) => w !== b.outcomes[j])) differ++;
    if (k >= WARM) {
      tf += da;
      to += db;
      counted++;
    }
  }
  const ms = (t) => (t / 1000 / counted).toFixed(3);
  console.log(`${label}: flat ${ms(tf)} ms, on demand ${ms(to)} ms per machine (CPU): ${(to / tf).toFixed(2)} x`);
}
console.log(`${invs.length} machines, ${c.size} updates; both paths in one process, alternating machine by machine`);
pass('first pass (rule values shared only as far as earlier machines allow)');
pass('again (every rule value shared: deciding alone)');
const fs = flat.ruleValueStats(),
  os = onDemand.ruleValueStats();
console.log(
  `outcomes that differ: ${differ} of ${2 * invs.length} machine scans; rule evaluations: flat ${fs.evaluated}, on demand ${os.evaluated}` +
    (fs.evaluated === os.evaluated && fs.shared === os.shared ? ' (equal)' : ' (differ: the memo evicted?)'),
);
if (differ > 0) process.exitCode = 1;
