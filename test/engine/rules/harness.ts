/**
 * Rule tables, the typescript-eslint way: per rule type, `valid` cases (the rule is True on that machine),
 * `invalid` (False) and `unknown` (Unknown), each naming the inventory section — the fact — that decides it.
 *
 * Every case is checked three ways:
 * - the engine's value (through a one-update catalog: IsInstalled True → Installed, False → Required, else Unknown);
 * - the reference evaluator's value (test/reference/reference-evaluator.ts), so it knows every rule type;
 * - for a definite case, the same machine without the deciding section is Unknown: that section decided it, and a
 *   fact not collected is never turned into a definite answer.
 * Unknown cases may give the reason's wording (`reason`).
 */
import { describe, expect, it } from 'vitest';
import { CatalogBuilder } from '../../../engine/catalog/builder.js';
import { Catalog } from '../../../engine/catalog/catalog.js';
import type { Inventory } from '../../../engine/inventory/types.js';
import type { LeafRule, RuleMetadata, RuleNode } from '../../../engine/model.js';
import { RULES, type KnownRuleType } from '../../../engine/rules/registry.js';
import { Scanner } from '../../../engine/scan/scan.js';
import { evalRule, type RTri } from '../../reference/reference-evaluator.js';

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
  /** For unknown cases: what the Unknown reason says. */
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

/** The engine's value of one rule and its reason, through a one-update catalog. */
export function engineValue(rule: LeafRule, meta: RuleMetadata | undefined, inv: Inventory): EngineValue {
  const b = new CatalogBuilder();
  b.addRecord({
    updateId: '11111111-2222-3333-4444-555555555555',
    revisionNumber: 1,
    revisionId: 1,
    updateType: 'Software',
    isLeaf: true,
    isBundle: false,
    deploymentAction: 'Install',
    explicitlyDeployable: true,
    categories: [],
    prerequisites: [],
    bundledUpdates: [],
    bundledByRevisionIds: [],
    supersedes: [],
    supersededByRevisionIds: [],
    rules: { IsInstalled: rule },
    ...(meta ? { metadata: meta } : {}),
    severity: '',
    cves: [],
    localized: [{ language: 'en', title: 'rule under test' }],
  });
  const s = new Scanner(new Catalog(b.build({ kind: 'records', path: 'rule-table', sha256: '' })));
  const [row] = s.scan(inv, { all: true });
  const value: Value = row.state === 'Installed' ? 'True' : row.state === 'Required' ? 'False' : 'Unknown';
  return { value, reason: row.reason };
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
