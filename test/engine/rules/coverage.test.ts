/**
 * Every rule type the engine knows is named by a rule table: a new rule type without a table fails here. A rule
 * the engine evaluates has valid, invalid and unknown cases; one it does not evaluate has only unknown ones.
 */
import { describe, expect, it } from 'vitest';
import { EVALUATORS } from '../../../engine/eval/program.js';
import { RULES, type KnownRuleType } from '../../../engine/rules/registry.js';
import type { RuleTables } from './harness.js';
import { CBS_RULES } from './tables/cbs.js';
import { DRIVER_RULES } from './tables/driver.js';
import { FILE_RULES } from './tables/file.js';
import { MSI_RULES } from './tables/msi.js';
import { OS_RULES } from './tables/os.js';
import { REGISTRY_RULES } from './tables/registry.js';
import { UPDATE_RULES } from './tables/update.js';

const FAMILIES: Readonly<Record<string, RuleTables>> = {
  cbs: CBS_RULES,
  driver: DRIVER_RULES,
  file: FILE_RULES,
  msi: MSI_RULES,
  os: OS_RULES,
  registry: REGISTRY_RULES,
  update: UPDATE_RULES,
};

describe('every rule type is named by a rule table', () => {
  const tabled = new Map<string, string[]>();
  for (const [family, tables] of Object.entries(FAMILIES)) {
    for (const type of Object.keys(tables)) tabled.set(type, [...(tabled.get(type) ?? []), family]);
  }

  it.each(Object.keys(RULES) as KnownRuleType[])('%s', (type) => {
    const families = tabled.get(type) ?? [];
    expect(families, `${type} has no rule table (test/engine/rules/tables/)`).toHaveLength(1);
    const table = FAMILIES[families[0]][type]!;
    if (Object.hasOwn(EVALUATORS, type)) {
      for (const kind of ['valid', 'invalid', 'unknown'] as const) {
        expect(table[kind].length, `${type}: no ${kind} case`).toBeGreaterThan(0);
      }
    } else {
      expect(table.unknown.length, `${type}: no unknown case`).toBeGreaterThan(0);
      expect(table.valid.length + table.invalid.length, `${type} is not evaluated: it can only be Unknown`).toBe(0);
    }
  });

  it('every evaluator is for a registered rule type', () => {
    for (const type of Object.keys(EVALUATORS)) expect(Object.hasOwn(RULES, type), type).toBe(true);
  });
});
