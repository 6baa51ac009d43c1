/**
 * decodeInventory takes bytes. Called from JavaScript with the document's text, it used to count and report the text's
 * characters as bytes ("… at byte 3"); anything that is not a Uint8Array is now a BAD_ARGUMENT error that says what
 * to pass. A Buffer, a Uint8Array view into a larger buffer and one from another realm are bytes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { decodeInventory } from '../../engine/inventory/validate.js';
import { FIXTURES } from '../helpers/tmp.js';

const file = join(FIXTURES, 'inventories', 'win10-22h2-x64.json');
const bytes = readFileSync(file);

it.each([
  ['a string', bytes.toString('utf8'), /got a string: pass Buffer\.from\(text\)/],
  ['null', null, /got null$/],
  ['a number array', [...bytes.subarray(0, 16)], /got an array$/],
  ['a Uint16Array', new Uint16Array(8), /got a Uint16Array$/],
  ['an ArrayBuffer', new ArrayBuffer(8), /got an ArrayBuffer: pass new Uint8Array\(buffer\)$/],
  ['an object without a prototype', Object.create(null), /got an object$/],
])('%s is refused as BAD_ARGUMENT, saying what to pass', (_, input, message) => {
  expect(() => decodeInventory(input as unknown as Uint8Array, file)).toThrow(
    expect.objectContaining({ code: 'BAD_ARGUMENT', message: expect.stringMatching(message) }),
  );
});

it('a Buffer, a view into a larger buffer and a Uint8Array of another realm decode to the same inventory', () => {
  const viaBuffer = decodeInventory(bytes, file);
  const padded = new Uint8Array(bytes.length + 20);
  padded.set(bytes, 10);
  expect(decodeInventory(padded.subarray(10, 10 + bytes.length), file)).toEqual(viaBuffer);
  const foreign = runInNewContext('new Uint8Array(n)', { n: bytes.length }) as Uint8Array;
  foreign.set(bytes);
  expect(foreign instanceof Uint8Array).toBe(false);
  expect(decodeInventory(foreign, file)).toEqual(viaBuffer);
});
