/**
 * Sharing work across machines: thousands of machines share an OS build, a patch level and a product set, and so
 * get the same answers. A machine's results depend only on the inventory content the catalog's rules can read, so
 * we key whole-machine results by a digest of that content — identity (name, id), collection time, and file/processor
 * details no rule of this catalog reads are left out — in a bounded table shared by all threads (profile-table.ts).
 *
 * Correctness does not depend on hits: a different key only costs a scan; equal keys mean equal rule inputs.
 */
import { hash } from 'node:crypto';
import type { Catalog } from '../catalog/catalog.js';
import { RULE_OP_BASE } from '../catalog/data.js';
import { msgpackValueEnd } from '../inventory/msgpack-frames.js';
import type { Inventory } from '../inventory/types.js';

/** Which optional inventory details any rule of the catalog can read. */
export interface RelevantDetails {
  readonly fileSize: boolean;
  readonly fileDates: boolean;
  readonly fileLanguage: boolean;
  readonly processorDetail: boolean;
}

export function relevantDetails(c: Catalog): RelevantDetails {
  const d = { fileSize: false, fileDates: false, fileLanguage: false, processorDetail: false };
  for (let n = 0; n < c.data.nodes.count; n++) {
    const op = c.data.nodes.op[n]!;
    if (op < RULE_OP_BASE) continue;
    const type = c.data.ruleTypes[op - RULE_OP_BASE] ?? '';
    const a = c.nodeAttrs(n);
    if (type.startsWith('FileSize') || (type.startsWith('FileExists') && a.Size !== undefined)) d.fileSize = true;
    if (type.startsWith('FileCreated') || type.startsWith('FileModified') || (type.startsWith('FileExists') && (a.Created !== undefined || a.Modified !== undefined))) d.fileDates = true;
    if (type.startsWith('FileExists') && a.Language !== undefined) d.fileLanguage = true;
    if ((type === 'Processor' && (a.Level !== undefined || a.Revision !== undefined)) || type === 'NumberOfProcessors') d.processorDetail = true;
  }
  return d;
}

/**
 * Digest of everything in the inventory the catalog's rules can read, as four 32-bit words (128 bits of SHA-1:
 * a collision among even a billion profiles is far less likely than a hardware fault).
 */
export function fingerprint(inv: Inventory, d: RelevantDetails): Int32Array {
  const view = {
    ...inv,
    computer: undefined,
    collectedAt: undefined,
    files: inv.files?.map((f) => ({
      path: f.path,
      exists: f.exists,
      version: f.version,
      ...(d.fileSize ? { size: f.size } : {}),
      ...(d.fileDates ? { created: f.created, modified: f.modified } : {}),
      ...(d.fileLanguage ? { language: f.language } : {}),
    })),
    processor: inv.processor && (d.processorDetail ? inv.processor : { architecture: inv.processor.architecture }),
  };
  const digest = hash('sha1', JSON.stringify(view), 'buffer') as unknown as Buffer;
  return Int32Array.of(digest.readInt32LE(0), digest.readInt32LE(4), digest.readInt32LE(8), digest.readInt32LE(12));
}

// ---- The same digest, read straight from msgpack bytes (the fleet path): no object, no JSON text.

/** Count and content start of a msgpack map or array at `p`, or undefined when it is neither. */
function container(b: Uint8Array, p: number, map: boolean): { count: number; start: number } | undefined {
  const t = b[p]!;
  if (map ? (t & 0xf0) === 0x80 : (t & 0xf0) === 0x90) return { count: t & 0x0f, start: p + 1 };
  if (t === (map ? 0xde : 0xdc)) return { count: (b[p + 1]! << 8) | b[p + 2]!, start: p + 3 };
  if (t === (map ? 0xdf : 0xdd)) return { count: ((b[p + 1]! << 24) >>> 0) + (b[p + 2]! << 16) + (b[p + 3]! << 8) + b[p + 4]!, start: p + 5 };
  return undefined;
}

const ascii = (k: string): Uint8Array => Uint8Array.from(k, (ch) => ch.charCodeAt(0));

/** Whether the msgpack value at `p` is the (short, ASCII) string `key`, compared byte by byte. */
function keyIs(b: Uint8Array, p: number, key: Uint8Array): boolean {
  const t = b[p]!;
  let start: number;
  if ((t & 0xe0) === 0xa0) {
    if ((t & 0x1f) !== key.length) return false;
    start = p + 1;
  } else if (t === 0xd9) {
    if (b[p + 1] !== key.length) return false;
    start = p + 2;
  } else return false;
  for (let i = 0; i < key.length; i++) if (b[start + i] !== key[i]) return false;
  return true;
}

const anyKey = (b: Uint8Array, p: number, keys: readonly Uint8Array[]): boolean => {
  for (const k of keys) if (keyIs(b, p, k)) return true;
  return false;
};

class Scratch {
  buf = new Uint8Array(16 * 1024);
  n = 0;
  private room(len: number): void {
    if (this.n + len <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.n + len));
    bigger.set(this.buf.subarray(0, this.n));
    this.buf = bigger;
  }
  put(src: Uint8Array, from: number, to: number): void {
    const len = to - from;
    this.room(len);
    if (len > 64) this.buf.set(src.subarray(from, to), this.n);
    else for (let i = 0; i < len; i++) this.buf[this.n + i] = src[from + i]!;
    this.n += len;
  }
  /** A structure marker: 0xc1 (never msgpack), a tag, a 32-bit count. Returns where the count is. */
  mark(tag: number, count: number): number {
    this.room(6);
    const b = this.buf, n = this.n;
    b[n] = 0xc1;
    b[n + 1] = tag;
    b[n + 2] = count >>> 24;
    b[n + 3] = (count >>> 16) & 255;
    b[n + 4] = (count >>> 8) & 255;
    b[n + 5] = count & 255;
    this.n += 6;
    return n + 2;
  }
}
const scratch = new Scratch();

/** Copies the pairs of the map at `p` except those whose key is in `drop`; returns the map's end. */
function keepPairs(b: Uint8Array, p: number, drop: readonly Uint8Array[], out: Scratch): number {
  const m = container(b, p, true);
  if (!m) throw new Error('not a map');
  let q = m.start;
  let kept = 0;
  const at = out.mark(1, 0);
  for (let k = 0; k < m.count; k++) {
    const keyEnd = msgpackValueEnd(b, q);
    const valueEnd = msgpackValueEnd(b, keyEnd);
    if (keyEnd < 0 || valueEnd < 0) throw new Error('truncated');
    if (!anyKey(b, q, drop)) {
      out.put(b, q, valueEnd);
      kept++;
    }
    q = valueEnd;
  }
  out.buf[at] = kept >>> 24; // the pair count, now known
  out.buf[at + 1] = (kept >>> 16) & 255;
  out.buf[at + 2] = (kept >>> 8) & 255;
  out.buf[at + 3] = kept & 255;
  return q;
}

const IDENTITY = ['computer', 'collectedAt'].map(ascii);
const FILES = ascii('files');
const PROCESSOR = ascii('processor');
const PROCESSOR_DETAIL = ['level', 'revision', 'count'].map(ascii);
const dropCache = new Map<string, Uint8Array[]>();

function fileDropOf(d: RelevantDetails): Uint8Array[] {
  const id = `${+d.fileSize}${+d.fileDates}${+d.fileLanguage}`;
  let drop = dropCache.get(id);
  if (!drop) {
    drop = [...(d.fileSize ? [] : ['size']), ...(d.fileDates ? [] : ['created', 'modified']), ...(d.fileLanguage ? [] : ['language'])].map(ascii);
    dropCache.set(id, drop);
  }
  return drop;
}

/**
 * {@link fingerprint} computed from the msgpack encoding of an already validated inventory: the same things are
 * left out (identity, collection time, details no rule reads). Two encodings of the same content may differ (key
 * order, integer widths): that only costs a scan, never a wrong answer.
 */
export function fingerprintMsgpack(bytes: Uint8Array, d: RelevantDetails): Int32Array {
  const fileDrop = fileDropOf(d);
  const out = scratch;
  out.n = 0;
  const top = container(bytes, 0, true);
  if (!top) throw new Error('not a map');
  let q = top.start;
  for (let k = 0; k < top.count; k++) {
    const keyEnd = msgpackValueEnd(bytes, q);
    const valueEnd = msgpackValueEnd(bytes, keyEnd);
    if (keyEnd < 0 || valueEnd < 0) throw new Error('truncated');
    if (anyKey(bytes, q, IDENTITY)) {
      // not read by any rule
    } else if (fileDrop.length > 0 && keyIs(bytes, q, FILES)) {
      out.put(bytes, q, keyEnd);
      const list = container(bytes, keyEnd, false);
      if (!list) throw new Error('files is not an array');
      out.mark(2, list.count);
      let e = list.start;
      for (let i = 0; i < list.count; i++) e = keepPairs(bytes, e, fileDrop, out);
    } else if (!d.processorDetail && keyIs(bytes, q, PROCESSOR)) {
      out.put(bytes, q, keyEnd);
      keepPairs(bytes, keyEnd, PROCESSOR_DETAIL, out);
    } else out.put(bytes, q, valueEnd);
    q = valueEnd;
  }
  const digest = hash('sha1', out.buf.subarray(0, out.n), 'buffer') as unknown as Buffer;
  return Int32Array.of(digest.readInt32LE(0), digest.readInt32LE(4), digest.readInt32LE(8), digest.readInt32LE(12));
}
