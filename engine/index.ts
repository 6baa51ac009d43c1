/**
 * patchscan's library entry point: load a compiled catalog, scan inventories, explain decisions. Only what is exported
 * here is the API (docs/api.md says what each export is for).
 *
 * @example
 * import { readFileSync } from 'node:fs';
 * import { Catalog, Scanner, decodeInventory, readCatalogFile } from 'patchscan';
 * const scanner = new Scanner(new Catalog(readCatalogFile('catalog.pscat')));
 * const rows = scanner.scan(decodeInventory(readFileSync('pc.json')));
 */
export { Catalog, type UpdateRef, type PrerequisiteGroup, type FactInfo } from './catalog/catalog.js';
export { CatalogBuilder } from './catalog/builder.js';
export {
  decodeCatalog,
  encodeCatalog,
  readCatalogFile,
  readCatalogFileInPieces,
  writeCatalogFile,
  type EncodeCatalogOptions,
  type PieceReadOptions,
} from './catalog/file.js';
export {
  LEAF_CBS_INSTALLED,
  LEAF_FILE_VERSION,
  LEAF_MSI_PATCH,
  LEAF_REG_VALUE,
  LEAF_UNPREPARED,
  PREPARED_LEAVES_VERSION,
  SCAN_INDEX_VERSION,
  scanIndexOf,
  withoutScanIndex,
  type PreparedLeaves,
  type ScanIndex,
} from './catalog/scan-index.js';
export { buildScanIndex } from './fleet/scan-index.js';
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
export { AFFECTED_STATE, AFFECTED_SUPERSEDENCE, catalogDelta, type CatalogDelta, type CatalogDiff } from './catalog/catalog-delta.js';
export { decodeCatalogDelta, encodeCatalogDelta } from './catalog/catalog-delta-file.js';
export { PatchscanError, ErrorCodes, type ErrorCode } from './errors.js';
export * from './model.js';
export { RULES, ruleSpec, type RuleSpec } from './rules/registry.js';
export { FACT_KINDS, fact, type Fact, type FactKind } from './rules/facts.js';
export { INVENTORY_SCHEMA, type Inventory } from './inventory/types.js';
export { decodeInventory, validateInventory, DEFAULT_INVENTORY_LIMITS, type InventoryLimits } from './inventory/validate.js';
export { buildManifest, formatManifest, MANIFEST_SCHEMA, type Manifest } from './eval/manifest.js';
export {
  Scanner,
  formatExplanation,
  type Explanation,
  type ScannerOptions,
  type ScanOptions,
  type ScanRow,
  type UpdateOutcome,
} from './scanner/scanner.js';
export type { UpdateResult, UpdateState } from './scanner/machine-scan.js';
export type { CountBucket, OutcomeCounts } from './scanner/counting.js';
export { formatExplain, type ExplainNode } from './eval/program.js';
export {
  createScannerPool,
  DEFAULT_MEMORY_BUDGET,
  TASK_RESULT_BYTES,
  workerHeapMb,
  type PoolFlow,
  type ScannerPool,
  type ScannerPoolOptions,
  type ScanInput,
} from './pool/scanner-pool.js';
export { sharedCatalog } from './pool/shared-catalog.js';
export type { MachineResult, ScannedMachine, FailedMachine } from './pool/protocol.js';
export { ResultSet, type ResultSetStats } from './fleet/result-set.js';
export { ALL_REASONS, reasonMask, scanOutcomes, type OutcomeOptions } from './fleet/scan-outcomes.js';
export { carryOverOutcomes, type CarryOverOptions } from './fleet/carry-over.js';
