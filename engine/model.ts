/**
 * The parsed catalog model: what one update revision says, in plain objects. The importer produces these;
 * the compiler ({@link ./compile.ts}) flattens them into the compact catalog and drops them, so a catalog of
 * any size is never held as objects all at once.
 *
 * Vocabulary follows Microsoft's update schema (reference §1–§3): GUIDs are stored lower-case.
 */

export const UPDATE_TYPES = ['Software', 'Driver', 'Detectoid', 'Category'] as const;
export type UpdateType = (typeof UPDATE_TYPES)[number];

export const CATEGORY_TYPES = ['Company', 'ProductFamily', 'Product', 'UpdateClassification'] as const;
export type CategoryType = (typeof CATEGORY_TYPES)[number];

/** package.xml `DeploymentAction`: absent means a normal, installable update. */
export const DEPLOYMENT_ACTIONS = ['Install', 'Bundle', 'Evaluate'] as const;
export type DeploymentAction = (typeof DEPLOYMENT_ACTIONS)[number];

export const SEVERITIES = ['', 'Low', 'Moderate', 'Important', 'Critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The four applicability rule slots of an update (reference §2.2, §4.1). */
export const RULE_SLOTS = ['IsInstalled', 'IsInstallable', 'IsSuperseded'] as const;
export type RuleSlot = (typeof RULE_SLOTS)[number];

/** Namespace family of a rule element: `b.` base, `m.` MSI, `d.` driver, CBS and newer unprefixed ones. */
export type RuleFamily = 'base' | 'msi' | 'driver' | 'cbs' | 'update';

export type RuleNode =
  | { readonly kind: 'and' | 'or'; readonly children: readonly RuleNode[] }
  | { readonly kind: 'not'; readonly child: RuleNode }
  | { readonly kind: 'const'; readonly value: boolean }
  | LeafRule
  | UnsupportedRule;

/** A rule we know (see {@link ./rules/registry.ts}), with its attributes as written. */
export interface LeafRule {
  readonly kind: 'rule';
  /** Local name, e.g. `FileVersion`, `MsiProductInstalled`, `CbsPackageInstalled`. */
  readonly type: string;
  readonly family: RuleFamily;
  readonly attrs: Readonly<Record<string, string>>;
  /** `RegKeyLoop`'s single child rule. */
  readonly child?: RuleNode;
  /** Non-rule child elements, e.g. MsiFeatureInstalledForProduct's `Feature`/`Product`. */
  readonly items?: readonly { readonly tag: string; readonly attrs: Readonly<Record<string, string>>; readonly text?: string }[];
}

/**
 * An element in a rule position that patchscan does not know, or a known one that is malformed.
 * Kept with its name and attributes, never dropped: it evaluates to Unknown, naming itself.
 */
export interface UnsupportedRule {
  readonly kind: 'unsupported';
  /** Element name as written in the fragment, e.g. `b.RegQword`. */
  readonly element: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly reason: string;
}

/** A prerequisite entry: one update required, or at least one of a group (reference §2.5). */
export type Prerequisite =
  | { readonly kind: 'update'; readonly updateId: string }
  | { readonly kind: 'atLeastOne'; readonly isCategory: boolean; readonly updateIds: readonly string[] };

export interface BundledRef {
  readonly updateId: string;
  readonly revisionNumber?: number;
}

/** `BundledUpdates`: single children or `AtLeastOne` groups of alternatives (per architecture, language…). */
export type BundleGroup =
  { readonly kind: 'update'; readonly child: BundledRef } | { readonly kind: 'atLeastOne'; readonly children: readonly BundledRef[] };

/** `ApplicabilityRules/Metadata`: the blob CBS/MSI/driver/appx rules evaluate against, reduced to identities. */
export interface RuleMetadata {
  /** e.g. `CbsPackageApplicabilityMetadata`, `MsiPatchMetadata`, `MsiApplicationMetadata`, `WindowsDriverMetaData`. */
  readonly element: string;
  /** Identity attributes (CBS assemblyIdentity, MSI ProductCode/PatchCode, driver HardwareID…). */
  readonly attrs: Readonly<Record<string, string>>;
}

export interface LocalizedText {
  readonly language: string;
  readonly title: string;
  readonly description?: string;
  readonly moreInfoUrl?: string;
}

/** One `<Update>` of package.xml (reference §1.3): identity, graph flags and RevisionId-keyed links. */
export interface PackageEntry {
  readonly updateId: string;
  readonly revisionNumber: number;
  readonly revisionId: number;
  readonly creationDate?: string;
  readonly defaultLanguage?: string;
  readonly isLeaf: boolean;
  readonly isBundle: boolean;
  readonly isSoftware?: boolean;
  readonly deploymentAction: DeploymentAction;
  readonly categories: readonly { readonly type: string; readonly id: string }[];
  /** package.xml's own prerequisite list (the core fragment's is authoritative when present). */
  readonly prerequisites: readonly Prerequisite[];
  readonly languages: readonly string[];
  readonly bundledByRevisionIds: readonly number[];
  readonly supersededByRevisionIds: readonly number[];
  readonly payloadFiles: number;
}

/** A core fragment `c/<RevisionId>` (reference §2.6): identity, type, relationships, applicability rules. */
export interface CoreFragment {
  readonly updateId: string;
  readonly revisionNumber: number;
  readonly updateType: UpdateType;
  readonly explicitlyDeployable: boolean;
  readonly prerequisites: readonly Prerequisite[];
  readonly bundledUpdates: readonly BundleGroup[];
  readonly supersedes: readonly string[];
  readonly rules: Readonly<Partial<Record<RuleSlot, RuleNode>>>;
  readonly metadata?: RuleMetadata;
}

/** An extended fragment `x/<RevisionId>` (reference §1.4): KB, severity, handler, category type. */
export interface ExtendedFragment {
  readonly kb?: string;
  readonly severity: Severity;
  readonly securityBulletin?: string;
  readonly cves: readonly string[];
  readonly handler?: string;
  readonly supportUrl?: string;
  readonly categoryType?: CategoryType;
}

/** Everything one revision carries, merged from package.xml and its c/, x/ and l/ fragments. */
export interface UpdateRecord extends CoreFragment, ExtendedFragment {
  /** wsusscn2's package-local integer id (0 when the update did not come from package.xml). */
  readonly revisionId: number;
  readonly creationDate?: string;
  readonly defaultLanguage?: string;
  readonly isLeaf: boolean;
  readonly isBundle: boolean;
  readonly deploymentAction: DeploymentAction;
  /** Categories this update belongs to (package.xml `Categories`), with their type. */
  readonly categories: readonly { readonly type: CategoryType | string; readonly id: string }[];
  /** RevisionIds of the bundles that carry this update (package.xml `BundledBy`). */
  readonly bundledByRevisionIds: readonly number[];
  /** RevisionIds of updates that supersede this one (package.xml `SupersededBy`). */
  readonly supersededByRevisionIds: readonly number[];
  readonly localized: readonly LocalizedText[];
}
