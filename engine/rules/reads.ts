/**
 * What a rule reads from a machine's inventory: the one description the scan's sharing derives from. A rule reads
 * the facts its registry row names (registry.ts `facts`: their kinds), each kind resolved from the inventory
 * sections FACT_SECTIONS gives (eval/context.ts `resolve` reads nothing else: test/engine/rules/reads.test.ts); some
 * rule types read more than their facts (RULE_READS: sections, and optional item details such as a file's size).
 *
 * Derived from it, so they cannot drift apart: the section memo's keys (scanner/section-memo.ts), the details a
 * profile digest keeps (catalog/relevant-details.ts, fleet/json-profile.ts, fleet/msgpack-profile.ts), the
 * OS fields the OS rules compare (OS_FIELDS_READ), the sections the collection manifest asks a collector for
 * (eval/manifest.ts). A reader of a section or detail left out here would share results between machines that
 * differ in it, and go uncollected: add it here first.
 */
import type { Inventory, InventoryFile, InventoryMsiProduct, InventoryOs, InventoryProcessor } from '../inventory/types.js';
import type { FactKind } from './facts.js';
import type { KnownRuleType } from './registry.js';

/**
 * The inventory's sections (its top-level keys, without identity and collection time), and `osRevision`: the OS
 * section's UBR, apart, since only CbsPackageInstallable reads it and machines of one build differ in it.
 */
export const INVENTORY_SECTIONS = [
  'os',
  'osRevision',
  'processor',
  'cluster',
  'csidl',
  'files',
  'registry',
  'wmi',
  'licensing',
  'systemMetrics',
  'deviceAttributes',
  'productReleases',
  'cbs',
  'msi',
] as const satisfies readonly (Exclude<keyof Inventory, 'schema' | 'computer' | 'collectedAt'> | 'osRevision')[];
export type InventorySection = (typeof INVENTORY_SECTIONS)[number];

/** The sections each kind of fact is resolved from (eval/context.ts `resolve`, inventory/machine.ts say how). */
export const FACT_SECTIONS = {
  os: ['os'],
  osLanguage: ['os'],
  muiLanguages: ['os'],
  systemMetric: ['systemMetrics'],
  processor: ['processor'],
  cluster: ['cluster'],
  file: ['files', 'csidl'],
  // The folder comes from a registry string (read in the machine's registry view), the file from `files`.
  fileUnderRegSz: ['files', 'registry', 'processor'],
  // Processor: 32-bit machines have one registry view.
  regKey: ['registry', 'processor'],
  regValue: ['registry', 'processor'],
  regSubtree: ['registry', 'processor'],
  wmi: ['wmi'],
  licenseDword: ['licensing'],
  msiProduct: ['msi'],
  msiPatch: ['msi'],
  msiPatchMetadata: ['msi'],
  msiFeature: ['msi'],
  msiComponent: ['msi'],
  cbsPackage: ['cbs'],
  productRelease: ['productReleases'],
  deviceAttribute: ['deviceAttributes'],
  // Not collected by any inventory yet: their rules are Unknown on every machine.
  genericQuery: [],
  driver: [],
  appxPackage: [],
  hardware: [],
} as const satisfies Readonly<Record<FactKind, readonly InventorySection[]>>;

/**
 * Every field of the inventory's `os` section that a rule compares (eval/evaluators/os.ts). The UBR is not one of them
 * (those rules read it from the registry): machines that differ only in it get the same values from them; the one
 * rule that reads `os.ubr` reads section `osRevision` (RULE_READS).
 */
export const OS_FIELDS_READ = [
  'major',
  'minor',
  'build',
  'spMajor',
  'spMinor',
  'productType',
  'suiteMask',
  'installLanguage',
  'uiLanguages',
  'muiInstalled',
] as const satisfies readonly (keyof InventoryOs)[];

/**
 * Item details only some rules read, with the inventory fields each is: a machine's results do not depend on a
 * detail no rule of the catalog reads, so profile digests leave it out.
 */
export const DETAIL_FIELDS = {
  fileSize: ['size'],
  fileDates: ['created', 'modified'],
  fileLanguage: ['language'],
  processorDetail: ['level', 'revision', 'count'],
} as const satisfies Readonly<Record<string, readonly (keyof InventoryFile | keyof InventoryProcessor)[]>>;
export type Detail = keyof typeof DETAIL_FIELDS;
export const DETAILS = Object.keys(DETAIL_FIELDS) as readonly Detail[];
/** The details that are fields of `files` items (the rest are of `processor`). */
export const FILE_DETAIL_KINDS = ['fileSize', 'fileDates', 'fileLanguage'] as const satisfies readonly Detail[];

/** What a rule type reads beyond its facts. */
export interface RuleReads {
  /** Sections read directly, not through a fact. */
  readonly sections?: readonly InventorySection[];
  /** Details one rule of this type reads, given its attributes. */
  readonly details?: (attrs: Readonly<Record<string, string>>) => readonly Detail[];
  /**
   * For a rule about the one MSI product it names: the fields of that product one rule of this type reads, given its
   * attributes, besides whether the product is installed. Absent: every field (and, for rules naming no product, every
   * product). Machines that differ only in fields no rule of a slot reads (Office's version on its own channel, for
   * the patch rules) share its value.
   */
  readonly msiProductFields?: (attrs: Readonly<Record<string, string>>) => readonly MsiProductField[];
}

/** The fields of an inventory's MSI product a rule may read, besides its code. */
export const MSI_PRODUCT_FIELDS = ['version', 'language', 'features', 'components', 'patches'] as const satisfies readonly Exclude<
  keyof InventoryMsiProduct,
  'productCode'
>[];
export type MsiProductField = (typeof MSI_PRODUCT_FIELDS)[number];

type Attrs = Readonly<Record<string, string>>;
const fileExists = (a: Attrs): Detail[] => [
  ...(a.Size !== undefined ? (['fileSize'] as const) : []),
  ...(a.Created !== undefined || a.Modified !== undefined ? (['fileDates'] as const) : []),
  ...(a.Language !== undefined ? (['fileLanguage'] as const) : []),
];
const fileSize = (): Detail[] => ['fileSize'];
/** The product filters of the MSI rules (eval/evaluators/packages.ts productFilter): version bounds, language. */
const msiFilterFields = (a: Attrs): MsiProductField[] => [
  ...(a.VersionMin !== undefined || a.VersionMax !== undefined ? (['version'] as const) : []),
  ...(a.Language !== undefined ? (['language'] as const) : []),
];
const fileDates = (): Detail[] => ['fileDates'];

/** Keyed by known rule type: a misspelled one does not compile. */
export const RULE_READS = {
  FileExists: { details: fileExists },
  FileExistsPrependRegSz: { details: fileExists },
  FileSize: { details: fileSize },
  FileSizePrependRegSz: { details: fileSize },
  FileCreated: { details: fileDates },
  FileCreatedPrependRegSz: { details: fileDates },
  FileModified: { details: fileDates },
  FileModifiedPrependRegSz: { details: fileDates },
  Processor: { details: (a) => (a.Level !== undefined || a.Revision !== undefined ? ['processorDetail'] : []) },
  NumberOfProcessors: { details: () => ['processorDetail'] },
  // Without DISM's applicability, inferred from the OS build, UBR and architecture (eval/evaluators/packages.ts).
  CbsPackageInstallable: { sections: ['os', 'osRevision', 'processor', 'cbs'] },
  MsiProductInstalled: { msiProductFields: msiFilterFields },
  MsiPatchInstalledForProduct: { msiProductFields: (a) => ['patches', ...msiFilterFields(a)] },
  MsiApplicationInstalled: { msiProductFields: () => [] },
} as const satisfies Partial<Record<KnownRuleType, RuleReads>>;

const NO_READS: RuleReads = {};
export function ruleReads(type: string): RuleReads {
  return Object.hasOwn(RULE_READS, type) ? (RULE_READS as Readonly<Record<string, RuleReads>>)[type]! : NO_READS;
}

/** Of the fields of `details`, those a digest keeps given which details the catalog reads (the others are dropped). */
export function detailFieldsKept(read: Readonly<Record<Detail, boolean>>, details: readonly Detail[]): Set<string> {
  return new Set(details.filter((d) => read[d]).flatMap((d) => DETAIL_FIELDS[d]));
}
