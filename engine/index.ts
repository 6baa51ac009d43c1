/**
 * patchscan's library entry point: load a compiled catalog and query it.
 *
 * @example
 * import { Catalog, readCatalogFile } from 'patchscan';
 * const catalog = new Catalog(readCatalogFile('catalog.pscat'));
 * for (const i of catalog.findByKb('KB4577066')) console.log(catalog.title(i));
 */
export { Catalog, type UpdateRef, type PrerequisiteGroup, type FactInfo } from './catalog/catalog.js';
export { CatalogBuilder } from './catalog/builder.js';
export { decodeCatalog, encodeCatalog, readCatalogFile, writeCatalogFile } from './catalog/file.js';
export { describeUpdate, formatRule, formatSummary, formatUpdate, summarize, type CatalogSummary, type UpdateDescription } from './catalog/describe.js';
export type { CatalogData, CatalogSource, ImportStats } from './catalog/data.js';
export { PatchscanError, ErrorCodes, type ErrorCode } from './errors.js';
export * from './model.js';
export { RULES, ruleSpec, type RuleSpec } from './rules/registry.js';
export { FACT_KINDS, fact, type Fact, type FactKind } from './rules/facts.js';
