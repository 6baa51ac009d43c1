/**
 * Updates grouped by their prerequisite list, the way Windows Update orders a scan: detectoids and product
 * categories first, then only the updates whose prerequisites hold. A 50,000-revision catalog has tens of thousands
 * of updates but only a few dozen distinct prerequisite lists ("this product, on x64, in English"): a machine
 * evaluates each list once, and every update whose list is False is NotApplicable without being looked at.
 *
 * Built once per catalog (cached by its data), read by every scan.
 */
import type { Catalog } from '../catalog/catalog.js';
import { isReportableCode } from '../catalog/codes.js';
import type { CatalogData } from '../catalog/data.js';
import type { PrerequisiteClasses } from '../catalog/scan-index.js';
import { scanIndexFor } from './section-memo.js';

export type { PrerequisiteClasses } from '../catalog/scan-index.js';

const built = new WeakMap<CatalogData, PrerequisiteClasses>();

/** The catalog's classes: from its scan index (a catalog file's: catalog/scan-index.ts), else built once per catalog. */
export function prerequisiteClasses(c: Catalog): PrerequisiteClasses {
  let pc = built.get(c.data);
  if (pc === undefined) {
    pc = scanIndexFor(c)?.classes ?? buildPrerequisiteClasses(c);
    built.set(c.data, pc);
  }
  return pc;
}

export function buildPrerequisiteClasses(c: Catalog): PrerequisiteClasses {
  const p = c.data.prerequisites;
  const n = c.size;
  const classOf = new Int32Array(n);
  const ids = new Map<string, number>();
  const reps: number[] = [];
  for (let i = 0; i < n; i++) {
    // The key is the groups' member targets; -1 (not in the catalog) is a member like any other (never installed).
    let key = '';
    for (let g = p.groupOffsets[i]!; g < p.groupOffsets[i + 1]!; g++) {
      for (let m = p.memberOffsets[g]!; m < p.memberOffsets[g + 1]!; m++) key += `${p.target[m]},`;
      key += ';';
    }
    let id = ids.get(key);
    if (id === undefined) {
      id = reps.length;
      ids.set(key, id);
      reps.push(i);
    }
    classOf[i] = id;
  }
  const count = reps.length;
  const cycleOf = prerequisiteCycles(c);
  const acyclicMember = new Int32Array(count).fill(-1);
  for (let i = 0; i < n; i++) if (cycleOf[i]! < 0 && acyclicMember[classOf[i]!]! < 0) acyclicMember[classOf[i]!] = i;
  const { type, action } = c.data.updates;
  const lists: number[][] = Array.from({ length: count }, () => []);
  const inCycles: number[] = [];
  const reporting: number[] = [];
  let reportableCount = 0;
  for (let i = 0; i < n; i++) {
    if (!isReportableCode(type[i]!, action[i]!)) continue;
    reportableCount++;
    if (cycleOf[i]! >= 0) {
      inCycles.push(i);
      continue;
    }
    const list = lists[classOf[i]!]!;
    if (list.length === 0) reporting.push(classOf[i]!);
    list.push(i);
  }
  const classReportableOffsets = new Int32Array(count + 1);
  for (let k = 0; k < count; k++) classReportableOffsets[k + 1] = classReportableOffsets[k]! + lists[k]!.length;
  return {
    classOf,
    representative: Int32Array.from(reps),
    count,
    classReportable: Int32Array.from(lists.flat()),
    classReportableOffsets,
    reportingClasses: Int32Array.from(reporting),
    acyclicMember,
    reportableInCycles: Int32Array.from(inCycles),
    reportableCount,
    cycleOf,
    acyclicClassOf: classOf.map((cl, i) => (cycleOf[i]! >= 0 ? -1 : cl)),
  };
}

/** Tarjan's strongly connected components, iteratively (a catalog's chains can be long), over prerequisite and bundle edges. */
function prerequisiteCycles(c: Catalog): Int32Array {
  const n = c.size;
  const lists = [c.data.prerequisites, c.data.bundles];
  // Flattened adjacency: every in-catalog target of every prerequisite group and bundle group of update i.
  const start = new Int32Array(n + 1);
  const targets: number[] = [];
  for (let i = 0; i < n; i++) {
    start[i] = targets.length;
    for (const l of lists) {
      for (let g = l.groupOffsets[i]!; g < l.groupOffsets[i + 1]!; g++) {
        for (let m = l.memberOffsets[g]!; m < l.memberOffsets[g + 1]!; m++) if (l.target[m]! >= 0) targets.push(l.target[m]!);
      }
    }
  }
  start[n] = targets.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const cycleOf = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  const call: number[] = []; // pairs: node, next edge
  let next = 0;
  let cycles = 0;
  for (let root = 0; root < n; root++) {
    if (index[root]! >= 0) continue;
    call.push(root, start[root]!);
    index[root] = low[root] = next++;
    stack.push(root);
    onStack[root] = 1;
    while (call.length > 0) {
      const v = call[call.length - 2]!;
      const e = call[call.length - 1]!;
      if (e < start[v + 1]!) {
        call[call.length - 1] = e + 1;
        const w = targets[e]!;
        if (index[w]! < 0) {
          index[w] = low[w] = next++;
          stack.push(w);
          onStack[w] = 1;
          call.push(w, start[w]!);
        } else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      call.length -= 2;
      if (call.length > 0) {
        const parent = call[call.length - 2]!;
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
      if (low[v] !== index[v]) continue;
      // v roots a component: pop it; it is a cycle if it has two updates or v refers to itself.
      const members: number[] = [];
      let w: number;
      do {
        w = stack.pop()!;
        onStack[w] = 0;
        members.push(w);
      } while (w !== v);
      let selfLoop = false;
      for (let k = start[v]!; k < start[v + 1]! && !selfLoop; k++) selfLoop = targets[k] === v;
      if (members.length > 1 || selfLoop) {
        for (const m of members) cycleOf[m] = cycles;
        cycles++;
      }
    }
  }
  return cycleOf;
}
