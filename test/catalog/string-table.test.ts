/** The catalog's string table as bytes and offsets (engine/catalog/string-table.ts). */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { checkStringTable, encodeStrings, holdsString, StringReader, stringCount } from '../../engine/catalog/string-table.js';
import { PatchscanError } from '../../engine/errors.js';

it('gives back every string it was made of, any Unicode, empty ones included, and "" past its end', () => {
  // Well-formed strings (a lone surrogate has no UTF-8; catalog strings come from XML, which cannot hold one).
  const text = fc.string({ unit: 'binary' }).filter((s) => !/\p{Cs}/u.test(s));
  fc.assert(
    fc.property(fc.array(text, { maxLength: 60 }), (list) => {
      const table = encodeStrings(list);
      expect(stringCount(table)).toBe(list.length);
      const r = new StringReader(checkStringTable(table, (why) => new PatchscanError('COMPILED_BAD_FILE', why)));
      // Twice: the second read comes from the reader's cache.
      for (let round = 0; round < 2; round++) expect(list.map((_, k) => r.get(k))).toEqual(list);
      expect([r.get(list.length), r.get(-1), r.get(1.5)]).toEqual(['', '', '']);
      // The readers of bytes in place (catalog-delta.ts, catalog-delta-file.ts) ask holdsString: the same ids.
      for (const id of [-2, -1, 0, 0.5, list.length - 1, list.length, list.length + 1, NaN])
        expect(holdsString(table, id), String(id)).toBe(Number.isInteger(id) && id >= 0 && id < list.length);
    }),
    { numRuns: 300 },
  );
});

const bad = (why: string): PatchscanError => new PatchscanError('COMPILED_BAD_FILE', why);
const cases: [string, unknown, RegExp][] = [
  ['not a table', ['a', 'b'], /not offsets and bytes/],
  ['no offsets', { offsets: new Uint32Array(0), bytes: new Uint8Array(0) }, /not offsets and bytes/],
  ['offsets of the wrong type', { offsets: new Int32Array([0, 1]), bytes: new Uint8Array(1) }, /not offsets and bytes/],
  ['not from byte 0', { offsets: Uint32Array.of(1, 2), bytes: new Uint8Array(2) }, /does not start at byte 0/],
  ['an offset going back', { offsets: Uint32Array.of(0, 3, 2, 4), bytes: new Uint8Array(4) }, /offset 2 goes backwards/],
  ['ending before the bytes do', { offsets: Uint32Array.of(0, 2), bytes: new Uint8Array(5) }, /ends at byte 2 of 5/],
  ['ending past the bytes', { offsets: Uint32Array.of(0, 9), bytes: new Uint8Array(5) }, /ends at byte 9 of 5/],
];
it.each(cases)('refuses a table read from a file that is %s', (_, table, message) => {
  expect(() => checkStringTable(table, bad)).toThrowError(message);
});
