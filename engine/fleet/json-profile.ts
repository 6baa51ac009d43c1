/**
 * Reads a machine's profile straight from its JSON bytes (a JSON Lines fleet), without parsing the document — the
 * JSON twin of msgpack-profile.ts, with the same two results and the same argument for why they are safe:
 *
 * - the digest of everything the catalog's rules can read: the document's members as raw bytes, each one length-
 *   prefixed (so equal digests mean equal bytes), minus identity, collection time and unread file/processor
 *   details; and
 * - a strict check of what the digest leaves out, and of the JSON around it (whitespace, colons, commas, braces).
 *
 * A machine whose digest is known has its kept members byte for byte equal to those of a machine that was parsed
 * and validated; the glue between them and the left-out members are checked here as strictly as JSON.parse and
 * validate.ts would; validation is per field. So it parses and validates exactly when this check passes. Anything
 * unusual — an escape in a key or in a left-out string, a number with a sign, fraction or exponent, a duplicated
 * left-out member, a byte-order mark — is not judged here: the machine takes the slow path (parse and validate),
 * which gives the error, if any. Ill-formed UTF-8 in a left-out string takes the slow path too (which refuses it);
 * in a kept member it can only match a digest of bytes that passed that check.
 */
import { hash } from 'node:crypto';
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

const QUOTE = 0x22,
  BACKSLASH = 0x5c,
  COLON = 0x3a,
  COMMA = 0x2c;
const OPEN_OBJECT = 0x7b,
  CLOSE_OBJECT = 0x7d,
  OPEN_ARRAY = 0x5b,
  CLOSE_ARRAY = 0x5d;

/** Thrown inside a read when the bytes are not what the reader understands; read() turns it into `false`. */
const NOT_UNDERSTOOD = new Error('JSON inventory not understood by the quick reader');

/** The first byte of this reader's digest input. */
export const DIGEST_TAG_JSON = 0x01;

const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

export class JsonProfile {
  /** The digest of the last successful read(): 128 bits as four words. */
  readonly fp = new Int32Array(4);
  /** Whether everything the digest left out was checked valid (identity, collection time, unread details). */
  leftOutOk = false;
  private nameStart = -1;
  private nameEnd = -1;
  private buf = new Uint8Array(16 * 1024);
  private n = 0;
  /** End of the string read by the last plainString() call, or -1 when it held an escape. */
  private plainEnd = -1;

  /**
   * Digests `bytes` (one JSON inventory) for the catalog's relevant details. Returns false when the bytes are not
   * a JSON object this reader can walk; the caller then parses and validates the slow way.
   */
  read(bytes: Uint8Array, d: RelevantDetails): boolean {
    this.leftOutOk = false;
    // Its own first byte: see DIGEST_TAG_MSGPACK (msgpack-profile.ts) — the three kinds of digest share one table.
    this.buf[0] = DIGEST_TAG_JSON;
    this.n = 1;
    try {
      this.walk(bytes, d);
    } catch (e) {
      if (e === NOT_UNDERSTOOD) return false;
      throw e;
    }
    const digest = hash('sha256', this.buf.subarray(0, this.n), 'buffer') as unknown as Buffer;
    this.fp[0] = digest.readInt32LE(0);
    this.fp[1] = digest.readInt32LE(4);
    this.fp[2] = digest.readInt32LE(8);
    this.fp[3] = digest.readInt32LE(12);
    return true;
  }

  /** The computer name of the last read (only when leftOutOk: a plain string of well-formed UTF-8). */
  computerName(bytes: Uint8Array): string {
    return Buffer.from(bytes.buffer, bytes.byteOffset + this.nameStart, this.nameEnd - this.nameStart).toString('utf8');
  }

  private room(len: number): void {
    if (this.n + len <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.n + len));
    bigger.set(this.buf.subarray(0, this.n));
    this.buf = bigger;
  }

  /** A kept member's raw bytes, length first (so two different member lists never digest alike). */
  private chunk(b: Uint8Array, from: number, to: number): void {
    const len = to - from;
    this.room(len + 4);
    this.count(len);
    if (len > 64) this.buf.set(b.subarray(from, to), this.n);
    else for (let i = 0; i < len; i++) this.buf[this.n + i] = b[from + i]!;
    this.n += len;
  }

  /** A 32-bit number in the digest input (structure: a tag, then counts), returning where it was written. */
  private count(v: number): number {
    this.room(4);
    const at = this.n;
    this.setCount(at, v);
    this.n += 4;
    return at;
  }
  private setCount(at: number, v: number): void {
    this.buf[at] = v >>> 24;
    this.buf[at + 1] = (v >>> 16) & 255;
    this.buf[at + 2] = (v >>> 8) & 255;
    this.buf[at + 3] = v & 255;
  }

  private walk(b: Uint8Array, d: RelevantDetails): void {
    const drops = fileDetailsLeftOut(d);
    let p = ws(b, 0);
    if (b[p] !== OPEN_OBJECT) throw NOT_UNDERSTOOD;
    p = ws(b, p + 1);
    let ok = true;
    let sawComputer = false,
      sawCollectedAt = false;
    if (b[p] === CLOSE_OBJECT) throw NOT_UNDERSTOOD;
    for (;;) {
      const keyStart = p;
      const keyEnd = this.key(b, p);
      p = ws(b, keyEnd);
      if (b[p] !== COLON) throw NOT_UNDERSTOOD;
      const v = ws(b, p + 1);
      let end: number;
      if (is(b, keyStart, keyEnd, COMPUTER)) {
        if (sawComputer) throw NOT_UNDERSTOOD; // which one JSON.parse keeps is not this reader's business
        sawComputer = true;
        end = skipValue(b, v);
        if (ok) ok = this.computerOk(b, v, end);
      } else if (is(b, keyStart, keyEnd, COLLECTED_AT)) {
        if (sawCollectedAt) throw NOT_UNDERSTOOD;
        sawCollectedAt = true;
        end = skipValue(b, v);
        if (ok) ok = this.collectedAtOk(b, v, end);
      } else if (drops.length > 0 && is(b, keyStart, keyEnd, FILES)) {
        this.chunk(b, keyStart, keyEnd);
        end = this.files(b, v, drops);
        if (end < 0) {
          ok = false;
          end = -end;
        }
      } else if (!d.processorDetail && is(b, keyStart, keyEnd, PROCESSOR)) {
        this.chunk(b, keyStart, keyEnd);
        end = this.keepMembers(b, v, PROCESSOR_DETAILS);
        if (end < 0) {
          ok = false;
          end = -end;
        }
      } else {
        end = skipValue(b, v);
        this.chunk(b, keyStart, end);
      }
      p = ws(b, end);
      if (b[p] === COMMA) {
        p = ws(b, p + 1);
        continue;
      }
      if (b[p] !== CLOSE_OBJECT) throw NOT_UNDERSTOOD;
      break;
    }
    if (ws(b, p + 1) !== b.length) throw NOT_UNDERSTOOD;
    this.leftOutOk = ok && sawComputer && sawCollectedAt;
  }

  /** A member name without escapes at `p`; returns its end. */
  private key(b: Uint8Array, p: number): number {
    if (b[p] !== QUOTE) throw NOT_UNDERSTOOD;
    const end = this.plainString(b, p);
    if (this.plainEnd < 0) throw NOT_UNDERSTOOD;
    return end;
  }

  /** Skips the string at `p` (which must start with a quote); plainEnd says whether it held no escape. */
  private plainString(b: Uint8Array, p: number): number {
    let plain = true;
    for (let i = p + 1; i < b.length; i++) {
      const c = b[i]!;
      if (c === QUOTE) {
        this.plainEnd = plain ? i + 1 : -1;
        return i + 1;
      }
      if (c < 0x20) throw NOT_UNDERSTOOD;
      if (c === BACKSLASH) {
        plain = false;
        i++;
      }
    }
    throw NOT_UNDERSTOOD;
  }

  /** The `files` array: each element an object whose dropped members are checked; returns its end (negated: bad). */
  private files(b: Uint8Array, p: number, drops: readonly LeftOutDetail[]): number {
    if (b[p] !== OPEN_ARRAY) throw NOT_UNDERSTOOD;
    const at = this.count(0);
    let n = 0;
    let ok = true;
    p = ws(b, p + 1);
    if (b[p] === CLOSE_ARRAY) return p + 1;
    for (;;) {
      let e = this.keepMembers(b, p, drops);
      if (e < 0) {
        ok = false;
        e = -e;
      }
      n++;
      p = ws(b, e);
      if (b[p] === COMMA) {
        p = ws(b, p + 1);
        continue;
      }
      if (b[p] !== CLOSE_ARRAY) throw NOT_UNDERSTOOD;
      break;
    }
    this.setCount(at, n);
    return ok ? p + 1 : -(p + 1);
  }

  /** An object whose members are kept except the dropped ones, which are checked. Returns its end (negated: bad). */
  private keepMembers(b: Uint8Array, p: number, drops: readonly LeftOutDetail[]): number {
    if (b[p] !== OPEN_OBJECT) throw NOT_UNDERSTOOD;
    const at = this.count(0);
    let kept = 0;
    let ok = true;
    let seen = 0; // the dropped details met, one bit each: one given twice takes the slow path (which refuses it)
    p = ws(b, p + 1);
    if (b[p] === CLOSE_OBJECT) return p + 1;
    for (;;) {
      const keyStart = p;
      const keyEnd = this.key(b, p);
      p = ws(b, keyEnd);
      if (b[p] !== COLON) throw NOT_UNDERSTOOD;
      const v = ws(b, p + 1);
      const end = skipValue(b, v);
      let dropped: LeftOutDetail | undefined;
      for (let i = 0; i < drops.length; i++) {
        if (is(b, keyStart, keyEnd, drops[i]!.key)) {
          dropped = drops[i];
          if ((seen & (1 << i)) !== 0) ok = false;
          seen |= 1 << i;
          break;
        }
      }
      if (dropped === undefined) {
        this.chunk(b, keyStart, end);
        kept++;
      } else if (ok) ok = this.droppedOk(b, v, end, dropped);
      p = ws(b, end);
      if (b[p] === COMMA) {
        p = ws(b, p + 1);
        continue;
      }
      if (b[p] !== CLOSE_OBJECT) throw NOT_UNDERSTOOD;
      break;
    }
    this.setCount(at, kept);
    return ok ? p + 1 : -(p + 1);
  }

  private droppedOk(b: Uint8Array, p: number, end: number, x: LeftOutDetail): boolean {
    if (!x.date) return uintAt(b, p, end, x.max);
    if (b[p] !== QUOTE) return false;
    this.plainString(b, p);
    const s = p + 1;
    const len = end - 1 - s;
    if (this.plainEnd < 0 || len < 11 || len > MAX_STRING) return false;
    if (!isDatePrefixAt(b, s)) return false;
    return invalidUtf8At(b, s + 11, end - 1) < 0; // the rest of the date is not checked, but must be UTF-8
  }

  /** computer: an object of plain strings name (1–255 bytes), id and domain; nothing else. */
  private computerOk(b: Uint8Array, p: number, end: number): boolean {
    if (b[p] !== OPEN_OBJECT) return false;
    let named = false,
      hasId = false,
      hasDomain = false;
    p = ws(b, p + 1);
    if (b[p] === CLOSE_OBJECT) return false;
    for (;;) {
      const keyStart = p;
      const keyEnd = this.key(b, p);
      p = ws(b, keyEnd);
      if (b[p] !== COLON) return false;
      const v = ws(b, p + 1);
      if (b[v] !== QUOTE) return false;
      const valueEnd = this.plainString(b, v);
      if (this.plainEnd < 0) return false;
      const len = valueEnd - v - 2;
      // Ill-formed UTF-8 takes the slow path, which refuses it.
      if (invalidUtf8At(b, v + 1, valueEnd - 1) >= 0) return false;
      if (is(b, keyStart, keyEnd, NAME)) {
        // At most 255 bytes is at most 255 UTF-16 units; longer names (rare) take the slow path. So does a member
        // given twice (the slow path refuses it).
        if (len < 1 || len > 255 || named) return false;
        this.nameStart = v + 1;
        this.nameEnd = valueEnd - 1;
        named = true;
      } else if (is(b, keyStart, keyEnd, ID)) {
        if (len > MAX_STRING || hasId) return false;
        hasId = true;
      } else if (is(b, keyStart, keyEnd, DOMAIN)) {
        if (len > MAX_STRING || hasDomain) return false;
        hasDomain = true;
      } else return false;
      p = ws(b, valueEnd);
      if (b[p] === COMMA) {
        p = ws(b, p + 1);
        continue;
      }
      if (b[p] !== CLOSE_OBJECT || p + 1 !== end) return false;
      break;
    }
    return named;
  }

  /** collectedAt: a plain ASCII string matching validate.ts's date-time rule. */
  private collectedAtOk(b: Uint8Array, p: number, end: number): boolean {
    if (b[p] !== QUOTE || end - p > 66) return false;
    let s = '';
    for (let i = p + 1; i < end - 1; i++) {
      const c = b[i]!;
      if (c > 0x7f || c === BACKSLASH) return false;
      s += String.fromCharCode(c);
    }
    return isCollectedAt(s);
  }
}

function ws(b: Uint8Array, p: number): number {
  while (p < b.length && isWs(b[p]!)) p++;
  return p;
}

/** Whether the member name at b[from, to) (quotes included) is `key`. */
function is(b: Uint8Array, from: number, to: number, key: Uint8Array): boolean {
  if (to - from !== key.length + 2) return false;
  for (let i = 0; i < key.length; i++) if (b[from + 1 + i] !== key[i]) return false;
  return true;
}

/** Whether b[p, end) is plain digits (no sign, fraction or exponent; no leading zero) worth at most `max`. */
function uintAt(b: Uint8Array, p: number, end: number, max: number): boolean {
  const len = end - p;
  if (len < 1 || len > 10 || (b[p] === 0x30 && len > 1)) return false;
  let v = 0;
  for (let i = p; i < end; i++) {
    const c = b[i]!;
    if (!isDigit(c)) return false;
    v = v * 10 + (c - 0x30);
  }
  return v <= max;
}

/**
 * The end of the JSON value at `p`. Not a validator: a kept value is only ever matched against the digest of a
 * value that was parsed; a left-out one is checked on its own. Strings are skipped whole, so brackets inside them
 * do not count; nesting is counted without recursion.
 */
function skipValue(b: Uint8Array, p: number): number {
  const c = b[p];
  if (c === undefined) throw NOT_UNDERSTOOD;
  if (c === QUOTE) return skipString(b, p);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
    let depth = 0;
    for (let i = p; i < b.length; i++) {
      const x = b[i]!;
      if (x === QUOTE) i = skipString(b, i) - 1;
      else if (x === OPEN_OBJECT || x === OPEN_ARRAY) depth++;
      else if (x === CLOSE_OBJECT || x === CLOSE_ARRAY) {
        if (--depth === 0) return i + 1;
      }
    }
    throw NOT_UNDERSTOOD;
  }
  // A number or a literal: up to the next delimiter.
  let i = p;
  while (i < b.length) {
    const x = b[i]!;
    if (x === COMMA || x === CLOSE_OBJECT || x === CLOSE_ARRAY || isWs(x)) break;
    if (x === QUOTE || x === OPEN_OBJECT || x === OPEN_ARRAY || x === COLON) throw NOT_UNDERSTOOD;
    i++;
  }
  if (i === p) throw NOT_UNDERSTOOD;
  return i;
}

function skipString(b: Uint8Array, p: number): number {
  for (let i = p + 1; i < b.length; i++) {
    const c = b[i]!;
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) i++;
  }
  throw NOT_UNDERSTOOD;
}
