/**
 * Rule tables, the typescript-eslint way: per rule type, `valid` cases (the rule is True on that machine),
 * `invalid` (False) and `unknown` (Unknown), each naming the inventory section — the fact — that decides it.
 *
 * Every case is checked three ways:
 * - the engine's value (through a one-update catalog: IsInstalled True → Installed, False → Required, else Unknown);
 * - the reference evaluator's value (test/reference/reference-evaluator.ts), so it knows every rule type;
 * - for a definite case, the same machine without the deciding section is Unknown: that section decided it, and a
 *   fact not collected is never turned into a definite answer.
 * Cases may give the reason's wording (`reason`).
 */
import { describe, expect, it } from 'vitest';
import { type Catalog } from '../../../engine/catalog/catalog.js';
import type { Inventory } from '../../../engine/inventory/types.js';
import type { LeafRule, RuleMetadata, RuleNode } from '../../../engine/model.js';
import type { Fact } from '../../../engine/rules/facts.js';
import { FACT_SECTIONS, ruleReads, type Detail, type InventorySection, type MsiProductField } from '../../../engine/rules/reads.js';
import { RULES, ruleSpec, type KnownRuleType } from '../../../engine/rules/registry.js';
import { Scanner } from '../../../engine/scanner/scanner.js';
import { evalRule, type RTri } from '../../reference/reference-evaluator.js';
import { catalogOf, updateRecord } from '../../helpers/update-record.js';

/** An inventory section a rule reads (docs/inventory.md). */
export type Section = Exclude<keyof Inventory, 'schema' | 'computer' | 'collectedAt'>;

export interface RuleCase {
  /** What the case shows. */
  readonly name: string;
  readonly attrs?: Readonly<Record<string, string>>;
  readonly items?: LeafRule['items'];
  /** RegKeyLoop's child rule. */
  readonly child?: RuleNode;
  /** The update's Metadata blob (CBS, MSI patch/application rules). */
  readonly meta?: RuleMetadata;
  readonly machine: Partial<Inventory>;
  /**
   * The section whose content decides the value; `rule` when the rule itself does (invalid attribute data, a rule
   * patchscan does not evaluate).
   */
  readonly fact: Section | 'rule';
  /** What the reason says (any case: an Unknown's cause, a definite value's reading). */
  readonly reason?: RegExp;
}

export interface RuleTable {
  readonly valid: readonly RuleCase[];
  readonly invalid: readonly RuleCase[];
  readonly unknown: readonly RuleCase[];
}

/** One family's tables; a misspelled rule type does not compile. */
export type RuleTables = { readonly [T in KnownRuleType]?: RuleTable };

type Value = 'True' | 'False' | 'Unknown';
const EXPECTED: Readonly<Record<keyof RuleTable, Value>> = { valid: 'True', invalid: 'False', unknown: 'Unknown' };
const FROM_REF: Readonly<Record<RTri, Value>> = { T: 'True', F: 'False', U: 'Unknown' };

export const machine = (over: Partial<Inventory>): Inventory => ({
  schema: 'patchscan-inventory/1',
  computer: { name: 'RULE-PC' },
  collectedAt: '2026-11-24T00:00:00Z',
  ...over,
});

export function leafOf(type: KnownRuleType, c: RuleCase): LeafRule {
  const { family } = RULES[type];
  const extra = { ...(c.items ? { items: c.items } : {}), ...(c.child ? { child: c.child } : {}) };
  return { kind: 'rule', type, family, attrs: c.attrs ?? {}, ...extra };
}

interface EngineValue {
  readonly value: Value;
  readonly reason: string;
}

/** A catalog of one update whose IsInstalled rule is `rule` (with the update's Metadata blob `meta`). */
export function oneRuleCatalog(rule: RuleNode, meta: RuleMetadata | undefined): Catalog {
  const record = updateRecord({
    updateId: '11111111-2222-3333-4444-555555555555',
    revisionId: 1,
    rules: { IsInstalled: rule },
    ...(meta ? { metadata: meta } : {}),
    localized: [{ language: 'en', title: 'rule under test' }],
  });
  return catalogOf([record], 'rule-table');
}

/** The engine's value of one rule and its reason, through a one-update catalog. */
export function engineValue(rule: LeafRule, meta: RuleMetadata | undefined, inv: Inventory): EngineValue {
  return catalogValue(oneRuleCatalog(rule, meta), inv);
}

/** The value of a one-rule catalog's rule (oneRuleCatalog) on a machine, and its reason. */
export function catalogValue(catalog: Catalog, inv: Inventory): EngineValue {
  const [row] = new Scanner(catalog).scan(inv, { all: true });
  const value: Value = row.state === 'Installed' ? 'True' : row.state === 'Required' ? 'False' : 'Unknown';
  return { value, reason: row.reason };
}

/**
 * The facts a rule (and a RegKeyLoop's child) reads, and the sections and details rules/reads.ts adds for its type;
 * the MSI product fields it reads (undefined: all of them).
 */
export function readsOf(
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

function without(inv: Inventory, section: Section): Inventory {
  const copy: Record<string, unknown> = { ...inv };
  delete copy[section];
  return copy as unknown as Inventory;
}

/** Runs a family's tables: one `describe` per rule type, one test per case. */
export function testRuleTables(family: string, tables: RuleTables): void {
  describe(family, () => {
    for (const [type, table] of Object.entries(tables) as [KnownRuleType, RuleTable][]) {
      describe(type, () => {
        for (const kind of ['valid', 'invalid', 'unknown'] as const) {
          for (const c of table[kind]) {
            it(`${kind}: ${c.name} (decided by ${c.fact})`, () => {
              const rule = leafOf(type, c);
              const inv = machine(c.machine);
              const got = engineValue(rule, c.meta, inv);
              expect(got.value, got.reason).toBe(EXPECTED[kind]);
              expect(FROM_REF[evalRule(rule, inv, c.meta)], 'reference evaluator').toBe(EXPECTED[kind]);
              if (c.reason) expect(got.reason).toMatch(c.reason);
              if (kind !== 'unknown') {
                expect(c.fact, 'a definite value is decided by a section of the machine').not.toBe('rule');
                expect(c.machine[c.fact as Section], `the case's machine has its deciding section ${c.fact}`).toBeDefined();
                const blind = engineValue(rule, c.meta, without(inv, c.fact as Section));
                expect(blind.value, `without ${c.fact}: ${blind.reason}`).toBe('Unknown');
              }
            });
          }
        }
      });
    }
  });
}
