/**
 * The shape of an evaluator table (`rules/*.ts`): rule type → compiler, keyed by the registry's rule types, so a
 * misspelled key does not compile (it would otherwise leave the real rule without an evaluator: silently Unknown).
 * Tables are declared `{ … } satisfies EvaluatorTable` to keep their literal keys (program.ts derives from them).
 */
import type { KnownRuleType } from '../../rules/registry.js';
import type { RuleCompiler } from '../leaf.js';

export type EvaluatorTable = { readonly [T in KnownRuleType]?: RuleCompiler };
