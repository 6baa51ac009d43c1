/**
 * MsiPatchInstalledForProduct rules without filters, evaluated as numbers instead of closures.
 *
 * They are the most evaluated leaf of a first-of-a-profile scan (Office's patch rules: ~540 per machine against a
 * 50,000-revision catalog), and as closures each cost ~600 ns in a scan, against ~50 ns hot: a closure, its context,
 * the product and patch GUID strings and a per-product set, all at scattered places of a heap far larger than the
 * CPU caches. Here a rule is one number (product id × 2^16 + patch id, the GUIDs numbered once per catalog), and a
 * machine is one small array of product states and one set of such numbers, built on its first patch rule.
 *
 * Same answers as the closure (packages.ts msiPatchInstalledForProduct with no VersionMin, VersionMax or Language):
 * MSI not collected → Unknown; product not installed → False; its patches not collected → Unknown; else whether
 * the patch is applied. Explanations still go through the closure (it records what it read).
 */
import { normalizeGuid, type Machine } from '../inventory/machine.js';
import type { EvalContext } from './context.js';
import { F, T, U, type Tri } from './tri.js';
import { MSI_MAX_PRODUCTS, MSI_PATCH_KEY_SPAN } from '../catalog/scan-index.js';

/** Ids past these bounds are not numbered: such a rule stays a closure (keys then stay small integers). */
const MAX_PRODUCTS = MSI_MAX_PRODUCTS;
const MAX_PATCHES = MSI_PATCH_KEY_SPAN;

const PRODUCT_ABSENT = 0,
  PRODUCT_PATCHES_KNOWN = 1,
  PRODUCT_PATCHES_NOT_COLLECTED = 2;

/** One machine's installed products and applied patches, as the table numbers them (kept on its EvalContext). */
export class MachinePatches {
  constructor(
    /** The table's `generation` it was built at: a rule numbered since then may name a GUID it skipped. */
    readonly generation: number,
    /** Per product id: PRODUCT_ABSENT, PRODUCT_PATCHES_KNOWN or PRODUCT_PATCHES_NOT_COLLECTED. */
    readonly products: Uint8Array,
    /** product id × 2^16 + patch id of every applied patch the table numbers. */
    readonly applied: Set<number>,
  ) {}
}

export class MsiPatchTable {
  private readonly productIds = new Map<string, number>();
  private readonly patchIds = new Map<string, number>();
  /** Bumped whenever a GUID is numbered. */
  private generation = 0;

  /**
   * The number of a rule asking whether `patchCode` is applied to `productCode` (as the rule's attributes spell
   * them), or -1 when the table is full (the rule then stays a closure).
   */
  key(productCode: string, patchCode: string): number {
    const product = this.idOf(this.productIds, normalizeGuid(productCode), MAX_PRODUCTS);
    const patch = this.idOf(this.patchIds, normalizeGuid(patchCode), MAX_PATCHES);
    return product < 0 || patch < 0 ? -1 : product * MAX_PATCHES + patch;
  }

  /** The product and patch codes numbered so far, by number (a scan index stores them: catalog/scan-index.ts). */
  codes(): { readonly products: string[]; readonly patches: string[] } {
    return { products: [...this.productIds.keys()], patches: [...this.patchIds.keys()] };
  }

  /** Numbers the codes a scan index stored, in their order, in an empty table (their keys are then the stored ones). */
  load(products: readonly string[], patches: readonly string[]): void {
    if (this.productIds.size > 0 || this.patchIds.size > 0) throw new Error('MsiPatchTable.load: the table is not empty');
    for (const g of products) this.idOf(this.productIds, g, MAX_PRODUCTS);
    for (const g of patches) this.idOf(this.patchIds, g, MAX_PATCHES);
  }

  private idOf(ids: Map<string, number>, guid: string, max: number): number {
    let id = ids.get(guid);
    if (id === undefined) {
      if (ids.size >= max) return -1;
      ids.set(guid, (id = ids.size));
      this.generation++;
    }
    return id;
  }

  /** The rule numbered `key`, on the machine of `ctx`. */
  evaluate(ctx: EvalContext, key: number): Tri {
    let m = ctx.msiPatches;
    if (m === undefined || m.generation !== this.generation) {
      m = this.build(ctx.machine);
      if (m === undefined) return U; // MSI not collected
      ctx.msiPatches = m;
    }
    const state = m.products[(key / MAX_PATCHES) | 0]!;
    if (state === PRODUCT_ABSENT) return F;
    if (state === PRODUCT_PATCHES_NOT_COLLECTED) return U;
    return m.applied.has(key) ? T : F;
  }

  private build(machine: Machine): MachinePatches | undefined {
    const installed = machine.msiProducts();
    if (typeof installed === 'symbol') return undefined;
    const products = new Uint8Array(this.productIds.size);
    const applied = new Set<number>();
    // The machine's index of products (normalized code → product, the last listed wins), as the closure reads it.
    for (const [code, p] of installed) {
      const id = this.productIds.get(code);
      if (id === undefined) continue; // no rule asks about it
      const patches = machine.appliedPatches(p);
      if (patches === undefined) {
        products[id] = PRODUCT_PATCHES_NOT_COLLECTED;
        continue;
      }
      products[id] = PRODUCT_PATCHES_KNOWN;
      for (const guid of patches) {
        const patch = this.patchIds.get(guid);
        if (patch !== undefined) applied.add(id * MAX_PATCHES + patch);
      }
    }
    return new MachinePatches(this.generation, products, applied);
  }
}
