/**
 * The reference evaluator: a deliberately plain second implementation of patchscan's semantics
 * (docs/semantics.md). It walks the parsed model (UpdateRecord objects and RuleNode trees) directly — no
 * compiled catalog, no fact dictionary, no closures, no memoization beyond what recursion needs — so that the
 * engine can be checked against something obviously correct.
 *
 * It knows every rule type of engine/rules/registry.ts (the rule tables in test/engine/rules/ hold it to that):
 * each is spelled out below from the documented decision, with the inventory searched by plain array scans.
 */
import type {
  Inventory,
  InventoryCbsPackage,
  InventoryFile,
  InventoryMsiProduct,
  InventoryRegistryKey,
  InventoryRegistryValue,
} from '../../engine/inventory/types.js';
import type { RuleMetadata, RuleNode, UpdateRecord } from '../../engine/model.js';

export type RTri = 'T' | 'F' | 'U';
export type RState = 'Installed' | 'Required' | 'NotApplicable' | 'Unknown';

const and = (...xs: RTri[]): RTri => (xs.includes('F') ? 'F' : xs.includes('U') ? 'U' : 'T');
const or = (...xs: RTri[]): RTri => (xs.includes('T') ? 'T' : xs.includes('U') ? 'U' : 'F');
const neg = (x: RTri): RTri => (x === 'T' ? 'F' : x === 'F' ? 'T' : 'U');
const tri = (b: boolean): RTri => (b ? 'T' : 'F');

/** Bad attribute data in a rule: the rule is Unknown whatever the machine (WU_E_EE_INVALID_ATTRIBUTEDATA). */
class BadData extends Error {}

const SCALAR = ['LessThan', 'LessThanOrEqualTo', 'EqualTo', 'GreaterThanOrEqualTo', 'GreaterThan'];
const STRING = ['EqualTo', 'BeginsWith', 'Contains', 'EndsWith'];

function scalarOp(v: string | undefined, dflt?: string): string {
  const op = v ?? dflt;
  if (op === undefined || !SCALAR.includes(op)) throw new BadData();
  return op;
}
function stringOp(v: string | undefined): string {
  if (v === undefined || !STRING.includes(v)) throw new BadData();
  return v;
}
function int(v: string | undefined): number {
  if (v === undefined || !/^-?\d+$/.test(v.trim())) throw new BadData();
  return Number(v);
}
/** A 1-4 part dotted version, missing parts 0; undefined when the text is not one. */
function version(v: string | undefined): number[] | undefined {
  if (v === undefined || !/^\d{1,10}(\.\d{1,10}){0,3}$/.test(v.trim())) return undefined;
  const p = v.trim().split('.').map(Number);
  while (p.length < 4) p.push(0);
  return p;
}
function needVersion(v: string | undefined): number[] {
  const p = version(v);
  if (!p) throw new BadData();
  return p;
}
/** A date-time; without a zone it is UTC (Windows file times are). */
function time(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(/Z|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`);
  return Number.isNaN(t) ? undefined : t;
}
function needTime(v: string | undefined): number {
  const t = time(v);
  if (t === undefined) throw new BadData();
  return t;
}
const sign = (a: number, b: number): number => (a < b ? -1 : a > b ? 1 : 0);
function compareVersions(x: readonly number[], y: readonly number[]): number {
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return sign(x[i]!, y[i]!);
  return 0;
}
function test(cmp: string, c: number): boolean {
  switch (cmp) {
    case 'LessThan':
      return c < 0;
    case 'LessThanOrEqualTo':
      return c <= 0;
    case 'EqualTo':
      return c === 0;
    case 'GreaterThanOrEqualTo':
      return c >= 0;
    default:
      return c > 0;
  }
}
function stringTest(cmp: string, actual: string, wanted: string): boolean {
  const a = actual.toLowerCase();
  const w = wanted.toLowerCase();
  return cmp === 'EqualTo' ? a === w : cmp === 'BeginsWith' ? a.startsWith(w) : cmp === 'EndsWith' ? a.endsWith(w) : a.includes(w);
}
const isTrue = (v: string | undefined): boolean => v === 'true' || v === '1';
/** The schema's xs:boolean rule attributes: on any rule, a value other than true, false, 1 or 0 is bad data. */
const BOOLEAN_ATTRS = [
  'RegType32',
  'AllSuitesMustBePresent',
  'ExcludeVersionMin',
  'ExcludeVersionMax',
  'AllFeaturesRequired',
  'AllComponentsRequired',
  'AllProductsRequired',
];
const REG_TYPES = ['REG_BINARY', 'REG_DWORD', 'REG_EXPAND_SZ', 'REG_MULTI_SZ', 'REG_QWORD', 'REG_SZ', 'REG_FULL_RESOURCE_DESCRIPTOR'];
const guid = (s: string): string =>
  s
    .trim()
    .replace(/^\{|\}$/g, '')
    .toLowerCase();

type Found<T> = { kind: 'value'; value: T } | { kind: 'absent' } | { kind: 'unknown' };
const UNKNOWN = { kind: 'unknown' } as const;
const ABSENT = { kind: 'absent' } as const;

/** Registry lookups as seen from one rule: the view it asks for, and the RegKeyLoop subkey being visited. */
interface Scope {
  readonly inv: Inventory;
  readonly meta: RuleMetadata | undefined;
  /** Inside RegKeyLoop: the subkey HKEY_LOOP_TARGET stands for, and the loop's registry view. */
  readonly loop?: { readonly key: string; readonly view: '32' | 'native' };
}

const canonicalKey = (k: string): string => k.replace(/\\+/g, '\\').replace(/\\$/, '').toLowerCase();

function keyPath(a: Readonly<Record<string, string>>, s: Scope): string | undefined {
  const hive = (a.Key ?? 'HKEY_LOCAL_MACHINE').toUpperCase();
  const sub = (a.Subkey ?? '').replace(/^\\+|\\+$/g, '');
  if (hive === 'HKEY_LOOP_TARGET') return s.loop ? canonicalKey(sub ? `${s.loop.key}\\${sub}` : s.loop.key) : undefined;
  return canonicalKey(sub ? `${hive}\\${sub}` : hive);
}

function viewOf(a: Readonly<Record<string, string>>, s: Scope): '32' | 'native' {
  const asked = isTrue(a.RegType32) ? '32' : s.loop ? s.loop.view : 'native';
  // x86 and ARM machines have one registry view.
  const arch = s.inv.processor?.architecture;
  return arch === 0 || arch === 5 ? 'native' : asked;
}

function findKey(s: Scope, path: string | undefined, view: '32' | 'native'): Found<InventoryRegistryKey> {
  if (path === undefined) return UNKNOWN;
  const keys = (s.inv.registry ?? []).filter((k) => (k.view ?? 'native') === view);
  const exact = keys.find((k) => canonicalKey(k.key) === path);
  if (exact) return exact.exists ? { kind: 'value', value: exact } : ABSENT;
  // The nearest listed ancestor decides: absent itself, or a complete subkey list without the next step.
  const parts = path.split('\\');
  for (let n = parts.length - 1; n >= 1; n--) {
    const parent = keys.find((k) => canonicalKey(k.key) === parts.slice(0, n).join('\\'));
    if (!parent) continue;
    if (!parent.exists) return ABSENT;
    if (parent.subkeys && !parent.subkeys.some((x) => x.toLowerCase() === parts[n])) return ABSENT;
    return UNKNOWN;
  }
  return UNKNOWN;
}

function findValue(s: Scope, a: Readonly<Record<string, string>>): Found<InventoryRegistryValue> {
  const k = findKey(s, keyPath(a, s), viewOf(a, s));
  if (k.kind !== 'value') return k;
  if (!k.value.values) return UNKNOWN;
  const v = k.value.values.find((x) => x.name.toLowerCase() === (a.Value ?? '').toLowerCase());
  return v ? { kind: 'value', value: v } : ABSENT;
}

function fileAt(inv: Inventory, fullPath: string): Found<InventoryFile> {
  const want = fullPath.replace(/[\\/]+/g, '\\').toLowerCase();
  const f = (inv.files ?? []).find((x) => x.path.replace(/[\\/]+/g, '\\').toLowerCase() === want);
  if (!f) return UNKNOWN;
  return f.exists ? { kind: 'value', value: f } : ABSENT;
}

/** The file a file rule names: under a CSIDL folder, under a registry string (…PrependRegSz), or an absolute path. */
function findFile(s: Scope, type: string, a: Readonly<Record<string, string>>): Found<InventoryFile> {
  const rel = (a.Path ?? '').replace(/^[\\/]+/, '');
  if (type.endsWith('PrependRegSz')) {
    const v = findValue(s, a);
    if (v.kind !== 'value') return v;
    if (typeof v.value.data !== 'string') return ABSENT;
    return fileAt(s.inv, `${v.value.data.replace(/[\\/]+$/, '')}\\${rel}`);
  }
  if (!a.Csidl) return fileAt(s.inv, a.Path ?? '');
  const folder = s.inv.csidl?.[a.Csidl];
  if (folder === undefined) return UNKNOWN;
  return fileAt(s.inv, `${folder.replace(/[\\/]+$/, '')}\\${rel}`);
}

/** A value of a name → value map: not collected (the map or the name missing), absent (null), or the value. */
function mapEntry<T>(map: Readonly<Record<string, T | null>> | undefined, name: string): Found<T> {
  if (!map) return UNKNOWN;
  const key = Object.keys(map).find((k) => k.toLowerCase() === name.toLowerCase());
  if (key === undefined) return UNKNOWN;
  const v = map[key];
  return v === null || v === undefined ? ABSENT : { kind: 'value', value: v };
}

/** CBS identity parts; a short `name~version` identity leaves token, architecture and language unstated. */
function cbsParts(id: string): (string | undefined)[] {
  const p = id.toLowerCase().split('~');
  return p.length === 2 ? [p[0], undefined, undefined, undefined, p[1]] : p;
}
function cbsMatches(wanted: string, have: string): boolean {
  const w = cbsParts(wanted);
  const h = cbsParts(have);
  for (let i = 0; i < Math.max(w.length, h.length); i++) {
    if (w[i] === undefined || w[i] === '' || h[i] === undefined) continue;
    if (w[i] !== h[i]) return false;
  }
  return true;
}
const isInstalledState = (p: InventoryCbsPackage): boolean => ['installed', 'superseded'].includes(p.state.toLowerCase());

/** Reported builds whose cumulative updates are another build's (enablement packages); docs/semantics.md. */
const SERVICED_AS: Readonly<Record<number, number>> = {
  18363: 18362,
  19042: 19041,
  19043: 19041,
  19044: 19041,
  19045: 19041,
  22631: 22621,
  26200: 26100,
};
const servicedAs = (b: number): number => SERVICED_AS[b] ?? b;

function cbsInstallable(s: Scope): RTri {
  const id = s.meta?.attrs.identity;
  if (!id) return 'U';
  const cbs = s.inv.cbs;
  if (!cbs) return 'U';
  const dism = Object.keys(cbs.applicable ?? {}).find((k) => cbsMatches(id, k));
  if (dism !== undefined) return tri(cbs.applicable![dism] === true);
  const own = cbs.packages.filter((p) => cbsMatches(id, p.identity));
  // The package itself listed Installed applies (a re-offer); Superseded does not.
  const decisive = own.find((p) => isInstalledState(p));
  if (decisive) return tri(decisive.state.toLowerCase() === 'installed');
  const [name, , arch, , ver] = id.toLowerCase().split('~');
  const archNo = ({ x86: 0, arm: 5, ia64: 6, amd64: 9, arm64: 12 } as Record<string, number>)[arch ?? ''];
  const m = /^(\d{4,5})\.(\d+)\./.exec(ver ?? '');
  if (archNo === undefined || !m || !s.inv.os || !s.inv.processor) return 'U';
  if (s.inv.processor.architecture !== archNo || servicedAs(s.inv.os.build) !== servicedAs(Number(m[1]))) return 'F';
  if (name !== 'package_for_rollupfix' || s.inv.os.ubr === undefined) return 'U';
  return tri(s.inv.os.ubr < Number(m[2]));
}

/** MsiProductInstalled's (and MsiPatchInstalledForProduct's) optional version and language filters. */
function productFilter(a: Readonly<Record<string, string>>, p: InventoryMsiProduct): RTri {
  const min = a.VersionMin !== undefined ? needVersion(a.VersionMin) : undefined;
  const max = a.VersionMax !== undefined ? needVersion(a.VersionMax) : undefined;
  const lang = a.Language !== undefined ? int(a.Language) : undefined;
  let byVersion: RTri = 'T';
  if (min || max) {
    const v = version(p.version);
    if (!v) byVersion = 'U';
    else {
      const aboveMin = !min || (isTrue(a.ExcludeVersionMin) ? compareVersions(v, min) > 0 : compareVersions(v, min) >= 0);
      const belowMax = !max || (isTrue(a.ExcludeVersionMax) ? compareVersions(v, max) < 0 : compareVersions(v, max) <= 0);
      byVersion = tri(aboveMin && belowMax);
    }
  }
  const byLanguage: RTri = lang === undefined ? 'T' : p.language === undefined ? 'U' : tri(p.language === lang);
  return and(byVersion, byLanguage);
}

const product = (inv: Inventory, code: string): InventoryMsiProduct | undefined =>
  inv.msi!.products.find((p) => guid(p.productCode) === guid(code));
const hasPatch = (p: InventoryMsiProduct, patch: string): RTri => (p.patches ? tri(p.patches.some((x) => guid(x) === guid(patch))) : 'U');

function itemsForProduct(node: Extract<RuleNode, { kind: 'rule' }>, inv: Inventory, itemTag: 'Feature' | 'Component'): RTri {
  const items = node.items ?? [];
  const products = items.filter((i) => i.tag === 'Product').map((i) => i.attrs.ProductCode ?? i.attrs.Code ?? i.text ?? '');
  const wanted = items
    .filter((i) => i.tag === itemTag)
    .map((i) => guid(i.attrs.Name ?? i.attrs.ComponentCode ?? i.attrs.Code ?? i.text ?? ''));
  if (products.length === 0 || wanted.length === 0) throw new BadData();
  if (!inv.msi) return 'U';
  const field = itemTag === 'Feature' ? 'features' : 'components';
  const allItems = isTrue(node.attrs[itemTag === 'Feature' ? 'AllFeaturesRequired' : 'AllComponentsRequired']);
  const perProduct = products.map((code): RTri => {
    const p = product(inv, code);
    if (!p) return 'F';
    const have = p[field];
    if (!have) return 'U';
    const hits = wanted.map((w) => have.some((h) => guid(h) === w));
    return tri(allItems ? hits.every(Boolean) : hits.some(Boolean));
  });
  return isTrue(node.attrs.AllProductsRequired) ? and(...perProduct) : or(...perProduct);
}

/** Rules patchscan knows but does not evaluate: always Unknown (program.ts says why). */
const NOT_EVALUATED = new Set([
  'ClusterResourceOwner',
  'GenericQuery',
  'InstalledOnce',
  'WUv4RegKeyValue',
  'WUv4RegKeySubstring',
  'Direct3D',
  'Memory',
  'VideoMemory',
  'SensorById',
  'NFC',
  'Camera',
  'MsiPatchSuperseded',
  'MsiPatchInstallable',
  'MsiApplicationSuperseded',
  'MsiApplicationInstallable',
  'WindowsDriverInstalled',
  'WindowsDriverSuperseded',
  'WindowsDriverInstallable',
  'FeatureScore',
  'DistributionComputerHardwareId',
  'TargetComputerHardwareId',
  'CompatibleProvider',
  'InstalledVersionRange',
  'AppxPackageInstalled',
  'AppxPackageInstallable',
]);

/** A rule's value on a machine; `meta` is the update's Metadata blob (CBS and MSI metadata rules read it). */
export function evalRule(node: RuleNode, inv: Inventory, meta?: RuleMetadata): RTri {
  return evalIn(node, { inv, meta });
}

function evalIn(node: RuleNode, s: Scope): RTri {
  switch (node.kind) {
    case 'const':
      return tri(node.value);
    case 'and':
      return and(...node.children.map((c) => evalIn(c, s)));
    case 'or':
      return or(...node.children.map((c) => evalIn(c, s)));
    case 'not':
      return neg(evalIn(node.child, s));
    case 'unsupported':
      return 'U';
    case 'rule':
      break;
  }
  if (NOT_EVALUATED.has(node.type)) return 'U';
  try {
    return leaf(node, s);
  } catch (e) {
    if (e instanceof BadData) return 'U';
    throw e;
  }
}

function leaf(node: Extract<RuleNode, { kind: 'rule' }>, s: Scope): RTri {
  const a = node.attrs;
  for (const b of BOOLEAN_ATTRS) if (a[b] !== undefined && !['true', 'false', '1', '0'].includes(a[b])) throw new BadData();
  const inv = s.inv;
  const os = inv.os;
  switch (node.type) {
    case 'WindowsVersion':
    case 'PlatformVersion': {
      const cmp = scalarOp(a.Comparison, 'EqualTo');
      for (const k of ['MajorVersion', 'MinorVersion', 'ServicePackMajor', 'ServicePackMinor', 'BuildNumber', 'ProductType', 'SuiteMask'])
        if (a[k] !== undefined && int(a[k]) < 0) throw new BadData();
      const want: [number, number][] = [];
      if (a.MajorVersion !== undefined) want.push([int(a.MajorVersion), os?.major ?? 0]);
      if (a.MinorVersion !== undefined) want.push([int(a.MinorVersion), os?.minor ?? 0]);
      if (a.ServicePackMajor !== undefined) want.push([int(a.ServicePackMajor), os?.spMajor ?? 0]);
      if (a.ServicePackMinor !== undefined) want.push([int(a.ServicePackMinor), os?.spMinor ?? 0]);
      const build = a.BuildNumber !== undefined ? int(a.BuildNumber) : undefined;
      const pt = a.ProductType !== undefined ? int(a.ProductType) : undefined;
      const suites = a.SuiteMask !== undefined ? int(a.SuiteMask) : undefined;
      if (!os) return 'U';
      // Major, minor and service pack as one tuple (the first that differs decides); the build on its own.
      const first = want.find(([w, have]) => w !== have);
      const tuple = want.length === 0 || test(cmp, first ? sign(first[1], first[0]) : 0);
      const byBuild = build === undefined || test(cmp, sign(os.build, build));
      const byType = pt === undefined || os.productType === pt;
      let bySuite: RTri = 'T';
      if (suites !== undefined) {
        if (os.suiteMask === undefined) bySuite = 'U';
        else bySuite = tri(isTrue(a.AllSuitesMustBePresent) ? (os.suiteMask & suites) === suites : (os.suiteMask & suites) !== 0);
      }
      return and(tri(tuple), tri(byBuild), tri(byType), bySuite);
    }
    case 'Platform': {
      const id = int(a.PlatformID);
      return os ? tri(id === 2) : 'U';
    }
    case 'WindowsLanguage': {
      if (a.Language === undefined) throw new BadData();
      if (!os) return 'U';
      if (os.muiInstalled === true) return 'F';
      if (os.muiInstalled === undefined || os.installLanguage === undefined) return 'U';
      return tri(languageIs(os.installLanguage, a.Language ?? ''));
    }
    case 'MuiInstalled':
      return os?.muiInstalled === undefined ? 'U' : tri(os.muiInstalled);
    case 'MuiLanguageInstalled': {
      if (!os) return 'U';
      if (os.muiInstalled === false) return 'F';
      if (os.muiInstalled === undefined || !os.uiLanguages) return 'U';
      return tri(os.uiLanguages.some((l) => languageIs(l, a.Language ?? '')));
    }
    case 'SystemMetric':
    case 'LicenseDword': {
      const cmp = scalarOp(a.Comparison);
      const want = int(node.type === 'SystemMetric' ? a.Value : a.Data);
      const v = node.type === 'SystemMetric' ? mapEntry(inv.systemMetrics, a.Index ?? '') : mapEntry(inv.licensing, a.Value ?? '');
      return v.kind === 'unknown' ? 'U' : v.kind === 'absent' ? 'F' : tri(test(cmp, sign(v.value, want)));
    }
    case 'Processor': {
      const arch = int(a.Architecture);
      const level = a.Level !== undefined ? int(a.Level) : undefined;
      const rev = a.Revision !== undefined ? int(a.Revision) : undefined;
      const p = inv.processor;
      if (!p) return 'U';
      const detail = (want: number | undefined, have: number | undefined): RTri =>
        want === undefined ? 'T' : have === undefined ? 'U' : tri(have === want);
      return and(tri(p.architecture === arch), detail(level, p.level), detail(rev, p.revision));
    }
    case 'NumberOfProcessors': {
      const cmp = scalarOp(a.Comparison);
      const n = int(a.Number);
      const count = inv.processor?.count;
      return count === undefined ? 'U' : tri(test(cmp, sign(count, n)));
    }
    case 'ClusteredOS':
      return inv.cluster ? tri(inv.cluster.clustered) : 'U';
    case 'FileExists':
    case 'FileExistsPrependRegSz': {
      const wantVersion = a.Version !== undefined ? needVersion(a.Version) : undefined;
      const created = a.Created !== undefined ? needTime(a.Created) : undefined;
      const modified = a.Modified !== undefined ? needTime(a.Modified) : undefined;
      const size = a.Size !== undefined ? int(a.Size) : undefined;
      const lang = a.Language !== undefined ? int(a.Language) : undefined;
      const f = findFile(s, node.type, a);
      if (f.kind !== 'value') return f.kind === 'absent' ? 'F' : 'U';
      const file = f.value;
      const same = (want: unknown, have: unknown): RTri => (want === undefined ? 'T' : have === undefined ? 'U' : tri(want === have));
      const haveVersion = version(file.version); // absent or unreadable: not known
      const sameVersion: RTri = !wantVersion ? 'T' : haveVersion === undefined ? 'U' : tri(compareVersions(haveVersion, wantVersion) === 0);
      const sameTimes = and(same(created, time(file.created)), same(modified, time(file.modified)));
      return and(sameVersion, sameTimes, same(size, file.size), same(lang, file.language));
    }
    case 'FileVersion':
    case 'FileVersionPrependRegSz': {
      const cmp = scalarOp(a.Comparison);
      const want = needVersion(a.Version);
      const f = findFile(s, node.type, a);
      if (f.kind !== 'value') return f.kind === 'absent' ? 'F' : 'U';
      const have = version(f.value.version);
      return have ? tri(test(cmp, compareVersions(have, want))) : 'F';
    }
    case 'FileSize':
    case 'FileSizePrependRegSz': {
      const cmp = scalarOp(a.Comparison);
      const want = int(a.Size);
      const f = findFile(s, node.type, a);
      if (f.kind !== 'value') return f.kind === 'absent' ? 'F' : 'U';
      return f.value.size === undefined ? 'U' : tri(test(cmp, sign(f.value.size, want)));
    }
    case 'FileCreated':
    case 'FileCreatedPrependRegSz':
    case 'FileModified':
    case 'FileModifiedPrependRegSz': {
      const created = node.type.startsWith('FileCreated');
      const cmp = scalarOp(a.Comparison);
      const want = needTime(created ? a.Created : a.Modified);
      const f = findFile(s, node.type, a);
      if (f.kind !== 'value') return f.kind === 'absent' ? 'F' : 'U';
      const have = time(created ? f.value.created : f.value.modified);
      return have === undefined ? 'U' : tri(test(cmp, sign(have, want)));
    }
    case 'RegKeyExists': {
      const k = findKey(s, keyPath(a, s), viewOf(a, s));
      return k.kind === 'unknown' ? 'U' : tri(k.kind === 'value');
    }
    case 'RegValueExists': {
      const type = a.Type?.trim();
      if (type !== undefined && !REG_TYPES.includes(type)) throw new BadData();
      const v = findValue(s, a);
      if (v.kind !== 'value') return v.kind === 'absent' ? 'F' : 'U';
      return tri(type === undefined || v.value.type === type);
    }
    case 'RegDword': {
      const cmp = scalarOp(a.Comparison);
      const want = int(a.Data);
      if (want < 0 || want > 4294967295) throw new BadData();
      const v = findValue(s, a);
      if (v.kind !== 'value') return v.kind === 'absent' ? 'F' : 'U';
      return v.value.type === 'REG_DWORD' ? tri(test(cmp, sign(v.value.data as number, want))) : 'F';
    }
    case 'RegSz':
    case 'RegExpandSz': {
      const cmp = stringOp(a.Comparison);
      const v = findValue(s, a);
      if (v.kind !== 'value') return v.kind === 'absent' ? 'F' : 'U';
      return v.value.type === 'REG_SZ' || v.value.type === 'REG_EXPAND_SZ' ? tri(stringTest(cmp, String(v.value.data), a.Data ?? '')) : 'F';
    }
    case 'RegSzToVersion': {
      const cmp = scalarOp(a.Comparison);
      const want = needVersion(a.Data);
      const v = findValue(s, a);
      if (v.kind !== 'value') return v.kind === 'absent' ? 'F' : 'U';
      if (v.value.type !== 'REG_SZ' && v.value.type !== 'REG_EXPAND_SZ') return 'F';
      const have = version(String(v.value.data));
      return have ? tri(test(cmp, compareVersions(have, want))) : 'F';
    }
    case 'RegKeyLoop': {
      const trueIf = a.TrueIf;
      if (trueIf !== 'Any' && trueIf !== 'All' && trueIf !== 'None') throw new BadData();
      const view = viewOf(a, s);
      const k = findKey(s, keyPath(a, s), view);
      if (k.kind === 'unknown') return 'U';
      if (k.kind === 'absent') return tri(trueIf !== 'Any');
      if (!k.value.subkeys) return 'U';
      const results = k.value.subkeys.map((sub): RTri =>
        node.child ? evalIn(node.child, { ...s, loop: { key: `${k.value.key}\\${sub}`, view } }) : 'U',
      );
      const any = or('F', ...results);
      return trueIf === 'Any' ? any : trueIf === 'All' ? and('T', ...results) : neg(any);
    }
    case 'WmiQuery': {
      const ns = (a.Namespace ?? 'root\\cimv2').toLowerCase();
      const hit = (inv.wmi ?? []).find((w) => w.namespace.toLowerCase() === ns && w.query === a.WqlQuery);
      return hit ? tri(hit.count > 0) : 'U';
    }
    case 'MsiProductInstalled': {
      productFilter(a, { productCode: '' }); // attribute data first: bad data is Unknown on every machine
      if (!inv.msi) return 'U';
      const p = product(inv, a.ProductCode ?? '');
      return p ? productFilter(a, p) : 'F';
    }
    case 'MsiFeatureInstalledForProduct':
      return itemsForProduct(node, inv, 'Feature');
    case 'MsiComponentInstalledForProduct':
      return itemsForProduct(node, inv, 'Component');
    case 'MsiPatchInstalledForProduct': {
      productFilter(a, { productCode: '' });
      if (!inv.msi) return 'U';
      const p = product(inv, a.ProductCode ?? '');
      if (!p) return 'F';
      return and(productFilter(a, p), hasPatch(p, a.PatchCode ?? ''));
    }
    case 'MsiPatchInstalled': {
      const patch = s.meta?.attrs.PatchCode;
      if (!patch) return 'U';
      if (!inv.msi) return 'U';
      return or('F', ...inv.msi.products.map((p) => hasPatch(p, patch)));
    }
    case 'MsiApplicationInstalled': {
      const code = s.meta?.attrs.ProductCode;
      if (!code || !inv.msi) return 'U';
      return tri(product(inv, code) !== undefined);
    }
    case 'CbsPackageInstalledByIdentity':
    case 'CbsPackageInstalled': {
      const id = node.type === 'CbsPackageInstalled' ? s.meta?.attrs.identity : a.PackageIdentity;
      if (!id || !inv.cbs) return 'U';
      return tri(inv.cbs.packages.some((p) => cbsMatches(id, p.identity) && isInstalledState(p)));
    }
    case 'CbsPackageInstallable':
      return cbsInstallable(s);
    case 'ProductReleaseInstalled': {
      const want = a.Version !== undefined ? needVersion(a.Version) : undefined;
      if (!inv.productReleases) return 'U';
      const named = inv.productReleases.filter((r) => r.name.toLowerCase() === (a.Name ?? '').toLowerCase());
      if (named.length === 0) return 'F';
      return tri(
        !want ||
          named.some((r) => {
            const v = version(r.version);
            return v !== undefined && compareVersions(v, want) >= 0;
          }),
      );
    }
    case 'ProductReleaseVersion': {
      const cmp = scalarOp(a.Comparison, 'EqualTo');
      const want = needVersion(a.Version);
      if (!inv.productReleases) return 'U';
      const r = inv.productReleases.find((x) => x.name.toLowerCase() === (a.Name ?? '').toLowerCase());
      const v = r && version(r.version);
      return v ? tri(test(cmp, compareVersions(v, want))) : 'F';
    }
    case 'DeviceAttribute': {
      const type = a.Type ?? 'String';
      if (type !== 'String' && type !== 'Version') throw new BadData();
      const cmp = type === 'Version' ? scalarOp(a.Comparison) : stringOp(a.Comparison);
      const wantVersion = type === 'Version' ? needVersion(a.Value) : undefined;
      const v = mapEntry(inv.deviceAttributes, a.Name ?? '');
      if (v.kind !== 'value') return v.kind === 'absent' ? 'F' : 'U';
      if (!wantVersion) return tri(stringTest(cmp, v.value, a.Value ?? ''));
      const have = version(v.value);
      return have ? tri(test(cmp, compareVersions(have, wantVersion))) : 'F';
    }
    default:
      throw new Error(`reference evaluator does not know ${node.type}`);
  }
}

/** The install language is `wanted`, or its primary subtag when `wanted` names no region. */
function languageIs(installed: string, wanted: string): boolean {
  const i = installed.toLowerCase();
  const w = wanted.toLowerCase();
  return i === w || (!w.includes('-') && i.split('-')[0] === w);
}

export interface RResult {
  readonly state: RState;
  /** An update that supersedes it is Installed or Required, or its own IsSuperseded rule made it NotApplicable. */
  readonly superseded: boolean;
  /** Not superseded, and an update that supersedes it is Unknown (docs/semantics.md, "Supersedence"). */
  readonly possiblySuperseded: boolean;
}

/** States of every record on one machine, by UpdateId. */
export function referenceScan(records: readonly UpdateRecord[], inv: Inventory): Map<string, RResult> {
  const byId = new Map(records.map((r) => [r.updateId, r]));
  const states = new Map<string, RState>();
  const slot = (r: UpdateRecord, s: 'IsInstalled' | 'IsInstallable' | 'IsSuperseded'): RTri => {
    const n = r.rules[s];
    if (!n) return s === 'IsInstallable' ? 'T' : 'F';
    return evalRule(n, inv, r.metadata);
  };
  const installed = (id: string): RTri => {
    const r = byId.get(id);
    if (!r) return 'F';
    if (r.updateType === 'Category' || r.updateType === 'Detectoid') return and(prereqs(r), slot(r, 'IsInstalled'));
    const s = state(r);
    return s === 'Installed' ? 'T' : s === 'Unknown' ? 'U' : 'F';
  };
  const prereqs = (r: UpdateRecord): RTri =>
    and(...r.prerequisites.map((p) => (p.kind === 'update' ? installed(p.updateId) : or(...p.updateIds.map(installed)))));
  const state = (r: UpdateRecord): RState => {
    const known = states.get(r.updateId);
    if (known) return known;
    const P = prereqs(r);
    let s: RState;
    if (P === 'F') s = 'NotApplicable';
    else if (r.updateType === 'Category' || r.updateType === 'Detectoid') {
      const v = and(P, slot(r, 'IsInstalled'));
      s = v === 'T' ? 'Installed' : v === 'F' ? 'NotApplicable' : 'Unknown';
    } else if (r.bundledUpdates.length > 0) {
      const kids = r.bundledUpdates
        .flatMap((g) => (g.kind === 'update' ? [g.child] : g.children))
        .map((c) => {
          const child = byId.get(c.updateId);
          return child ? state(child) : 'Unknown';
        });
      s = kids.includes('Required')
        ? 'Required'
        : kids.includes('Unknown')
          ? 'Unknown'
          : kids.includes('Installed')
            ? 'Installed'
            : 'NotApplicable';
      if (P === 'U' && s !== 'NotApplicable') s = 'Unknown';
    } else {
      const I = slot(r, 'IsInstalled');
      const S = slot(r, 'IsSuperseded');
      const N = slot(r, 'IsInstallable');
      const inst = and(P, I);
      const req = and(P, neg(I), neg(S), N);
      s = inst === 'T' ? 'Installed' : req === 'T' ? 'Required' : inst === 'F' && req === 'F' ? 'NotApplicable' : 'Unknown';
    }
    states.set(r.updateId, s);
    return s;
  };
  const out = new Map<string, RResult>();
  for (const r of records) {
    const s = state(r);
    const superseders = records.filter((o) => o.supersedes.includes(r.updateId)).map(state);
    const bySuperseder = superseders.some((x) => x === 'Installed' || x === 'Required');
    const byRule =
      s === 'NotApplicable' &&
      r.bundledUpdates.length === 0 &&
      r.updateType === 'Software' &&
      prereqs(r) !== 'F' &&
      and(prereqs(r), slot(r, 'IsInstalled')) === 'F' &&
      slot(r, 'IsSuperseded') === 'T';
    const superseded = bySuperseder || byRule;
    out.set(r.updateId, { state: s, superseded, possiblySuperseded: !superseded && superseders.includes('Unknown') });
  }
  return out;
}
