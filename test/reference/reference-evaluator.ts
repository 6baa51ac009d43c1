/**
 * The reference evaluator: a deliberately plain second implementation of patchscan's semantics
 * (docs/semantics.md). It walks the parsed model (UpdateRecord objects and RuleNode trees) directly — no
 * compiled catalog, no fact dictionary, no closures, no memoization beyond what recursion needs — so that the
 * engine can be checked against something obviously correct.
 *
 * It covers the rule types the property tests generate; anything else throws (a test bug, not a result).
 */
import type { Inventory, InventoryRegistryKey } from '../../engine/inventory/types.js';
import type { RuleNode, UpdateRecord } from '../../engine/model.js';

export type RTri = 'T' | 'F' | 'U';
export type RState = 'Installed' | 'Required' | 'NotApplicable' | 'Unknown';

const and = (...xs: RTri[]): RTri => (xs.includes('F') ? 'F' : xs.includes('U') ? 'U' : 'T');
const or = (...xs: RTri[]): RTri => (xs.includes('T') ? 'T' : xs.includes('U') ? 'U' : 'F');
const neg = (x: RTri): RTri => (x === 'T' ? 'F' : x === 'F' ? 'T' : 'U');
const tri = (b: boolean): RTri => (b ? 'T' : 'F');

function versionParts(v: string): number[] {
  const p = v.split('.').map(Number);
  while (p.length < 4) p.push(0);
  return p;
}
function compareVersions(a: string, b: string): number {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}
function test(cmp: string, c: number): boolean {
  return cmp === 'LessThan' ? c < 0 : cmp === 'LessThanOrEqualTo' ? c <= 0 : cmp === 'EqualTo' ? c === 0 : cmp === 'GreaterThanOrEqualTo' ? c >= 0 : c > 0;
}

type Found<T> = { kind: 'value'; value: T } | { kind: 'absent' } | { kind: 'unknown' };

function findKey(inv: Inventory, key: string): Found<InventoryRegistryKey> {
  const keys = inv.registry ?? [];
  const want = key.toLowerCase();
  const exact = keys.find((k) => k.key.toLowerCase() === want && (k.view ?? 'native') === 'native');
  if (exact) return exact.exists ? { kind: 'value', value: exact } : { kind: 'absent' };
  const parts = want.split('\\');
  for (let n = parts.length - 1; n >= 1; n--) {
    const parent = keys.find((k) => k.key.toLowerCase() === parts.slice(0, n).join('\\') && (k.view ?? 'native') === 'native');
    if (!parent) continue;
    if (!parent.exists) return { kind: 'absent' };
    if (parent.subkeys && !parent.subkeys.map((s) => s.toLowerCase()).includes(parts[n]!)) return { kind: 'absent' };
    return { kind: 'unknown' };
  }
  return { kind: 'unknown' };
}

function findValue(inv: Inventory, key: string, name: string): Found<{ type: string; data: unknown }> {
  const k = findKey(inv, key);
  if (k.kind !== 'value') return k;
  if (!k.value.values) return { kind: 'unknown' };
  const v = k.value.values.find((x) => x.name.toLowerCase() === name.toLowerCase());
  return v ? { kind: 'value', value: v } : { kind: 'absent' };
}

function findFile(inv: Inventory, csidl: string, path: string): Found<{ version?: string }> {
  const folder = inv.csidl?.[csidl];
  if (folder === undefined) return { kind: 'unknown' };
  const full = `${folder}\\${path.replace(/^\\+/, '')}`.toLowerCase();
  const f = (inv.files ?? []).find((x) => x.path.toLowerCase() === full);
  if (!f) return { kind: 'unknown' };
  return f.exists ? { kind: 'value', value: f } : { kind: 'absent' };
}

export function evalRule(node: RuleNode, inv: Inventory): RTri {
  switch (node.kind) {
    case 'const': return tri(node.value);
    case 'and': return and(...node.children.map((c) => evalRule(c, inv)));
    case 'or': return or(...node.children.map((c) => evalRule(c, inv)));
    case 'not': return neg(evalRule(node.child, inv));
    case 'unsupported': return 'U';
    case 'rule': break;
  }
  const a = node.attrs;
  const key = `${a.Key ?? 'HKEY_LOCAL_MACHINE'}\\${a.Subkey ?? ''}`;
  switch (node.type) {
    case 'WindowsVersion': {
      if (!inv.os) return 'U';
      const cmp = a.Comparison ?? 'EqualTo';
      const mine = [inv.os.major, inv.os.minor];
      const want = [Number(a.MajorVersion), Number(a.MinorVersion)];
      let c = 0;
      for (let i = 0; i < 2 && c === 0; i++) c = mine[i]! < want[i]! ? -1 : mine[i]! > want[i]! ? 1 : 0;
      if (!test(cmp, c)) return 'F';
      if (a.BuildNumber !== undefined && !test(cmp, Math.sign(inv.os.build - Number(a.BuildNumber)))) return 'F';
      if (a.ProductType !== undefined && inv.os.productType !== Number(a.ProductType)) return 'F';
      return 'T';
    }
    case 'Processor':
      return inv.processor ? tri(inv.processor.architecture === Number(a.Architecture)) : 'U';
    case 'FileExists': {
      const f = findFile(inv, a.Csidl ?? '', a.Path ?? '');
      return f.kind === 'unknown' ? 'U' : tri(f.kind === 'value');
    }
    case 'FileVersion': {
      const f = findFile(inv, a.Csidl ?? '', a.Path ?? '');
      if (f.kind === 'unknown') return 'U';
      if (f.kind === 'absent' || f.value.version === undefined) return 'F';
      return tri(test(a.Comparison!, compareVersions(f.value.version, a.Version!)));
    }
    case 'RegKeyExists': {
      const k = findKey(inv, key);
      return k.kind === 'unknown' ? 'U' : tri(k.kind === 'value');
    }
    case 'RegValueExists': {
      const v = findValue(inv, key, a.Value ?? '');
      return v.kind === 'unknown' ? 'U' : tri(v.kind === 'value');
    }
    case 'RegDword': {
      const v = findValue(inv, key, a.Value ?? '');
      if (v.kind === 'unknown') return 'U';
      if (v.kind === 'absent' || v.value.type !== 'REG_DWORD') return 'F';
      const d = v.value.data as number;
      const w = Number(a.Data);
      return tri(test(a.Comparison!, d < w ? -1 : d > w ? 1 : 0));
    }
    case 'RegSz': {
      const v = findValue(inv, key, a.Value ?? '');
      if (v.kind === 'unknown') return 'U';
      if (v.kind === 'absent' || (v.value.type !== 'REG_SZ' && v.value.type !== 'REG_EXPAND_SZ')) return 'F';
      const s = String(v.value.data).toLowerCase();
      const w = (a.Data ?? '').toLowerCase();
      const c = a.Comparison;
      return tri(c === 'EqualTo' ? s === w : c === 'BeginsWith' ? s.startsWith(w) : c === 'EndsWith' ? s.endsWith(w) : s.includes(w));
    }
    case 'MsiProductInstalled': {
      if (!inv.msi) return 'U';
      const code = (a.ProductCode ?? '').toLowerCase().replace(/[{}]/g, '');
      return tri(inv.msi.products.some((p) => p.productCode.toLowerCase().replace(/[{}]/g, '') === code));
    }
    case 'CbsPackageInstalledByIdentity': {
      if (!inv.cbs) return 'U';
      const id = (a.PackageIdentity ?? '').toLowerCase();
      return tri(inv.cbs.packages.some((p) => p.identity.toLowerCase() === id && ['installed', 'superseded'].includes(p.state.toLowerCase())));
    }
    default:
      throw new Error(`reference evaluator does not know ${node.type}`);
  }
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
    return evalRule(n, inv);
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
      const kids = r.bundledUpdates.flatMap((g) => (g.kind === 'update' ? [g.child] : g.children)).map((c) => {
        const child = byId.get(c.updateId);
        return child ? state(child) : 'Unknown';
      });
      s = kids.includes('Required') ? 'Required' : kids.includes('Unknown') ? 'Unknown' : kids.includes('Installed') ? 'Installed' : 'NotApplicable';
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
    const byRule = s === 'NotApplicable' && r.bundledUpdates.length === 0 && r.updateType === 'Software'
      && prereqs(r) !== 'F' && and(prereqs(r), slot(r, 'IsInstalled')) === 'F' && slot(r, 'IsSuperseded') === 'T';
    const superseded = bySuperseder || byRule;
    out.set(r.updateId, { state: s, superseded, possiblySuperseded: !superseded && superseders.includes('Unknown') });
  }
  return out;
}
