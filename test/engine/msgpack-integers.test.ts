/**
 * Integers a msgpack encoder may write in 64 bits (0xcf uint64, 0xd3 int64) whatever their size — as C#'s `long`
 * fields often are: taken where a number holds them exactly, refused by their digits where none does (they decode to
 * a BigInt, which once made the validator's own message throw: a 500 on upload, a stack trace in the CLI).
 */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeInventory } from '../../engine/inventory/validate.js';

const base = {
  schema: 'patchscan-inventory/1',
  computer: { name: 'PC-1' },
  collectedAt: '2026-01-01T00:00:00Z',
  files: [{ path: 'C:\\a.dll', exists: true, size: 0 as number | bigint }],
};
const packr = new Packr({ useRecords: false });
/** The inventory with files[0].size as given, re-encoded as `head` + 8 bytes (uint64 or int64). */
function withSize(head: 0xcf | 0xd3, n: bigint): Uint8Array {
  const bytes = Buffer.from(packr.pack({ ...base, files: [{ ...base.files[0], size: 0x7fff }] }));
  const at = bytes.indexOf(Buffer.from([0xcd, 0x7f, 0xff])); // size as uint16, the only such bytes in the document
  expect(at).toBeGreaterThan(0);
  const wide = Buffer.alloc(9);
  wide[0] = head;
  if (head === 0xcf) wide.writeBigUInt64BE(n, 1);
  else wide.writeBigInt64BE(n, 1);
  return Buffer.concat([bytes.subarray(0, at), wide, bytes.subarray(at + 3)]);
}

describe('64-bit msgpack integers in an inventory', () => {
  it.each([
    ['uint64 5', 0xcf, 5n, 5],
    ['int64 5', 0xd3, 5n, 5],
    ['uint64 0', 0xcf, 0n, 0],
    ['uint64 2^53 - 1', 0xcf, 2n ** 53n - 1n, Number.MAX_SAFE_INTEGER],
  ] as const)('%s is the number it encodes', (_name, head, n, want) => {
    expect(decodeInventory(withSize(head, n), 'pc.msgpack').files![0].size).toBe(want);
  });

  it.each([
    ['uint64 2^53', 0xcf, 2n ** 53n, 'got 9007199254740992'],
    ['uint64 2^64 - 1', 0xcf, 2n ** 64n - 1n, 'got 18446744073709551615'],
    ['int64 -1', 0xd3, -1n, 'got -1'],
    ['int64 -2^63', 0xd3, -(2n ** 63n), 'got -9223372036854775808'],
  ] as const)('%s is refused, naming the field and the value by its digits', (_name, head, n, got) => {
    expect(() => decodeInventory(withSize(head, n), 'pc.msgpack')).toThrow(
      expect.objectContaining({
        code: 'INVENTORY_INVALID',
        message: `pc.msgpack: files[0].size: must be an integer from 0 to 9007199254740991, ${got}`,
      }),
    );
  });

  it('a float that is no integer (NaN, Infinity) is named as it is, not as JSON would write it (null)', () => {
    for (const [v, got] of [
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      [1.5, '1.5'],
    ] as const)
      expect(() => decodeInventory(packr.pack({ ...base, files: [{ ...base.files[0], size: v }] }), 'pc.msgpack')).toThrow(
        `files[0].size: must be an integer from 0 to 9007199254740991, got ${got}`,
      );
  });
});
