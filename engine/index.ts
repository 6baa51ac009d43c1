/**
 * patchscan's library entry point: load a compiled catalog, scan inventories, explain decisions.
 *
 * @example
 * import { readFileSync } from 'node:fs';
 * import { Catalog, Scanner, decodeInventory, readCatalogFile } from 'patchscan';
 * const scanner = new Scanner(new Catalog(readCatalogFile('catalog.pscat')));
 * const rows = scanner.scan(decodeInventory(readFileSync('pc.json')));
 */
export { Catalog, type UpdateRef, type PrerequisiteGroup, type FactInfo } from './catalog/catalog.js';
export { CatalogBuilder } from './catalog/builder.js';
export { decodeCatalog, encodeCatalog, readCatalogFile, writeCatalogFile } from './catalog/file.js';
export {
  describeUpdate,
  formatRule,
  formatSummary,
  formatUpdate,
  summarize,
  type CatalogSummary,
  type UpdateDescription,
} from './catalog/describe.js';
export type { CatalogData, CatalogSource, ImportStats } from './catalog/data.js';
export { AFFECTED_STATE, AFFECTED_SUPERSEDENCE, catalogDelta, type CatalogDelta, type CatalogDiff } from './catalog/diff.js';
export { PatchscanError, ErrorCodes, type ErrorCode } from './errors.js';
export * from './model.js';
export { RULES, ruleSpec, type RuleSpec } from './rules/registry.js';
export { FACT_KINDS, fact, type Fact, type FactKind } from './rules/facts.js';
export { INVENTORY_SCHEMA, type Inventory } from './inventory/types.js';
export { decodeInventory, validateInventory, DEFAULT_INVENTORY_LIMITS, type InventoryLimits } from './inventory/validate.js';
export { buildManifest, formatManifest, MANIFEST_SCHEMA, type Manifest } from './inventory/manifest.js';
export { Scanner, formatExplanation, type Explanation, type ScanOptions, type ScanRow } from './scan/scan.js';
export { ScanSession, type UpdateResult, type UpdateState } from './scan/scanner.js';
export { formatExplain, type ExplainNode } from './eval/program.js';
export { createScanner, type PoolFlow, type PooledScanner, type ScannerOptions, type ScanInput } from './pool/scanner-pool.js';
export type { MachineResult, ScannedMachine, FailedMachine, UpdateOutcome } from './pool/protocol.js';
export { ResultSet, type ResultSetStats } from './scan/result-set.js';
export { ALL_REASONS, reasonMask, scanOutcomes, type OutcomeOptions } from './scan/outcomes.js';
export { carryOverOutcomes, type CarryOverOptions } from './scan/catalog-delta.js';
export { fingerprint, relevantDetails, type RelevantDetails } from './scan/result-cache.js';
