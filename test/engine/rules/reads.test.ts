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
import type { RuleMetadata, RuleNode } from '../../../engine/model.js';
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
import { RULES, ruleSpec, type KnownRuleType } from '../../../engine/rules/registry.js';
import { SECTION_BIT } from '../../../engine/scan/section-memo.js';
import { engineValue, leafOf, machine, type RuleTables } from './harness.js';
import { CBS_RULES } from './tables/cbs.js';
import { DRIVER_RULES } from './tables/driver.js';
import { FILE_RULES } from './tables/file.js';
import { MSI_RULES } from './tables/msi.js';
import { OS_RULES } from './tables/os.js';
import { REGISTRY_RULES } from './tables/registry.js';
import { UPDATE_RULES } from './tables/update.js';

const TABLES: readonly RuleTables[] = [CBS_RULES, DRIVER_RULES, FILE_RULES, MSI_RULES, OS_RULES, REGISTRY_RULES, UPDATE_RULES];
const CASES = TABLES.flatMap((t) =>
  (Object.entries(t) as [KnownRuleType, NonNullable<RuleTables[KnownRuleType]>][]).flatMap(([type, table]) =>
    (['valid', 'invalid', 'unknown'] as const).flatMap((kind) => table[kind].map((c) => ({ type, kind, c }))),
  ),
);

/** The facts a rule (and a RegKeyLoop's child) reads, and the sections and details reads.ts adds for its type. */
function reads(
  rule: RuleNode,
  meta: RuleMetadata | undefined,
): { facts: Fact[]; sections: Set<InventorySection>; details: Set<Detail>; productFields: Set<MsiProductField> | undefined } {
  const out = {
    facts: [] as Fact[],
    sections: new Set<InventorySection>(),
    details: new Set<Detail>(),
    productFields: new Set<MsiProductField>() as Set<MsiProductField> | undefined,
  };
  const walk = (n: RuleNode): void => {
    if (n.kind === 'and' || n.kind === 'or') n.children.forEach(walk);
    else if (n.kind === 'not') walk(n.child);
    else if (n.kind === 'rule') {
      const spec = ruleSpec(n.type)!;
      for (const f of spec.facts(n.attrs, meta, n.items ?? [])) {
        out.facts.push(f);
        for (const s of FACT_SECTIONS[f.kind]) out.sections.add(s);
      }
      const extra = ruleReads(n.type);
      for (const s of extra.sections ?? []) out.sections.add(s);
      for (const d of extra.details?.(n.attrs) ?? []) out.details.add(d);
      // Product fields are declared per rule; one MSI rule without the declaration reads them all.
      if (extra.msiProductFields) for (const f of extra.msiProductFields(n.attrs)) out.productFields?.add(f);
      else if (spec.family === 'msi') out.productFields = undefined;
      if (n.child) walk(n.child);
    }
  };
  walk(rule);
  return out;
}

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
      const r = reads(rule, c.meta);

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
