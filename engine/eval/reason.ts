/**
 * Reason texts: what the machine has and what the rule wanted, read off an explanation tree.
 *
 * A leaf is never cited bare: under a `Not` the rule "excludes" what it names (a False leaf under Not is why the
 * slot is True), and when a value needs every child of an And (all hold) or of an Or (none holds), the reason says
 * how many other conditions share the cited one's value. Built only when a reason is asked for (never in a scan that
 * leaves reasons out), from the explanation's readings; the scan's hot loop does not come here.
 */
import type { FactReading } from './context.js';
import type { ExplainNode } from './program.js';

const SCALAR_OPS: Readonly<Record<string, string>> = {
  LessThan: '<',
  LessThanOrEqualTo: '<=',
  EqualTo: '=',
  GreaterThanOrEqualTo: '>=',
  GreaterThan: '>',
  BeginsWith: 'begins with',
  Contains: 'contains',
  EndsWith: 'ends with',
};

const op = (comparison: string | undefined, dflt = '='): string =>
  comparison === undefined ? dflt : (SCALAR_OPS[comparison] ?? comparison);
const quoted = (s: string): string => (/^[^\s"]+$/.test(s) ? s : JSON.stringify(s));
const plural = (n: number, one: string, many: string): string => (n === 1 ? one : many);

type Attrs = Readonly<Record<string, string>>;

function windowsVersionWants(a: Attrs): string {
  const o = op(a.Comparison);
  const parts: string[] = [];
  const tuple = [a.MajorVersion, a.MinorVersion].filter((x) => x !== undefined).join('.');
  const sp =
    a.ServicePackMajor !== undefined || a.ServicePackMinor !== undefined ? `SP${a.ServicePackMajor ?? 0}.${a.ServicePackMinor ?? 0}` : '';
  if (tuple || sp) parts.push(`version ${o} ${[tuple, sp].filter(Boolean).join(' ')}`);
  if (a.BuildNumber !== undefined) parts.push(`build ${o} ${a.BuildNumber}`);
  if (a.ProductType !== undefined) parts.push(`product type ${a.ProductType}`);
  if (a.SuiteMask !== undefined) {
    const all = a.AllSuitesMustBePresent === 'true' || a.AllSuitesMustBePresent === '1';
    parts.push(`suite mask ${a.SuiteMask} (${all ? 'all' : 'any'})`);
  }
  return parts.length ? `Windows ${parts.join(', ')}` : 'any Windows version';
}

function fileWants(a: Attrs): string {
  const with_ = [
    a.Version !== undefined ? `version ${a.Version}` : '',
    a.Size !== undefined ? `size ${a.Size}` : '',
    a.Created !== undefined ? `created ${a.Created}` : '',
    a.Modified !== undefined ? `modified ${a.Modified}` : '',
    a.Language !== undefined ? `language ${a.Language}` : '',
  ].filter(Boolean);
  return `the file${with_.length ? ` with ${with_.join(', ')}` : ''}`;
}

const valueName = (a: Attrs): string => (a.Value ? a.Value : '(default)');

function msiVersions(a: Attrs): string {
  const min =
    a.VersionMin !== undefined ? `${a.ExcludeVersionMin === 'true' || a.ExcludeVersionMin === '1' ? '>' : '>='} ${a.VersionMin}` : '';
  const max =
    a.VersionMax !== undefined ? `${a.ExcludeVersionMax === 'true' || a.ExcludeVersionMax === '1' ? '<' : '<='} ${a.VersionMax}` : '';
  const language = a.Language !== undefined ? `language ${a.Language}` : '';
  const parts = [min && `version ${min}`, max && `version ${max}`, language].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/**
 * The condition a rule of `type` tests, as a short phrase that reads after "the rule requires" / "the rule
 * excludes": `OSSkuId = 119`, `version >= 6.1.7601.23403`, `UBR >= 320`. Undefined for a rule it has no phrase for
 * (the reason then names the rule).
 */
export function ruleWants(type: string, a: Attrs): string | undefined {
  switch (type) {
    case 'WindowsVersion':
    case 'PlatformVersion':
      return windowsVersionWants(a);
    case 'Platform':
      return `platform ${a.PlatformID}`;
    case 'WindowsLanguage':
      return `install language ${a.Language ?? ''}`;
    case 'MuiInstalled':
      return 'MUI installed';
    case 'MuiLanguageInstalled':
      return `MUI language ${a.Language ?? ''} installed`;
    case 'SystemMetric':
      return `system metric ${a.Index} ${op(a.Comparison)} ${a.Value}`;
    case 'Processor': {
      const level = a.Level !== undefined ? `level ${a.Level}` : '';
      const revision = a.Revision !== undefined ? `revision ${a.Revision}` : '';
      return [`architecture ${a.Architecture}`, level, revision].filter(Boolean).join(', ');
    }
    case 'NumberOfProcessors':
      return `processors ${op(a.Comparison)} ${a.Number}`;
    case 'ClusteredOS':
      return 'a clustered OS';
    case 'LicenseDword':
      return `license value ${a.Value} ${op(a.Comparison)} ${a.Data}`;
    case 'FileExists':
    case 'FileExistsPrependRegSz':
      return fileWants(a);
    case 'FileVersion':
    case 'FileVersionPrependRegSz':
      return `version ${op(a.Comparison)} ${a.Version}`;
    case 'FileCreated':
    case 'FileCreatedPrependRegSz':
      return `created ${op(a.Comparison)} ${a.Created}`;
    case 'FileModified':
    case 'FileModifiedPrependRegSz':
      return `modified ${op(a.Comparison)} ${a.Modified}`;
    case 'FileSize':
    case 'FileSizePrependRegSz':
      return `size ${op(a.Comparison)} ${a.Size}`;
    case 'RegKeyExists':
      return 'the key';
    case 'RegValueExists':
      return `the value ${valueName(a)}${a.Type ? ` of type ${a.Type}` : ''}`;
    case 'RegDword':
    case 'RegSzToVersion':
      return `${valueName(a)} ${op(a.Comparison)} ${a.Data}`;
    case 'RegSz':
    case 'RegExpandSz':
      return `${valueName(a)} ${op(a.Comparison)} ${quoted(a.Data ?? '')}`;
    case 'RegKeyLoop':
      return `${a.TrueIf === 'All' ? 'every subkey' : a.TrueIf === 'None' ? 'no subkey' : 'a subkey'} matching its rule`;
    case 'WmiQuery':
      return 'a result of the WMI query';
    case 'MsiProductInstalled':
      return `MSI product ${a.ProductCode}${msiVersions(a)}`;
    case 'MsiFeatureInstalledForProduct':
      return 'the MSI features';
    case 'MsiComponentInstalledForProduct':
      return 'the MSI components';
    case 'MsiPatchInstalledForProduct':
      return `MSI patch ${a.PatchCode} on product ${a.ProductCode}${msiVersions(a)}`;
    case 'MsiPatchInstalled':
      return 'its MSI patch';
    case 'MsiApplicationInstalled':
      return 'its MSI application';
    case 'CbsPackageInstalledByIdentity':
      return `CBS package ${a.PackageIdentity} installed`;
    case 'CbsPackageInstalled':
      return 'its CBS package installed';
    case 'CbsPackageInstallable':
      return 'its CBS package applicable';
    case 'ProductReleaseInstalled':
      return `${a.Name}${a.Version !== undefined ? ` ${a.Version} or later` : ''} installed`;
    case 'ProductReleaseVersion':
      return `${a.Name} version ${op(a.Comparison)} ${a.Version}`;
    case 'DeviceAttribute':
      return `${a.Name} ${op(a.Comparison)} ${quoted(a.Value ?? '')}`;
    default:
      return undefined;
  }
}

/** One reading as a phrase: `device attribute OSSkuId is 48`, `registry value …\UBR was not collected`. */
export function readingText(r: FactReading): string {
  if (r.fact === 'reason') return r.value;
  if (r.value === 'not collected') return `${r.fact} was not collected`;
  if (r.value === 'exists') return `${r.fact} exists`;
  return /^[^\s,;:]+$/.test(r.value) ? `${r.fact} is ${r.value}` : `${r.fact}: ${r.value}`;
}

export const isConstant = (n: ExplainNode): boolean =>
  n.children.length === 0 && n.reads.length === 0 && (n.rule === 'True' || n.rule === 'False');

/** How many conditions `n` stands for inside an `op` node: nested And(And(a, b), c) is three conditions. */
const flatCount = (n: ExplainNode, op: string): number => (n.rule === op ? n.children.reduce((sum, k) => sum + flatCount(k, op), 0) : 1);

/** A leaf's sentence; `negated` when an odd number of Nots stand above it. */
function leafSentence(leaf: ExplainNode, negated: boolean): string {
  if (isConstant(leaf)) return `${negated ? 'Not ' : ''}constant ${leaf.rule}`;
  const reason = leaf.reads.find((r) => r.fact === 'reason');
  if (reason) return reason.value; // Unknown by construction (not supported, not evaluated, bad data): the leaf says why
  const has = leaf.reads.map(readingText).join('; ');
  const wants =
    leaf.wants !== undefined ? `the rule ${negated ? 'excludes' : 'requires'} ${leaf.wants}` : `${negated ? 'Not ' : ''}${leaf.rule}`;
  return has ? `${has}; ${wants}` : wants;
}

/**
 * What a reason cites of a rule tree: the deciding leaf (followed through And/Or children with the same value, through
 * Not with the opposite one), whether an odd number of Nots stand above it, and how many other conditions of an And
 * that holds (`alsoHold`) or alternatives of an Or that fails (`alsoFail`) share its value.
 */
export interface CitedLeaf {
  readonly leaf: ExplainNode;
  readonly negated: boolean;
  readonly alsoHold: number;
  readonly alsoFail: number;
}

/** The cited leaf, read off a whole explanation tree (RuleProgram.citedLeaf finds the same one without building it). */
export function citedLeafOf(e: ExplainNode): CitedLeaf {
  let negated = false;
  let alsoHold = 0; // other conditions of an And that is True (each was needed)
  let alsoFail = 0; // other alternatives of an Or that is False (none held)
  let n = e;
  while (n.children.length > 0) {
    if (n.rule === 'Not') {
      negated = !negated;
      n = n.children[0]!;
      continue;
    }
    const value = n.value;
    const same = n.children.filter((k) => k.value === value);
    if (same.length === 0) break;
    // Cite a rule that read the machine rather than a constant beside it (And(True, X) is True because of X).
    const next = same.find((k) => !isConstant(k)) ?? same[0]!;
    if (same.length === n.children.length) {
      const op = n.rule;
      const others = n.children.reduce((sum, k) => (k === next ? sum : sum + flatCount(k, op)), 0);
      if (op === 'And' && value === 'True') alsoHold += others;
      if (op === 'Or' && value === 'False') alsoFail += others;
    }
    n = next;
  }
  return { leaf: n, negated, alsoHold, alsoFail };
}

/** The cited leaf as one short sentence: what the machine has there and what the rule wanted. */
export function citedReason(c: CitedLeaf): string {
  const { alsoHold, alsoFail } = c;
  const notes = [
    alsoHold ? `and ${alsoHold} other ${plural(alsoHold, 'condition holds', 'conditions hold')}` : '',
    alsoFail ? `nor ${plural(alsoFail, 'does 1 other alternative', `do ${alsoFail} other alternatives`)}` : '',
  ].filter(Boolean);
  return `${leafSentence(c.leaf, c.negated)}${notes.length ? ` (${notes.join('; ')})` : ''}`;
}

/** Why a rule tree has its value, in one short sentence (the cited leaf of its explanation tree). */
export function slotReason(e: ExplainNode): string {
  return citedReason(citedLeafOf(e));
}
