/**
 * valueKind: what an error says a value was, in one wording for every such error — and never the value itself.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { valueKind } from '../../engine/value-kind.js';
import { validateInventory } from '../../engine/inventory/validate.js';

class Inventory {}

describe('valueKind', () => {
  it.each([
    [null, 'null'],
    [undefined, 'undefined'],
    ['C:\\secret.txt', 'a string'],
    [42, 'a number'],
    [Number.NaN, 'a number'],
    [true, 'a boolean'],
    [10n, 'a bigint'],
    [Symbol('s'), 'a symbol'],
    [() => 1, 'a function'],
    [[1, 2], 'an array'],
    [{ a: 1 }, 'an object'],
    [Object.create(null), 'an object'],
    [new Uint16Array(2), 'a Uint16Array'],
    [new ArrayBuffer(2), 'an ArrayBuffer'],
    [new Map(), 'a Map'],
    [new Inventory(), 'an Inventory'],
    [runInNewContext('[1]'), 'an array'],
    [runInNewContext('({})'), 'an object'],
    // A constructor named by its data, not by its class: still not the value.
    [{ constructor: { name: 'PC-42' } }, 'an object'],
  ])('%o is %s', (v, kind) => {
    expect(valueKind(v)).toBe(kind);
  });

  it("is the inventory validator's wording, and names no value", () => {
    const doc = { schema: 'patchscan-inventory/1', computer: { name: 1234 }, collectedAt: '2024-01-01T00:00:00Z' };
    expect(() => validateInventory(doc, 'pc.json')).toThrow('pc.json: computer.name: must be a string, got a number');
    expect(() => validateInventory({ ...doc, computer: 'PC-1' }, 'pc.json')).toThrow(/computer: must be an object, got a string$/);
  });
});
