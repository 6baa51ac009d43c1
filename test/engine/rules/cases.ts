/** Every case of every rule table (tables/*), flat: for checks that hold over all rule types at once. */
import type { KnownRuleType } from '../../../engine/rules/registry.js';
import type { RuleCase, RuleTable, RuleTables } from './harness.js';
import { CBS_RULES } from './tables/cbs.js';
import { DRIVER_RULES } from './tables/driver.js';
import { FILE_RULES } from './tables/file.js';
import { MSI_RULES } from './tables/msi.js';
import { OS_RULES } from './tables/os.js';
import { REGISTRY_RULES } from './tables/registry.js';
import { UPDATE_RULES } from './tables/update.js';

const TABLES: readonly RuleTables[] = [CBS_RULES, DRIVER_RULES, FILE_RULES, MSI_RULES, OS_RULES, REGISTRY_RULES, UPDATE_RULES];

export interface TableCase {
  readonly type: KnownRuleType;
  readonly kind: keyof RuleTable;
  readonly c: RuleCase;
}

export const ALL_CASES: readonly TableCase[] = TABLES.flatMap((t) =>
  (Object.entries(t) as [KnownRuleType, RuleTable][]).flatMap(([type, table]) =>
    (['valid', 'invalid', 'unknown'] as const).flatMap((kind) => table[kind].map((c) => ({ type, kind, c }))),
  ),
);
