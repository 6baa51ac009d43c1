// What deciding a distinct machine's updates would cost as one flat pass (issue 14, item 3: the direction for the
// next pass, bench/RESULTS.md). A real scan decides on demand, recursively (stateCode → decide → prerequisites →
// slot: ~34,000 calls per machine). Here, for each machine, the updates the real scan decided are taken in one
// dependency order fixed per catalog (bundled updates and prerequisites first) and decided from dense arrays — the
// class's value, the three slot values, the bundled updates' states — with the state table of machine-scan.ts. It
// prints how many states agree with the scan's and both costs per machine. It leaves out what a real flat pass must
// also do (evaluate the classes, gather which updates to decide, read slot values through the section memo,
// supersedence), so it bounds the recursion's overhead rather than promising a figure. Reads the scan's private
// working memory: a measurement, not an API.
//
//   npm run build && node bench/flat-decisions.mjs      # CAT=…pscat FLEET=…msgpack (default: bench/.work's, 100 % distinct)
import { readFileSync } from 'node:fs';
import { Catalog } from '../dist/engine/catalog/catalog.js';
import { readCatalogFile } from '../dist/engine/catalog/file.js';
import { msgpackValueEnd } from '../dist/engine/inventory/msgpack-frames.js';
import { decodeInventory } from '../dist/engine/inventory/validate.js';
import { scanOutcomes } from '../dist/engine/fleet/scan-outcomes.js';
import { Scanner } from '../dist/engine/scanner/scanner.js';
import { prerequisiteClasses } from '../dist/engine/scanner/prerequisite-classes.js';

const c = new Catalog(readCatalogFile(process.env.CAT ?? 'bench/.work/catalog-50000-1.pscat'));
const bytes = readFileSync(process.env.FLEET ?? 'bench/.work/fleet-50000-5000-d100.msgpack');
const MACHINES = 200;
const invs = [];
for (let at = 0; at < bytes.length && invs.length < 2 * MACHINES; ) {
  const end = msgpackValueEnd(bytes, at);
  invs.push(decodeInventory(bytes.subarray(at, end), 'fleet'));
  at = end;
}
const scanner = new Scanner(c);
const options = { all: false, reasons: false };
for (const inv of invs) scanOutcomes(scanner, inv, options); // warm: every rule value of these machines shared

// One dependency order per catalog: an update after its bundled updates and its prerequisites (post-order DFS).
const n = c.size;
const { bundles: b, prerequisites: p } = c.data;
const pos = new Int32Array(n).fill(-1);
const seen = new Uint8Array(n);
let next = 0;
const deps = (v) => {
  const out = [];
  for (const l of [b, p])
    for (let g = l.groupOffsets[v]; g < l.groupOffsets[v + 1]; g++)
      for (let m = l.memberOffsets[g]; m < l.memberOffsets[g + 1]; m++) if (l.target[m] >= 0) out.push(l.target[m]);
  return out;
};
for (let r = 0; r < n; r++) {
  if (seen[r]) continue;
  seen[r] = 1;
  const stack = [[r, deps(r), 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [v, ds] = top;
    if (top[2] < ds.length) {
      const d = ds[top[2]++];
      if (!seen[d]) {
        seen[d] = 1;
        stack.push([d, deps(d), 0]);
      }
    } else {
      stack.pop();
      pos[v] = next++;
    }
  }
}

// What the real scan of each machine decided, its classes' values and its slot values (its working memory).
const machines = [];
for (let m = 0; m < MACHINES; m++) {
  const real = scanner.withMachineScan.bind(scanner);
  let captured;
  scanner.withMachineScan = (inv, fn) =>
    real(inv, (s) => {
      const result = fn(s);
      const slots = new Int8Array(n * 3).fill(-1);
      for (let i = 0; i < n; i++) if (s.codes[i] !== 0) for (let q = 0; q < 3; q++) slots[i * 3 + q] = s.slot(i, q);
      captured = { codes: Uint8Array.from(s.codes), classes: Int8Array.from(s.classMemo), slots };
      return result;
    });
  scanOutcomes(scanner, invs[m], options);
  scanner.withMachineScan = real;
  const decided = [];
  for (let i = 0; i < n; i++) if (captured.codes[i] !== 0) decided.push(i);
  decided.sort((x, y) => pos[x] - pos[y]);
  machines.push({ decided: Int32Array.from(decided), ...captured });
}

// The flat pass (state codes as machine-scan.ts: 2 Installed, 3 Required, 4 NotApplicable, 5 Unknown; tri 0 F, 1 T, 2 U).
const acyclicClassOf = prerequisiteClasses(c).acyclicClassOf;
const type = c.data.updates.type;
const first = new Int32Array(n),
  end = new Int32Array(n);
for (let i = 0; i < n; i++) {
  first[i] = b.memberOffsets[b.groupOffsets[i]];
  end[i] = b.memberOffsets[b.groupOffsets[i + 1]];
}
const state = new Uint8Array(n);
function flat({ decided, classes, slots, codes }) {
  let agree = 0;
  for (let k = 0; k < decided.length; k++) {
    const i = decided[k];
    const cl = acyclicClassOf[i];
    const pre = cl >= 0 ? classes[cl] : 1;
    let st;
    if (pre === 0) st = 4;
    else if (type[i] >= 2) {
      const v = slots[i * 3];
      st = v === 1 && pre === 1 ? 2 : v === 0 ? 4 : 5;
    } else if (end[i] > first[i]) {
      let req = false,
        unk = false,
        inst = false;
      for (let m = first[i]; m < end[i]; m++) {
        const t = b.target[m];
        const s = t < 0 ? 5 : state[t] || 4;
        if (s === 3) {
          req = true;
          break;
        }
        if (s === 5) unk = true;
        else if (s === 2) inst = true;
      }
      st = req ? 3 : unk ? 5 : inst ? 2 : 4;
      if (pre === 2 && st !== 4) st = 5;
    } else {
      const installed = slots[i * 3],
        installable = slots[i * 3 + 1],
        superseded = slots[i * 3 + 2];
      if (installed === 1 && pre === 1) st = 2;
      else if (installed === 0 && superseded === 0 && installable === 1 && pre === 1) st = 3;
      else if (installed === 0 && (superseded === 1 || installable === 0)) st = 4;
      else st = 5;
    }
    state[i] = st;
    if (st === codes[i]) agree++;
  }
  for (let k = 0; k < decided.length; k++) state[decided[k]] = 0;
  return agree;
}

let agree = 0,
  total = 0;
for (const mc of machines) {
  agree += flat(mc);
  total += mc.decided.length;
}
console.log(
  `${machines.length} machines, ${Math.round(total / machines.length)} updates decided per machine; ` +
    `the flat pass gives the scan's state for ${((agree / total) * 100).toFixed(1)} % of them`,
);
const ms = (u, count) => ((u.user + u.system) / 1000 / count).toFixed(3);
for (let round = 0; round < 3; round++) {
  let t = process.cpuUsage();
  for (let r = 0; r < 5; r++) for (const mc of machines) flat(mc);
  const flatMs = ms(process.cpuUsage(t), 5 * machines.length);
  t = process.cpuUsage();
  for (let r = 0; r < 5; r++) for (let m = 0; m < machines.length; m++) scanOutcomes(scanner, invs[m], options);
  console.log(`flat pass ${flatMs} ms per machine; the scan, every rule value shared, ${ms(process.cpuUsage(t), 5 * machines.length)} ms per machine`);
}
