/**
 * rules/reads.ts is the one description of what a rule reads; the scan's sharing (section memo keys, profile digests)
 * is derived from it. These tests hold it to the evaluators, over every case of the rule tables:
 * - the section a table case names as deciding is one the rule reads by reads.ts;
 * - each fact resolves to the same value from the machine cut down to its kind's FACT_SECTIONS;
 * - the rule's value is the same on the machine projected to what reads.ts says it reads (its sections, `os` cut to
 *   OS_FIELDS_READ unless it reads `osRevision`, item details only those it declares) — what sharing relies on.
 * And the derived views: every section has its own bit in the section memo.
 */
import { describe, expect, it } from 'vitest';
import { CatalogBuilder } from '../../../engine/catalog/builder.js';
import { Catalog } from '../../../engine/catalog/catalog.js';
import { EvalContext } from '../../../engine/eval/context.js';
import { Machine } from '../../../engine/inventory/machine.js';
import type { Inventory } from '../../../engine/inventory/types.js';
import { type Fact } from '../../../engine/rules/facts.js';
import {
  DETAIL_FIELDS,
  DETAILS,
  FACT_SECTIONS,
  INVENTORY_SECTIONS,
  MSI_PRODUCT_FIELDS,
  OS_FIELDS_READ,
  ruleReads,
  type Detail,
  type InventorySection,
  type MsiProductField,
} from '../../../engine/rules/reads.js';
import { RULES } from '../../../engine/rules/registry.js';
import { SECTION_BIT } from '../../../engine/scanner/section-memo.js';
import { ALL_CASES as CASES } from './cases.js';
import { engineValue, leafOf, machine, readsOf } from './harness.js';

/**
 * The machine as far as `sections` and `details` reach: what a rule reading only those sees; with `productFields`,
 * each MSI product cut to its code and those fields.
 */
function project(
  inv: Inventory,
  sections: ReadonlySet<InventorySection>,
  details: ReadonlySet<Detail>,
  productFields?: ReadonlySet<MsiProductField>,
): Inventory {
  const out: Record<string, unknown> = { schema: inv.schema, computer: inv.computer, collectedAt: inv.collectedAt };
  for (const s of INVENTORY_SECTIONS) if (s !== 'osRevision' && sections.has(s) && inv[s] !== undefined) out[s] = inv[s];
  if (inv.os && sections.has('os')) {
    const os: Record<string, unknown> = {};
    for (const k of OS_FIELDS_READ) if (inv.os[k] !== undefined) os[k] = inv.os[k];
    if (sections.has('osRevision') && inv.os.ubr !== undefined) os.ubr = inv.os.ubr;
    out.os = os;
  }
  const dropped = DETAILS.filter((d) => !details.has(d)).flatMap((d) => DETAIL_FIELDS[d] as readonly string[]);
  const strip = <T extends object>(x: T): T => Object.fromEntries(Object.entries(x).filter(([k]) => !dropped.includes(k))) as T;
  if (Array.isArray(out.files)) out.files = (out.files as object[]).map(strip);
  if (inv.msi && out.msi && productFields) {
    const cut = MSI_PRODUCT_FIELDS.filter((f) => !productFields.has(f)) as readonly string[];
    out.msi = {
      ...inv.msi,
      products: inv.msi.products.map((p) => Object.fromEntries(Object.entries(p).filter(([k]) => !cut.includes(k)))),
    };
  }
  if (out.processor) {
    const p = strip(out.processor as { architecture: number });
    out.processor = { ...p, architecture: (out.processor as { architecture: number }).architecture };
  }
  return out as unknown as Inventory;
}

const EMPTY = new Catalog(new CatalogBuilder().build({ kind: 'records', path: 'reads', sha256: '' }));
const resolve = (inv: Inventory, f: Fact): unknown => new EvalContext(EMPTY, new Machine(inv)).resolve(f.kind, f.args);

describe('what a rule reads (rules/reads.ts) agrees with the rule tables and the evaluators', () => {
  it('covers every rule type of the tables', () => {
    expect(CASES.length).toBeGreaterThan(100);
    expect(new Set(CASES.map((x) => x.type)).size).toBeGreaterThan(Object.keys(RULES).length / 2);
  });

  for (const { type, kind, c } of CASES) {
    describe(`${type} ${kind}: ${c.name}`, () => {
      const rule = leafOf(type, c);
      const inv = machine(c.machine);
      const r = readsOf(rule, c.meta);

      it('the deciding section is one the rule reads', () => {
        if (c.fact !== 'rule') expect([...r.sections]).toContain(c.fact);
      });

      it("each fact resolves the same from its kind's sections alone", () => {
        for (const f of r.facts) {
          const only = project(inv, new Set(FACT_SECTIONS[f.kind]), new Set(DETAILS));
          // The whole os section (the UBR too) here: resolve hands rules the section; OS_FIELDS_READ is checked below.
          const withOs = inv.os && FACT_SECTIONS[f.kind].some((s) => s === 'os') ? { ...only, os: inv.os } : only;
          expect(resolve(withOs, f), f.key).toEqual(resolve(inv, f));
        }
      });

      it('the rule has the same value on the machine projected to what it reads', () => {
        const full = engineValue(rule, c.meta, inv);
        const seen = engineValue(rule, c.meta, project(inv, r.sections, r.details));
        expect(seen.value, seen.reason).toBe(full.value);
      });

      if (r.productFields !== undefined) {
        it('the rule has the same value with each MSI product cut to the fields it reads', () => {
          const full = engineValue(rule, c.meta, inv);
          const seen = engineValue(rule, c.meta, project(inv, r.sections, r.details, r.productFields));
          expect(seen.value, seen.reason).toBe(full.value);
        });
      }
    });
  }
});

describe('derived views', () => {
  it('every inventory section has a bit of its own in the section memo, the bits 0..n-1', () => {
    const bits = INVENTORY_SECTIONS.map((s) => SECTION_BIT[s] as number);
    expect(new Set(bits).size).toBe(INVENTORY_SECTIONS.length);
    expect(bits.reduce((a, b) => a | b, 0)).toBe(2 ** INVENTORY_SECTIONS.length - 1);
  });

  it('a rule type in RULE_READS reads something', () => {
    for (const type of Object.keys(RULES)) {
      const x = ruleReads(type);
      expect(x.sections === undefined || x.sections.length > 0, type).toBe(true);
    }
  });
});
