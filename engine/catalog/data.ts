/**
 * The compiled catalog's data: a struct of typed arrays over one interned string table. This is exactly what
 * the catalog file stores (msgpack) and what a worker can later view through shared memory.
 *
 * Conventions: a string field is an index into `strings` (0 is the empty string, meaning "absent");
 * a one-to-many relation is CSR: `offsets[i]..offsets[i+1]` indexes into the item arrays;
 * a reference to another update is an update index, or -1 when the catalog does not hold it
 * (its GUID is then kept alongside, so nothing is lost).
 */
import type { RuleSlot } from '../model.js';
import type { StringTable } from './string-table.js';
import { SLOT_IS_INSTALLABLE, SLOT_IS_INSTALLED, SLOT_IS_SUPERSEDED, type SlotCode } from './codes.js';

export const CATALOG_FORMAT_VERSION = 2;

/** Rule-node opcodes below RULE_OP_BASE; a known rule is RULE_OP_BASE + its id in RULE_TYPE_IDS. */
export const OP_FALSE = 0;
export const OP_TRUE = 1;
export const OP_AND = 2;
export const OP_OR = 3;
export const OP_NOT = 4;
export const OP_UNSUPPORTED = 5;
export const RULE_OP_BASE = 16;

/** Bits of `updates.flags`. */
export const F_LEAF = 1;
export const F_BUNDLE = 2;
export const F_EXPLICIT = 4;
export const F_FROM_PACKAGE = 8;
export const F_HAS_CORE = 16;
export const F_HAS_EXTENDED = 32;
export const F_SOFTWARE = 64;
/** The KB was read from the title's "(KBnnnnnnn)": the extended fragment gave none (CBS cumulative updates). */
export const F_KB_FROM_TITLE = 128;

/** Prerequisite / bundle group kinds. */
export const G_SINGLE = 0;
export const G_AT_LEAST_ONE = 1;
export const G_AT_LEAST_ONE_CATEGORY = 2;

/** Rule slot order in `updates.rules` (three roots per update, -1 = absent). */
export const SLOT_INDEX = {
  IsInstalled: SLOT_IS_INSTALLED,
  IsInstallable: SLOT_IS_INSTALLABLE,
  IsSuperseded: SLOT_IS_SUPERSEDED,
} as const satisfies Record<RuleSlot, SlotCode>;

export interface Csr {
  readonly offsets: Uint32Array;
}

export interface CatalogSource {
  readonly kind: 'cab' | 'folder' | 'records';
  readonly path: string;
  /** SHA-256 (hex) of the source cabinet, or of the folder's files in name order. */
  readonly sha256: string;
  readonly package?: {
    readonly packageId?: string;
    readonly packageVersion?: string;
    readonly protocolVersion?: string;
    readonly creationDate?: string;
    readonly minimumClientVersion?: string;
  };
  /**
   * Third-party update packages (SCUP .sdp.xml) compiled beside the source, each with its SHA-256: `sha256` is the
   * source's alone, so two catalogs of one cabinet with other packages are told apart by these.
   */
  readonly thirdParty?: readonly { readonly path: string; readonly sha256: string }[];
}

export interface ImportStats {
  readonly packageUpdates: number;
  readonly coreFragments: number;
  readonly extendedFragments: number;
  readonly localizedFragments: number;
  /** Updates listed in package.xml whose core fragment was not found. */
  readonly missingCore: number;
  /** Fragments for RevisionIds package.xml does not list (kept when they carry a core fragment). */
  readonly orphanFragments: number;
  /** Relationship targets (GUIDs or RevisionIds) the catalog does not hold. */
  readonly unresolvedReferences: number;
  /** Rule elements kept as unsupported, by element name. */
  readonly unsupportedRules: Readonly<Record<string, number>>;
  readonly fileLocations: number;
}

export interface CatalogData {
  readonly format: 'patchscan-catalog';
  readonly version: number;
  readonly createdAt: string;
  readonly source: CatalogSource;
  readonly stats: ImportStats;
  /** Every string the arrays below number, as UTF-8 bytes and offsets (string-table.ts); string 0 is ''. */
  readonly strings: StringTable;
  readonly updates: {
    readonly count: number;
    readonly updateId: Uint32Array;
    readonly revisionNumber: Uint32Array;
    readonly revisionId: Uint32Array;
    readonly type: Uint8Array; // index in UPDATE_TYPES
    readonly flags: Uint8Array;
    readonly action: Uint8Array; // index in DEPLOYMENT_ACTIONS
    readonly categoryType: Uint8Array; // 0 = none, else 1 + index in CATEGORY_TYPES
    readonly severity: Uint8Array; // index in SEVERITIES
    readonly kb: Uint32Array;
    readonly bulletin: Uint32Array;
    readonly handler: Uint32Array;
    readonly supportUrl: Uint32Array;
    readonly creationDate: Uint32Array;
    readonly defaultLanguage: Uint32Array;
    readonly payloadFiles: Uint32Array;
    /** Three rule roots per update (see SLOT_INDEX), node index or -1. */
    readonly rules: Int32Array;
    readonly metadataElement: Uint32Array;
  };
  /** Metadata identity attributes: pairs (name, value). */
  readonly metadata: Csr & { readonly pairs: Uint32Array };
  readonly categories: Csr & { readonly type: Uint32Array; readonly guid: Uint32Array; readonly target: Int32Array };
  readonly prerequisites: {
    readonly groupOffsets: Uint32Array; // per update → groups
    readonly groupKind: Uint8Array;
    readonly memberOffsets: Uint32Array; // per group → members
    readonly guid: Uint32Array;
    readonly target: Int32Array;
  };
  readonly bundles: {
    readonly groupOffsets: Uint32Array;
    readonly groupKind: Uint8Array;
    readonly memberOffsets: Uint32Array;
    readonly guid: Uint32Array;
    readonly revisionNumber: Uint32Array; // 0 = not given
    readonly target: Int32Array;
  };
  readonly bundledBy: Csr & { readonly target: Int32Array };
  readonly supersedes: Csr & { readonly guid: Uint32Array; readonly target: Int32Array };
  readonly supersededBy: Csr & { readonly target: Int32Array };
  /** Reverse of prerequisites: the updates that list this one (directly or in a group). */
  readonly dependents: Csr & { readonly target: Int32Array };
  readonly localized: Csr & {
    readonly language: Uint32Array;
    readonly title: Uint32Array;
    readonly description: Uint32Array;
    readonly moreInfoUrl: Uint32Array;
  };
  readonly cves: Csr & { readonly value: Uint32Array };
  readonly languages: Csr & { readonly value: Uint32Array };
  /** Rule trees, flattened: children, attributes and facts of node i are CSR ranges. */
  readonly nodes: {
    readonly count: number;
    readonly op: Uint8Array;
    readonly childOffsets: Uint32Array;
    readonly children: Uint32Array;
    readonly attrOffsets: Uint32Array;
    readonly attrs: Uint32Array; // pairs (name, value)
    readonly factOffsets: Uint32Array;
    readonly facts: Uint32Array;
  };
  /** Every distinct fact rules read: kind (index in FACT_KINDS) and string arguments. */
  readonly facts: {
    readonly count: number;
    readonly kind: Uint8Array;
    readonly argOffsets: Uint32Array;
    readonly args: Uint32Array;
    /** How many rule nodes read each fact. */
    readonly uses: Uint32Array;
  };
  /** Rule type names in opcode order (RULE_OP_BASE + i), so old files stay readable if the registry grows. */
  readonly ruleTypes: readonly string[];
  readonly indexes: {
    /** Update indexes sorted by UpdateId string. */
    readonly byUpdateId: Uint32Array;
    /** Update indexes sorted by RevisionId. */
    readonly byRevisionId: Uint32Array;
    /** Update indexes with a KB, sorted by KB string. */
    readonly byKb: Uint32Array;
  };
}
