/**
 * Reads the Authenticode signature of a cabinet — parsed, not cryptographically verified (WUA verifies it on
 * clients; we record who signed the catalog and when). A signed cabinet has a 20-byte header reserve holding the
 * offset and size of a PKCS#7 SignedData blob appended after the cabinet data (as osslsigncode and signtool
 * write it). We walk the DER: the certificates (read with node:crypto's X509Certificate), the signer (matched by
 * issuer serial number) and the first signingTime attribute (the signer's or its timestamp countersignature's).
 */
import { X509Certificate } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { PatchscanError } from '../../engine/errors.js';

export type Signature =
  | { readonly signed: true; readonly signer: string; readonly signedAt?: string; readonly certificates: number }
  | { readonly signed: false; readonly why: string };

interface Tlv {
  readonly tag: number;
  readonly at: number; // the element (tag byte)
  readonly start: number; // its content
  readonly end: number;
}

function tlv(b: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new Error(`DER ends at ${pos}`);
  const tag = b[pos]!;
  let len = b[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw new Error(`bad DER length at ${pos}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i]!;
    start += n;
  }
  if (start + len > limit) throw new Error(`DER element at ${pos} runs past its container`);
  return { tag, at: pos, start, end: start + len };
}

function children(b: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.start; p < parent.end;) {
    const t = tlv(b, p, parent.end);
    out.push(t);
    p = t.end;
    if (out.length > 10_000) throw new Error('too many DER elements');
  }
  return out;
}

const SIGNING_TIME_OID = Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05]);

function parseTime(b: Uint8Array, t: Tlv): string | undefined {
  const s = Buffer.from(b.subarray(t.start, t.end)).toString('latin1');
  const m =
    t.tag === 0x17
      ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/.exec(s)
      : t.tag === 0x18
        ? /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(?:\.\d+)?Z$/.exec(s)
        : null;
  if (!m) return undefined;
  const year = t.tag === 0x17 ? (Number(m[1]) < 50 ? 2000 : 1900) + Number(m[1]) : Number(m[1]);
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0))).toISOString();
}

function findSigningTime(b: Uint8Array, from: number, to: number): string | undefined {
  const hay = Buffer.from(b.buffer, b.byteOffset + from, to - from);
  const at = hay.indexOf(SIGNING_TIME_OID);
  if (at < 0) return undefined;
  const p = from + at + SIGNING_TIME_OID.length;
  const set = tlv(b, p, to);
  if (set.tag !== 0x31) return undefined;
  return parseTime(b, tlv(b, set.start, set.end));
}

const hexOf = (b: Uint8Array): string =>
  Buffer.from(b)
    .toString('hex')
    .replace(/^(00)+(?=.)/, '')
    .toUpperCase();

/** Parses a PKCS#7 SignedData blob: signer subject and signing time. Throws on malformed DER. */
export function parseSignedData(blob: Uint8Array): { signer: string; signedAt?: string; certificates: number } {
  const ci = tlv(blob, 0, blob.length);
  const [oid, explicit] = children(blob, ci);
  if (!oid || oid.tag !== 0x06 || !explicit || explicit.tag !== 0xa0) throw new Error('not a PKCS#7 ContentInfo');
  const sd = tlv(blob, explicit.start, explicit.end);
  const parts = children(blob, sd);
  const certsNode = parts.find((p) => p.tag === 0xa0);
  const signerInfos = parts.at(-1);
  if (!signerInfos || signerInfos.tag !== 0x31) throw new Error('SignedData has no signerInfos');
  const certs = certsNode ? children(blob, certsNode).map((c) => new X509Certificate(Buffer.from(blob.subarray(c.at, c.end)))) : [];
  const first = children(blob, signerInfos)[0];
  if (!first) throw new Error('SignedData has no signer');
  const [, sid] = children(blob, first);
  let signer: X509Certificate | undefined;
  if (sid?.tag === 0x30) {
    const serial = children(blob, sid)[1];
    if (serial)
      signer = certs.find(
        (c) => c.serialNumber.toUpperCase().replace(/^(00)+(?=.)/, '') === hexOf(blob.subarray(serial.start, serial.end)),
      );
  }
  signer ??= certs[0];
  const subject = signer?.subject ?? '';
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(subject)?.[1];
  const signedAt = findSigningTime(blob, first.start, first.end) ?? findSigningTime(blob, 0, blob.length);
  return {
    signer: cn ?? (subject.replace(/\n/g, ', ') || 'unknown signer'),
    ...(signedAt ? { signedAt } : {}),
    certificates: certs.length,
  };
}

export function readAuthenticode(path: string): Signature {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(60);
    readSync(fd, head, 0, 60, 0);
    if (head.toString('latin1', 0, 4) !== 'MSCF') return { signed: false, why: 'not a cabinet' };
    if ((head.readUInt16LE(30) & 0x0004) === 0) return { signed: false, why: 'the cabinet has no header reserve to hold one' };
    const reserve = head.readUInt16LE(36);
    if (reserve < 12) return { signed: false, why: `the cabinet's ${reserve}-byte header reserve holds no signature` };
    const offset = head.readUInt32LE(40 + 4);
    const length = head.readUInt32LE(40 + 8);
    if (length === 0) return { signed: false, why: 'the signature slot of the header reserve is empty' };
    if (offset + length > size || length > 4 * 1024 * 1024) {
      throw new PatchscanError(
        'CAB_BAD_STRUCTURE',
        `${path}: the Authenticode signature (offset ${offset}, ${length} bytes) lies outside the ${size}-byte file`,
        { file: path },
      );
    }
    const blob = Buffer.alloc(length);
    readSync(fd, blob, 0, length, offset);
    try {
      return { signed: true, ...parseSignedData(blob) };
    } catch (e) {
      throw new PatchscanError(
        'CAB_BAD_STRUCTURE',
        `${path}: the Authenticode signature does not parse: ${(e as Error).message}`,
        { file: path },
        { cause: e },
      );
    }
  } finally {
    closeSync(fd);
  }
}
