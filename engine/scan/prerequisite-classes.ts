/**
 * Updates grouped by their prerequisite list, the way Windows Update orders a scan: detectoids and product
 * categories first, then only the updates whose prerequisites hold. A 50,000-revision catalog has tens of thousands
 * of updates but only a few dozen distinct prerequisite lists ("this product, on x64, in English"): a machine
 * evaluates each list once, and every update whose list is False is NotApplicable without being looked at.
 *
 * Built once per catalog (cached by its data), read by every scan.
 */
import type { Catalog } from '../catalog/catalog.js';
import type { CatalogData } from '../catalog/data.js';

export interface PrerequisiteClasses {
  /** Per update: its class (the same groups with the same members, in the same order). */
  readonly classOf: Int32Array;
  /** Per class: an update of that class, whose groups define it. */
  readonly representative: Int32Array;
  readonly count: number;
  /**
   * The updates a default scan reports (software that is not a bundle-only child), in catalog order, with their
   * class alongside: the scan's outer loop reads these two arrays sequentially.
   */
  readonly reportable: Int32Array;
  readonly reportableClass: Int32Array;
}

const built = new WeakMap<CatalogData, PrerequisiteClasses>();

export function prerequisiteClasses(c: Catalog): PrerequisiteClasses {
  let pc = built.get(c.data);
  if (pc === undefined) {
    pc = build(c);
    built.set(c.data, pc);
  }
  return pc;
}

function build(c: Catalog): PrerequisiteClasses {
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
  const { type, action } = c.data.updates;
  const reportable: number[] = [];
  for (let i = 0; i < n; i++) if (type[i] === 0 && action[i] !== 1) reportable.push(i);
  const reportableArr = Int32Array.from(reportable);
  return {
    classOf,
    representative: Int32Array.from(reps),
    count: reps.length,
    reportable: reportableArr,
    reportableClass: reportableArr.map((i) => classOf[i]!),
  };
}
