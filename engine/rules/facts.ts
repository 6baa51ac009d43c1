/**
 * Facts: the questions rules ask a machine ("does this file exist and what is its version?", "what is this
 * registry value?"). The compiled catalog holds each distinct fact once (the fact dictionary); a machine's
 * inventory is turned into one value per fact, and rules read those by index.
 *
 * Keys are canonical so that the same question asked by a thousand rules is one fact: Windows paths and
 * registry names are case-insensitive (lower-cased), duplicate backslashes collapse, CSIDL stays numeric.
 */

export const FACT_KINDS = [
  'os', // version, build, UBR, service pack, product type, suite mask (WindowsVersion, Platform)
  'osLanguage',
  'muiLanguages',
  'systemMetric', // (index)
  'processor', // architecture, level, revision, count
  'cluster',
  'file', // (csidl, path)
  'fileUnderRegSz', // (view, key, value, path): a file whose folder is a registry string
  'regKey', // (view, key)
  'regValue', // (view, key, value)
  'regSubtree', // (view, key): subkeys and their values, for RegKeyLoop
  'wmi', // (namespace, query)
  'genericQuery',
  'licenseDword', // (policy GUID)
  'msiProduct', // (product code)
  'msiPatch', // (patch code, product code)
  'msiPatchMetadata', // (patch code)
  'msiFeature', // (product code, feature)
  'msiComponent', // (product code, component code)
  'cbsPackage', // (identity)
  'driver', // (hardware id)
  'productRelease', // (name)
  'deviceAttribute', // (name)
  'appxPackage', // (moniker)
  'hardware', // (capability)
] as const;

export type FactKind = (typeof FACT_KINDS)[number];

export interface Fact {
  readonly kind: FactKind;
  readonly args: readonly string[];
  /** Canonical dictionary key, e.g. `file(37|conhost.exe)`. */
  readonly key: string;
}

export function fact(kind: FactKind, ...args: string[]): Fact {
  return { kind, args, key: `${kind}(${args.join('|')})` };
}

/** `\\conhost.exe` and `conhost.exe` under the same CSIDL are the same file; case never matters on Windows. */
export function normalizeFilePath(path: string): string {
  return path
    .replace(/[\\/]+/g, '\\')
    .replace(/^\\/, '')
    .toLowerCase();
}

export function normalizeRegKey(key: string | undefined, subkey: string | undefined): string {
  const hive = (key ?? 'HKEY_LOCAL_MACHINE').toUpperCase();
  const sub = (subkey ?? '')
    .replace(/\\+/g, '\\')
    .replace(/^\\|\\$/g, '')
    .toLowerCase();
  return sub ? `${hive}\\${sub}` : hive;
}

/** `RegType32="true"` forces the 32-bit registry view; otherwise the machine's native view (reference §3.9). */
export function registryView(regType32: string | undefined): '32' | 'native' {
  return regType32 === 'true' || regType32 === '1' ? '32' : 'native';
}
