/**
 * Reads a machine's profile straight from its msgpack bytes (the fleet path), without decoding the document:
 *
 * - the digest of everything the catalog's rules can read (as {@link fingerprint} does from a decoded inventory:
 *   identity, collection time and unread file/processor details are left out), and
 * - a quick check that what the digest leaves out is valid.
 *
 * Why both: a machine whose profile is already known needs no decode at all. Its digested bytes are identical to
 * those of a machine that passed full validation, and validation is per field (no rule of validate.ts relates a
 * left-out field to a digested one), so the machine is valid exactly when its left-out fields are. The quick check
 * accepts only plainly valid encodings of them; anything unusual (an unknown key under `computer`, a 64-bit size,
 * a nil) sends the machine down the slow path — decode and validate — which gives the error, if any. It must never
 * accept what validate.ts refuses: a property test holds it to that.
 *
 * Allocation-free on the hot path: positions live in fields, the digest input in one reused scratch buffer.
 */
import { hash } from 'node:crypto';
import { Unpackr } from 'msgpackr';
import { msgpackValueEnd } from '../inventory/msgpack-frames.js';
import { invalidUtf8At } from '../inventory/utf8.js';
import type { RelevantDetails } from '../catalog/relevant-details.js';
import { isDatePrefixAt } from './date-prefix.js';
import {
  COLLECTED_AT,
  COMPUTER,
  DOMAIN,
  FILES,
  fileDetailsLeftOut,
  ID,
  isCollectedAt,
  MAX_STRING,
  NAME,
  PROCESSOR,
  PROCESSOR_DETAILS,
  type LeftOutDetail,
} from './left-out.js';

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
  } else if (t === 0xda) {
    // str16 and str32 too: a left-out key in a longer format than needed is still that key. Not recognised, it would be
    // digested as a kept pair, and a second copy in a short format would go unnoticed (the slow path refuses the pair).
    if (((b[p + 1]! << 8) | b[p + 2]!) !== key.length) return false;
    start = p + 3;
  } else if (t === 0xdb) {
    if (b[p + 1] !== 0 || b[p + 2] !== 0 || ((b[p + 3]! << 8) | b[p + 4]!) !== key.length) return false;
    start = p + 5;
  } else return false;
  for (let i = 0; i < key.length; i++) if (b[start + i] !== key[i]) return false;
  return true;
}

/** Whether the value at `p` is an unsigned integer no larger than `max` in one of msgpack's ≤ 32-bit encodings. */
function uintAt(b: Uint8Array, p: number, max: number): boolean {
  const t = b[p]!;
  if (t <= 0x7f) return true;
  if (t === 0xcc) return b[p + 1]! <= max;
  if (t === 0xcd) return ((b[p + 1]! << 8) | b[p + 2]!) <= max;
  if (t === 0xce) return b[p + 1]! * 0x1000000 + ((b[p + 2]! << 16) | (b[p + 3]! << 8) | b[p + 4]!) <= max;
  return false;
}

/** A structure marker in the digest input: 0xc1 (never msgpack), a tag, a 32-bit count. */
const enum Tag {
  Map = 1,
  Array = 2,
}

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
  /** Writes a marker; returns where its count is, to be filled in later. */
  mark(tag: Tag, count: number): number {
    this.room(6);
    const at = this.n + 2;
    this.buf[this.n] = 0xc1;
    this.buf[this.n + 1] = tag;
    this.n += 6;
    this.setCount(at, count);
    return at;
  }
  setCount(at: number, count: number): void {
    this.buf[at] = count >>> 24;
    this.buf[at + 1] = (count >>> 16) & 255;
    this.buf[at + 2] = (count >>> 8) & 255;
    this.buf[at + 3] = count & 255;
  }
}

/** Thrown inside a read when the bytes are not what the reader understands; read() turns it into `false`. */
const NOT_UNDERSTOOD = new Error('msgpack inventory not understood by the quick reader');

/** The first byte of this reader's digest input (the JSON reader's is DIGEST_TAG_JSON, fingerprint.ts's text "{"). */
export const DIGEST_TAG_MSGPACK = 0x00;

const nameReader = new Unpackr({ useRecords: false, mapsAsObjects: true });

export class MsgpackProfile {
  /** The digest of the last successful read(): 128 bits as four words. */
  readonly fp = new Int32Array(4);
  /** Whether everything the digest left out was checked valid (identity, collection time, unread details). */
  leftOutOk = false;
  private nameStart = -1;
  private nameEnd = -1;
  private readonly out = new Scratch();
  // Header of the last container() call.
  private count = 0;
  private start = 0;

  /**
   * Digests `bytes` (one msgpack inventory) for the catalog's relevant details. Returns false when the bytes are
   * not a msgpack map this reader can walk; the caller then decodes and validates the slow way.
   */
  read(bytes: Uint8Array, d: RelevantDetails): boolean {
    this.leftOutOk = false;
    try {
      this.walk(bytes, d);
    } catch (e) {
      if (e === NOT_UNDERSTOOD) return false;
      throw e;
    }
    const digest = hash('sha256', this.out.buf.subarray(0, this.out.n), 'buffer') as unknown as Buffer;
    this.fp[0] = digest.readInt32LE(0);
    this.fp[1] = digest.readInt32LE(4);
    this.fp[2] = digest.readInt32LE(8);
    this.fp[3] = digest.readInt32LE(12);
    return true;
  }

  /** The computer name of the last read, decoded as the full decoder would (only when leftOutOk). */
  computerName(bytes: Uint8Array): string {
    return nameReader.unpack(bytes.subarray(this.nameStart, this.nameEnd)) as string;
  }

  private end(b: Uint8Array, p: number): number {
    const e = msgpackValueEnd(b, p);
    if (e < 0 || e > b.length) throw NOT_UNDERSTOOD;
    return e;
  }

  /** Reads a map or array header at `p` into count/start; false when it is neither. */
  private container(b: Uint8Array, p: number, map: boolean): boolean {
    const t = b[p]!;
    if (map ? (t & 0xf0) === 0x80 : (t & 0xf0) === 0x90) {
      this.count = t & 0x0f;
      this.start = p + 1;
    } else if (t === (map ? 0xde : 0xdc)) {
      this.count = (b[p + 1]! << 8) | b[p + 2]!;
      this.start = p + 3;
    } else if (t === (map ? 0xdf : 0xdd)) {
      this.count = b[p + 1]! * 0x1000000 + ((b[p + 2]! << 16) | (b[p + 3]! << 8) | b[p + 4]!);
      this.start = p + 5;
    } else return false;
    return true;
  }

  private walk(b: Uint8Array, d: RelevantDetails): void {
    const out = this.out;
    // The digest input opens with this reader's own tag: the pool keeps the three kinds of digest (this one, the JSON
    // reader's, fingerprint.ts's over parsed documents) in one table, and a crafted input of one kind must never equal
    // another kind's (every ASCII byte is also a msgpack integer; fingerprint.ts's text always opens with "{").
    out.buf[0] = DIGEST_TAG_MSGPACK;
    out.n = 1;
    const drops = fileDetailsLeftOut(d);
    if (!this.container(b, 0, true)) throw NOT_UNDERSTOOD;
    const pairs = this.count;
    let q = this.start;
    let ok = true;
    let sawComputer = false,
      sawCollectedAt = false;
    for (let k = 0; k < pairs; k++) {
      const keyEnd = this.end(b, q);
      let valueEnd: number;
      if (keyIs(b, q, COMPUTER)) {
        // Given twice: which one a decoder keeps is not this reader's business (the slow path refuses it).
        if (sawComputer) throw NOT_UNDERSTOOD;
        valueEnd = this.end(b, keyEnd);
        sawComputer = true;
        if (ok) ok = this.computerOk(b, keyEnd);
      } else if (keyIs(b, q, COLLECTED_AT)) {
        if (sawCollectedAt) throw NOT_UNDERSTOOD;
        valueEnd = this.end(b, keyEnd);
        sawCollectedAt = true;
        if (ok) ok = collectedAtOk(b, keyEnd, valueEnd);
      } else if (drops.length > 0 && keyIs(b, q, FILES)) {
        out.put(b, q, keyEnd);
        if (!this.container(b, keyEnd, false)) throw NOT_UNDERSTOOD;
        const n = this.count;
        out.mark(Tag.Array, n);
        let e = this.start;
        for (let i = 0; i < n; i++) {
          e = this.keepPairs(b, e, drops);
          if (e < 0) {
            ok = false;
            e = -e;
          }
        }
        valueEnd = e;
      } else if (!d.processorDetail && keyIs(b, q, PROCESSOR)) {
        out.put(b, q, keyEnd);
        valueEnd = this.keepPairs(b, keyEnd, PROCESSOR_DETAILS);
        if (valueEnd < 0) {
          ok = false;
          valueEnd = -valueEnd;
        }
      } else {
        valueEnd = this.end(b, keyEnd);
        out.put(b, q, valueEnd);
      }
      q = valueEnd;
    }
    if (q !== b.length) throw NOT_UNDERSTOOD;
    this.leftOutOk = ok && sawComputer && sawCollectedAt;
  }

  /**
   * Copies the pairs of the map at `p` except the dropped ones, checking those. Returns the map's end, negated when
   * a dropped value failed the quick check.
   */
  private keepPairs(b: Uint8Array, p: number, drops: readonly LeftOutDetail[]): number {
    const out = this.out;
    if (!this.container(b, p, true)) throw NOT_UNDERSTOOD;
    const n = this.count;
    let q = this.start;
    let kept = 0;
    let ok = true;
    let seen = 0; // the dropped details met, one bit each: one given twice takes the slow path (which refuses it)
    const at = out.mark(Tag.Map, 0);
    for (let k = 0; k < n; k++) {
      const keyEnd = this.end(b, q);
      const valueEnd = this.end(b, keyEnd);
      let dropped: LeftOutDetail | undefined;
      for (let i = 0; i < drops.length; i++) {
        if (keyIs(b, q, drops[i]!.key)) {
          dropped = drops[i];
          if ((seen & (1 << i)) !== 0) ok = false;
          seen |= 1 << i;
          break;
        }
      }
      if (dropped === undefined) {
        out.put(b, q, valueEnd);
        kept++;
      } else if (ok) ok = droppedOk(b, keyEnd, valueEnd, dropped);
      q = valueEnd;
    }
    out.setCount(at, kept);
    return ok ? q : -q;
  }

  /** computer: a map of string keys name (1–255 characters), id and domain (strings); nothing else. */
  private computerOk(b: Uint8Array, p: number): boolean {
    if (!this.container(b, p, true)) return false;
    const n = this.count;
    let q = this.start;
    let named = false,
      hasId = false,
      hasDomain = false;
    for (let k = 0; k < n; k++) {
      const keyEnd = this.end(b, q);
      const valueEnd = this.end(b, keyEnd);
      const len = strLength(b, keyEnd);
      // Ill-formed UTF-8 takes the slow path, which refuses it (decoding would have made it U+FFFD).
      if (len >= 0 && invalidUtf8At(b, valueEnd - len, valueEnd) >= 0) return false;
      if (keyIs(b, q, NAME)) {
        // At most 255 bytes is at most 255 UTF-16 units; longer names (rare) take the slow path. So does a member
        // given twice (the slow path refuses it).
        if (len < 1 || len > 255 || named) return false;
        this.nameStart = keyEnd;
        this.nameEnd = valueEnd;
        named = true;
      } else if (keyIs(b, q, ID)) {
        if (len < 0 || len > MAX_STRING || hasId) return false;
        hasId = true;
      } else if (keyIs(b, q, DOMAIN)) {
        if (len < 0 || len > MAX_STRING || hasDomain) return false;
        hasDomain = true;
      } else return false;
      q = valueEnd;
    }
    return named;
  }
}

/** Payload length of the string at `p`, or -1 when it is not a string. */
function strLength(b: Uint8Array, p: number): number {
  const t = b[p]!;
  if ((t & 0xe0) === 0xa0) return t & 0x1f;
  if (t === 0xd9) return b[p + 1]!;
  if (t === 0xda) return (b[p + 1]! << 8) | b[p + 2]!;
  if (t === 0xdb) return b[p + 1]! * 0x1000000 + ((b[p + 2]! << 16) | (b[p + 3]! << 8) | b[p + 4]!);
  return -1;
}

function droppedOk(b: Uint8Array, p: number, end: number, x: LeftOutDetail): boolean {
  if (!x.date) return uintAt(b, p, x.max);
  const len = strLength(b, p);
  if (len < 11 || len > MAX_STRING) return false;
  const s = end - len; // the payload
  if (invalidUtf8At(b, s + 11, end) >= 0) return false; // the rest of the date is not checked, but must be UTF-8
  return isDatePrefixAt(b, s);
}

/** collectedAt: an ASCII string matching validate.ts's date-time rule (short: longer ones take the slow path). */
function collectedAtOk(b: Uint8Array, p: number, end: number): boolean {
  const len = strLength(b, p);
  if (len < 0 || len > 64) return false;
  let s = '';
  for (let i = end - len; i < end; i++) {
    const c = b[i]!;
    if (c > 0x7f) return false;
    s += String.fromCharCode(c);
  }
  return isCollectedAt(s);
}

const shared = new MsgpackProfile();

/**
 * The digest of a msgpack inventory (see {@link MsgpackProfile}); throws when the bytes are not a msgpack map.
 * Two encodings of the same content may differ (key order, integer widths): that only costs a scan.
 */
export function fingerprintMsgpack(bytes: Uint8Array, d: RelevantDetails): Int32Array {
  if (!shared.read(bytes, d)) throw new Error('not a msgpack inventory');
  return Int32Array.from(shared.fp);
}
