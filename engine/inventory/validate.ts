/**
 * Validation of inventories from outside (JSON or msgpack). Every error names the field by its path
 * (`files[3].version`) and says what was expected, with the stable code INVENTORY_INVALID.
 */
import { Unpackr } from 'msgpackr';
import { PatchscanError } from '../errors.js';
import { INVENTORY_SCHEMA, type Inventory } from './types.js';
import { duplicateJsonMember, duplicateMsgpackKey } from './duplicate-keys.js';
import { jsonSyntaxErrorAt } from './json-error-at.js';
import { invalidUtf8At, msgpackUtf8AndExt } from './utf8.js';
import { valueKind } from '../value-kind.js';

const VERSION = /^\d{1,5}(\.\d{1,5}){1,3}$/;
const REG_TYPES = new Set(['REG_SZ', 'REG_EXPAND_SZ', 'REG_MULTI_SZ', 'REG_DWORD', 'REG_QWORD', 'REG_BINARY', 'REG_NONE']);

export interface InventoryLimits {
  /** Most entries in any one list (files, registry keys, products…). */
  readonly maxEntries: number;
  /** Longest string accepted anywhere. */
  readonly maxString: number;
  /** Largest encoded document accepted, in bytes. */
  readonly maxBytes: number;
}

export const DEFAULT_INVENTORY_LIMITS: InventoryLimits = { maxEntries: 200_000, maxString: 32_768, maxBytes: 64 * 1024 * 1024 };

/**
 * A value as an error quotes it: a string quoted (its first 80 characters), a number as written (NaN, Infinity: JSON
 * would say null), an integer too large for a number (msgpack's 64-bit ones) by its digits, anything else by its kind.
 */
const shown = (v: unknown): string =>
  typeof v === 'string'
    ? JSON.stringify(v.slice(0, 80))
    : typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean'
      ? String(v)
      : valueKind(v);

class Checker {
  constructor(
    private readonly source: string,
    private readonly limits: InventoryLimits,
  ) {}

  fail(path: string, msg: string): never {
    throw new PatchscanError('INVENTORY_INVALID', `${this.source}: ${path}: ${msg}`, { file: this.source, field: path });
  }
  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `must be an object, got ${valueKind(v)}`);
    return v as Record<string, unknown>;
  }
  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `must be an array, got ${valueKind(v)}`);
    if (v.length > this.limits.maxEntries) this.fail(path, `has ${v.length} entries, more than the limit of ${this.limits.maxEntries}`);
    return v;
  }
  str(v: unknown, path: string, re?: RegExp, what?: string): string {
    if (typeof v !== 'string') this.fail(path, `must be a string, got ${valueKind(v)}`);
    if (v.length > this.limits.maxString) this.fail(path, `is longer than ${this.limits.maxString} characters`);
    if (re && !re.test(v)) this.fail(path, `must be ${what ?? `a string matching ${re}`}, got ${shown(v)}`);
    return v;
  }
  int(v: unknown, path: string, min = 0, max = 0xffffffff): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      this.fail(path, `must be an integer from ${min} to ${max}, got ${shown(v)}`);
    return v;
  }
  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `must be true or false, got ${valueKind(v)}`);
    return v;
  }
  opt<T>(o: Record<string, unknown>, key: string, path: string, f: (v: unknown, p: string) => T): void {
    if (o[key] !== undefined) f(o[key], `${path}.${key}`);
  }
  strArr(v: unknown, path: string): void {
    this.arr(v, path).forEach((s, i) => this.str(s, `${path}[${i}]`));
  }
  map(v: unknown, path: string, value: (v: unknown, p: string) => void): void {
    const o = this.obj(v, path);
    const keys = Object.keys(o);
    if (keys.length > this.limits.maxEntries)
      this.fail(path, `has ${keys.length} entries, more than the limit of ${this.limits.maxEntries}`);
    // Keys are matched case-insensitively (machine.ts mapValue): two that differ only in case would make the answer
    // depend on which comes first.
    const seen = new Map<string, string>();
    for (const k of keys) this.unique(seen, k.toLowerCase(), `${path}.${k}`);
    for (const k of keys) if (o[k] !== null) value(o[k], `${path}.${k}`);
  }
  /** Entries are looked up by key, so two entries for the same key would make the inventory ambiguous. */
  unique(seen: Map<string, string>, key: string, path: string): void {
    const first = seen.get(key);
    if (first !== undefined) this.fail(path, `duplicates ${first}`);
    seen.set(key, path);
  }
  unknownKeys(o: Record<string, unknown>, allowed: readonly string[], path: string): void {
    for (const k of Object.keys(o))
      if (!allowed.includes(k)) this.fail(`${path}${path ? '.' : ''}${k}`, `is not a known field (known: ${allowed.join(', ')})`);
  }
}

const TOP = [
  'schema',
  'computer',
  'collectedAt',
  'os',
  'processor',
  'csidl',
  'files',
  'registry',
  'msi',
  'cbs',
  'wmi',
  'systemMetrics',
  'licensing',
  'cluster',
  'productReleases',
  'deviceAttributes',
] as const;

/** Checks a decoded document and returns it typed; throws INVENTORY_INVALID naming the first bad field. */
export function validateInventory(doc: unknown, source = 'inventory', limits: InventoryLimits = DEFAULT_INVENTORY_LIMITS): Inventory {
  const c = new Checker(source, limits);
  const o = c.obj(doc, '(document)');
  if (o.schema === undefined) c.fail('schema', `missing: an inventory document has "schema": "${INVENTORY_SCHEMA}" (docs/inventory.md)`);
  if (o.schema !== INVENTORY_SCHEMA) c.fail('schema', `must be "${INVENTORY_SCHEMA}", got ${shown(o.schema)}`);
  c.unknownKeys(o, TOP, '');
  const comp = c.obj(o.computer, 'computer');
  c.str(comp.name, 'computer.name', /^.{1,255}$/s, 'a name of 1 to 255 characters');
  c.opt(comp, 'id', 'computer', (v, p) => c.str(v, p));
  c.opt(comp, 'domain', 'computer', (v, p) => c.str(v, p));
  const at = c.str(o.collectedAt, 'collectedAt', COLLECTED_AT, 'an ISO 8601 date-time');
  // The pattern lets "2026-99-99T99:99Z" through: a date of no calendar would sort anywhere in "stale" and trend reports.
  if (!isCalendarDateTime(at)) c.fail('collectedAt', `must be a real date and time, got ${shown(at)}`);
  if (o.os !== undefined) {
    const os = c.obj(o.os, 'os');
    c.unknownKeys(
      os,
      [
        'major',
        'minor',
        'build',
        'ubr',
        'spMajor',
        'spMinor',
        'productType',
        'suiteMask',
        'installLanguage',
        'uiLanguages',
        'muiInstalled',
      ],
      'os',
    );
    for (const k of ['major', 'minor', 'build', 'productType']) c.int(os[k], `os.${k}`);
    for (const k of ['ubr', 'spMajor', 'spMinor', 'suiteMask']) c.opt(os, k, 'os', (v, p) => c.int(v, p));
    c.opt(os, 'installLanguage', 'os', (v, p) => c.str(v, p, /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a language tag such as en-US'));
    c.opt(os, 'uiLanguages', 'os', (v, p) => c.strArr(v, p));
    c.opt(os, 'muiInstalled', 'os', (v, p) => c.bool(v, p));
  }
  if (o.processor !== undefined) {
    const pr = c.obj(o.processor, 'processor');
    c.int(pr.architecture, 'processor.architecture', 0, 0xffff);
    for (const k of ['level', 'revision', 'count']) c.opt(pr, k, 'processor', (v, p) => c.int(v, p, 0, 0xffff));
  }
  if (o.csidl !== undefined) c.map(o.csidl, 'csidl', (v, p) => c.str(v, p));
  if (o.files !== undefined) {
    const seen = new Map<string, number>();
    const files = c.arr(o.files, 'files');
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      // The common case is checked without building a path or a message; a bad entry is checked again slowly.
      if (!fileEntryOk(f, limits.maxString)) checkFileEntry(c, f, `files[${i}]`);
      const path = (f as { path: string }).path;
      const key = /\/|\\\\/.test(path) ? path.toLowerCase().replace(/[\\/]+/g, '\\') : path.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined) c.fail(`files[${i}].path`, `duplicates files[${first}].path`);
      seen.set(key, i);
    }
  }
  if (o.registry !== undefined) {
    const seen = new Map<string, number>();
    const keys = c.arr(o.registry, 'registry');
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (!registryEntryOk(k, limits)) checkRegistryEntry(c, k, `registry[${i}]`);
      const ko = k as { key: string; view?: string };
      const id = `${ko.view ?? 'native'}|${ko.key.toLowerCase().replace(/\\+$/, '')}`;
      const first = seen.get(id);
      if (first !== undefined) c.fail(`registry[${i}].key`, `duplicates registry[${first}].key`);
      seen.set(id, i);
    }
  }
  if (o.msi !== undefined) {
    const m = c.obj(o.msi, 'msi');
    const seen = new Map<string, string>();
    c.arr(m.products, 'msi.products').forEach((pr, i) => {
      const p = `msi.products[${i}]`;
      const po = c.obj(pr, p);
      const code = c.str(po.productCode, `${p}.productCode`, /^\{?[0-9a-fA-F-]{36}\}?$/, 'a product code GUID');
      c.unique(seen, code.replace(/[{}]/g, '').toLowerCase(), `${p}.productCode`);
      c.opt(po, 'version', p, (v, q) => c.str(v, q, VERSION, 'a version'));
      c.opt(po, 'language', p, (v, q) => c.int(v, q, 0, 0xffff));
      for (const k of ['features', 'components', 'patches']) c.opt(po, k, p, (v, q) => c.strArr(v, q));
    });
  }
  if (o.cbs !== undefined) {
    const cb = c.obj(o.cbs, 'cbs');
    const seen = new Map<string, string>();
    c.arr(cb.packages, 'cbs.packages').forEach((pk, i) => {
      const po = c.obj(pk, `cbs.packages[${i}]`);
      const id = c.str(po.identity, `cbs.packages[${i}].identity`, /~/, 'a CBS identity (name~token~arch~lang~version)');
      c.unique(seen, id.toLowerCase(), `cbs.packages[${i}].identity`);
      c.str(po.state, `cbs.packages[${i}].state`);
    });
    c.opt(cb, 'applicable', 'cbs', (v, p) => c.map(v, p, (b, q) => c.bool(b, q)));
  }
  if (o.wmi !== undefined) {
    // A query is looked up by its namespace (case-insensitive, as WMI's) and its text: one count per pair.
    const seen = new Map<string, string>();
    c.arr(o.wmi, 'wmi').forEach((w, i) => {
      const wo = c.obj(w, `wmi[${i}]`);
      const ns = c.str(wo.namespace, `wmi[${i}].namespace`);
      const query = c.str(wo.query, `wmi[${i}].query`);
      c.unique(seen, JSON.stringify([ns.toLowerCase(), query]), `wmi[${i}]`);
      c.int(wo.count, `wmi[${i}].count`);
    });
  }
  if (o.systemMetrics !== undefined) c.map(o.systemMetrics, 'systemMetrics', (v, p) => c.int(v, p, -0x80000000, 0x7fffffff));
  if (o.licensing !== undefined) c.map(o.licensing, 'licensing', (v, p) => c.int(v, p));
  if (o.cluster !== undefined) c.bool(c.obj(o.cluster, 'cluster').clustered, 'cluster.clustered');
  if (o.productReleases !== undefined) {
    c.arr(o.productReleases, 'productReleases').forEach((r, i) => {
      const ro = c.obj(r, `productReleases[${i}]`);
      c.str(ro.name, `productReleases[${i}].name`);
      c.str(ro.version, `productReleases[${i}].version`, VERSION, 'a version');
    });
  }
  if (o.deviceAttributes !== undefined) c.map(o.deviceAttributes, 'deviceAttributes', (v, p) => c.str(v, p));
  return o as unknown as Inventory;
}

const FILE_KEYS = ['path', 'exists', 'version', 'size', 'created', 'modified', 'language'];
const REGISTRY_KEYS = ['key', 'view', 'exists', 'values', 'subkeys'];
const DATE_PREFIX = /^\d{4}-\d\d-\d\dT/;
const COLLECTED_AT = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?(?:Z|([+-])(\d\d):(\d\d))$/;

/** Two ASCII digits at `i` as a number (the caller's pattern has checked they are digits). */
const two = (s: string, i: number): number => (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether a string COLLECTED_AT matches names a real instant: a month of 1–12, a day its month has, 00:00–23:59:59,
 * a zone within ±23:59. Read digit by digit, without an allocation: the quick readers of known profiles run it on
 * every machine of a fleet.
 */
export function isCalendarDateTime(s: string): boolean {
  if (!COLLECTED_AT.test(s)) return false;
  const y = two(s, 0) * 100 + two(s, 2);
  const mo = two(s, 5);
  const d = two(s, 8);
  if (mo < 1 || mo > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > (mo === 2 && leap ? 29 : DAYS_IN_MONTH[mo - 1]!)) return false;
  if (two(s, 11) > 23 || two(s, 14) > 59) return false;
  if (s.charCodeAt(16) === 58 /* : */ && two(s, 17) > 59) return false;
  const z = s.length - 6; // ±hh:mm, when the zone is not Z
  return s.charCodeAt(s.length - 1) === 90 /* Z */ || (two(s, z + 1) <= 23 && two(s, z + 4) <= 59);
}
const HKLM = /^HKEY_LOCAL_MACHINE(\\|$)/i;
const HEX = /^([0-9a-fA-F]{2})*$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isStr = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const onlyKeys = (o: Record<string, unknown>, allowed: readonly string[]): boolean => {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) return false;
  return true;
};

/** True only when checkFileEntry would accept the entry (it must never accept less). */
function fileEntryOk(f: unknown, maxString: number): boolean {
  if (!isObject(f) || !onlyKeys(f, FILE_KEYS)) return false;
  const { path, exists, version, size, created, modified, language } = f;
  return (
    isStr(path, Math.min(maxString, 32767)) &&
    path.length > 0 &&
    typeof exists === 'boolean' &&
    (version === undefined || (isStr(version, maxString) && VERSION.test(version))) &&
    (size === undefined || isInt(size, 0, Number.MAX_SAFE_INTEGER)) &&
    (created === undefined || (isStr(created, maxString) && DATE_PREFIX.test(created))) &&
    (modified === undefined || (isStr(modified, maxString) && DATE_PREFIX.test(modified))) &&
    (language === undefined || isInt(language, 0, 0xffff))
  );
}

function checkFileEntry(c: Checker, f: unknown, p: string): void {
  const fo = c.obj(f, p);
  c.unknownKeys(fo, FILE_KEYS, p);
  c.str(fo.path, `${p}.path`, /^.{1,32767}$/s, 'a path');
  c.bool(fo.exists, `${p}.exists`);
  c.opt(fo, 'version', p, (v, q) => c.str(v, q, VERSION, 'a version such as 10.0.19041.3803'));
  c.opt(fo, 'size', p, (v, q) => c.int(v, q, 0, Number.MAX_SAFE_INTEGER));
  c.opt(fo, 'created', p, (v, q) => c.str(v, q, DATE_PREFIX, 'an ISO 8601 date-time'));
  c.opt(fo, 'modified', p, (v, q) => c.str(v, q, DATE_PREFIX, 'an ISO 8601 date-time'));
  c.opt(fo, 'language', p, (v, q) => c.int(v, q, 0, 0xffff));
}

function registryValueOk(v: unknown, limits: InventoryLimits): boolean {
  if (!isObject(v) || !isStr(v.name, limits.maxString) || !isStr(v.type, limits.maxString) || !REG_TYPES.has(v.type)) return false;
  const d = v.data;
  switch (v.type) {
    case 'REG_DWORD':
      return isInt(d, 0, 0xffffffff);
    case 'REG_QWORD':
      return isInt(d, 0, Number.MAX_SAFE_INTEGER);
    case 'REG_MULTI_SZ':
      return Array.isArray(d) && d.length <= limits.maxEntries && d.every((x) => isStr(x, limits.maxString));
    case 'REG_BINARY':
      return isStr(d, limits.maxString) && HEX.test(d);
    case 'REG_NONE':
      return true;
    default:
      return isStr(d, limits.maxString);
  }
}

/** Whether no two values share a name, case aside (a key holds a handful: pairs are compared without a set). */
function namesDistinct(values: readonly { name: string }[]): boolean {
  if (values.length < 2) return true;
  if (values.length > 16) return new Set(values.map((v) => v.name.toLowerCase())).size === values.length;
  for (let i = 1; i < values.length; i++)
    for (let j = 0; j < i; j++) if (values[i]!.name.toLowerCase() === values[j]!.name.toLowerCase()) return false;
  return true;
}

/** True only when checkRegistryEntry would accept the entry. */
function registryEntryOk(k: unknown, limits: InventoryLimits): boolean {
  if (!isObject(k) || !onlyKeys(k, REGISTRY_KEYS)) return false;
  const { key, view, exists, values, subkeys } = k;
  return (
    isStr(key, limits.maxString) &&
    HKLM.test(key) &&
    typeof exists === 'boolean' &&
    (view === undefined || view === 'native' || view === '32') &&
    (subkeys === undefined ||
      (Array.isArray(subkeys) && subkeys.length <= limits.maxEntries && subkeys.every((x) => isStr(x, limits.maxString)))) &&
    (values === undefined ||
      (Array.isArray(values) &&
        values.length <= limits.maxEntries &&
        values.every((v) => registryValueOk(v, limits)) &&
        namesDistinct(values as { name: string }[])))
  );
}

function checkRegistryEntry(c: Checker, k: unknown, p: string): void {
  const ko = c.obj(k, p);
  c.unknownKeys(ko, REGISTRY_KEYS, p);
  c.str(ko.key, `${p}.key`, HKLM, 'a key under HKEY_LOCAL_MACHINE');
  c.opt(ko, 'view', p, (v, q) => c.str(v, q, /^(native|32)$/, '"native" or "32"'));
  c.bool(ko.exists, `${p}.exists`);
  c.opt(ko, 'subkeys', p, (v, q) => c.strArr(v, q));
  // Value names are case-insensitive, as Windows has them: a name given twice would make a rule's answer depend on
  // which of the two comes first.
  const names = new Map<string, string>();
  c.opt(ko, 'values', p, (v, q) =>
    c.arr(v, q).forEach((val, j) => {
      const vp = `${q}[${j}]`;
      const vo = c.obj(val, vp);
      c.unique(names, c.str(vo.name, `${vp}.name`).toLowerCase(), `${vp}.name`);
      const t = c.str(vo.type, `${vp}.type`);
      if (!REG_TYPES.has(t)) c.fail(`${vp}.type`, `must be one of ${[...REG_TYPES].join(', ')}, got ${shown(t)}`);
      if (t === 'REG_DWORD') c.int(vo.data, `${vp}.data`, 0, 0xffffffff);
      else if (t === 'REG_QWORD') c.int(vo.data, `${vp}.data`, 0, Number.MAX_SAFE_INTEGER);
      else if (t === 'REG_MULTI_SZ') c.strArr(vo.data, `${vp}.data`);
      else if (t === 'REG_BINARY') c.str(vo.data, `${vp}.data`, HEX, 'hex bytes');
      else if (t !== 'REG_NONE') c.str(vo.data, `${vp}.data`);
    }),
  );
}

// 64-bit integers (0xcf, 0xd3: what an encoder may write for any C# long, however small) as numbers in [-2^53, 2^53],
// where a number holds them exactly, else as a BigInt, which every integer check then refuses by its digits — never
// rounded to a near number. ('auto' is in msgpackr's README, not in its type declarations.)
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'auto' as 'bigint' });

function refuseBadUtf8(at: number, source: string, what: string, rule: string): void {
  if (at >= 0) throw new PatchscanError('INVENTORY_INVALID', `${source}: ${what} at byte ${at} (${rule})`, { file: source, offset: at });
}

/** Whether `b` opens a msgpack map (fixmap 0x80–0x8f, map16 0xde, map32 0xdf): what a msgpack inventory is. */
export const isMsgpackMap = (b: Uint8Array): boolean => b.length > 0 && ((b[0]! & 0xf0) === 0x80 || b[0] === 0xde || b[0] === 0xdf);

/**
 * The format of bytes that did not say theirs: msgpack when they open a msgpack map; JSON when they open with `{`,
 * JSON whitespace or a UTF-8 byte-order mark; else undefined — neither an inventory in JSON nor one in msgpack, and
 * reported as such rather than as a failure of whichever decoder a guess would have picked.
 */
export function sniffFormat(b: Uint8Array): 'json' | 'msgpack' | undefined {
  if (isMsgpackMap(b)) return 'msgpack';
  const c = b[0];
  return c === 0x7b || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0xef ? 'json' : undefined;
}

function neitherFormat(b: Uint8Array, source: string): PatchscanError {
  const utf16 = (b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff);
  return new PatchscanError(
    'INVENTORY_INVALID',
    b.length === 0
      ? `${source}: has no bytes`
      : utf16
        ? `${source}: is UTF-16 text (it starts with a UTF-16 byte-order mark); an inventory in JSON must be UTF-8`
        : `${source}: is neither a JSON object nor a msgpack map (it starts with byte 0x${(b[0] ?? 0).toString(16).padStart(2, '0')}` +
          // The character too where it is one a person would see in an editor: a line of text that is not JSON.
          `${b[0]! > 0x20 && b[0]! < 0x7f ? `, ${JSON.stringify(String.fromCharCode(b[0]!))}` : ''})`,
    { file: source },
  );
}

/**
 * JSON.parse's message with the line and column a person looks for in an editor: V8 gives a character offset for some
 * errors ("in JSON at position 11"), none for others — then jsonSyntaxErrorAt finds it. The input V8 quotes in some
 * messages (it can span lines) is left out: the line and column say where.
 */
export function jsonErrorWhere(message: string, text: string): string {
  const m = / at position (\d+)/.exec(message);
  const at = m ? Math.min(Number(m[1]), text.length) : jsonSyntaxErrorAt(text);
  const said = message.replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '').replace(/\s*\n\s*/g, ' ');
  return at < 0 ? said : `${said} ${lineColumn(text, at)}`;
}

/** "(line L, column C)" of offset `at` in `text`: lines end at LF, CRLF or a lone CR (as editors count them); columns count characters, not UTF-16 units. */
function lineColumn(text: string, at: number): string {
  let line = 1,
    lineStart = 0;
  for (let i = 0; i < at; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  let column = 1;
  for (const _ of text.slice(lineStart, at)) column++;
  return `(line ${line}, column ${column})`;
}

/** Decodes and validates bytes: JSON (text) or msgpack (binary), detected from the first byte unless given. */
export function decodeInventory(
  bytes: Uint8Array,
  source = 'inventory',
  format?: 'json' | 'msgpack',
  limits: InventoryLimits = DEFAULT_INVENTORY_LIMITS,
): Inventory {
  // From JavaScript a string gets this far, and its characters would be counted and reported as bytes.
  if (!(bytes instanceof Uint8Array) && Object.prototype.toString.call(bytes) !== '[object Uint8Array]') {
    const v = bytes as unknown;
    const hint =
      typeof v === 'string'
        ? ': pass Buffer.from(text), or the parsed object to validateInventory'
        : v instanceof ArrayBuffer
          ? ': pass new Uint8Array(buffer)'
          : '';
    throw new PatchscanError(
      'BAD_ARGUMENT',
      `decodeInventory takes the document's bytes (a Uint8Array or Buffer), got ${valueKind(v)}${hint}`,
    );
  }
  if (bytes.length > limits.maxBytes) {
    throw new PatchscanError('INVENTORY_INVALID', `${source}: more than the ${limits.maxBytes} bytes allowed for one inventory`, {
      file: source,
    });
  }
  const fmt = format ?? sniffFormat(bytes);
  if (fmt === undefined) throw neitherFormat(bytes, source);
  // Ill-formed UTF-8 is refused, naming where, before a decoder turns it into U+FFFD (or other characters).
  if (fmt === 'json') refuseBadUtf8(invalidUtf8At(bytes), source, 'not valid UTF-8', 'an inventory in JSON must be UTF-8');
  const scan = fmt === 'msgpack' ? msgpackUtf8AndExt(bytes) : undefined;
  if (scan !== undefined && scan.ext >= 0) {
    const at = scan.ext,
      h = bytes[at]!;
    const type = bytes[at + (h >= 0xd4 && h <= 0xd8 ? 1 : h === 0xc7 ? 2 : h === 0xc8 ? 3 : 5)];
    throw new PatchscanError(
      'INVENTORY_INVALID',
      `${source}: a msgpack extension value (type ${type === undefined ? '?' : (type << 24) >> 24}) at byte ${at}: an ` +
        'inventory is plain msgpack — maps, arrays, strings, numbers, booleans and nil',
      { file: source },
    );
  }
  // Not one whole msgpack value (the walk stopped at a byte msgpack never uses, ran out, or left bytes after it): msgpackr
  // decodes 0xc1 as an object rather than refuse it, and the checks above and after would not see past that byte.
  if (scan !== undefined && scan.badUtf8 < 0 && scan.end !== bytes.length) {
    const why =
      scan.end === -2
        ? 'a byte msgpack does not use (0xc1), or a header out of place'
        : scan.end === -1
          ? 'it ends in the middle of a value'
          : `${bytes.length - scan.end} byte(s) after the document`;
    throw new PatchscanError('INVENTORY_INVALID', `${source}: not valid msgpack: ${why}`, { file: source });
  }
  let doc: unknown;
  let text = '';
  try {
    if (fmt === 'json') {
      text = Buffer.from(bytes)
        .toString('utf8')
        .replace(/^\uFEFF/, '');
      doc = JSON.parse(text);
    } else doc = unpackr.unpack(bytes);
  } catch (e) {
    const why = fmt === 'json' ? jsonErrorWhere((e as Error).message, text) : (e as Error).message;
    throw new PatchscanError('INVENTORY_INVALID', `${source}: not valid ${fmt === 'json' ? 'JSON' : 'msgpack'}: ${why}`, {
      file: source,
    });
  }
  if (scan !== undefined) {
    refuseBadUtf8(scan.badUtf8, source, 'a string is not valid UTF-8', 'strings in a msgpack inventory must be UTF-8');
  }
  const inventory = validateInventory(doc, source, limits);
  // After validation: a document over the limits is refused for that first, before a walk over all of it.
  const dup = fmt === 'json' ? duplicateJsonMember(text) : duplicateMsgpackKey(bytes);
  if (dup !== undefined) {
    const where = fmt === 'json' ? lineColumn(text, dup.at) : `(byte ${dup.at})`;
    throw new PatchscanError(
      'INVENTORY_INVALID',
      `${source}: ${JSON.stringify(dup.name)} is given twice in one object ${where}: a reader would keep one of the two; give it once`,
      { file: source },
    );
  }
  return inventory;
}
