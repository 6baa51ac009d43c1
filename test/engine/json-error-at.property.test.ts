/**
 * jsonSyntaxErrorAt against JSON.parse, the reference: on random JSON with one character deleted, doubled or
 * replaced, it finds an error exactly when JSON.parse refuses the text, at the offset V8 names wherever V8 names one.
 * Then an inventory as a user sends it: the error says the line and column even where V8 says no position.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSyntaxErrorAt } from '../../engine/inventory/json-error-at.js';
import { decodeInventory } from '../../engine/inventory/validate.js';

const NOISE = ['', '{', '}', '[', ']', ',', ':', '"', '\\', '-', '0', '1', '.', 'e', 'E', '+', 't', 'n', ' ', '\n', '\u0001', 'x'];

describe('jsonSyntaxErrorAt', () => {
  it('refuses exactly what JSON.parse refuses, and where V8 gives a position, gives the same one', () => {
    let refused = 0,
      positioned = 0;
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), fc.nat(), fc.constantFrom(...NOISE), fc.nat(2), (json, at, noise, how) => {
        const k = at % (json.length + 1);
        const text =
          how === 0
            ? json.slice(0, k) + json.slice(k + 1)
            : how === 1
              ? json.slice(0, k) + noise + json.slice(k)
              : json.slice(0, k) + noise + json.slice(k + 1);
        let v8: string | undefined;
        try {
          JSON.parse(text);
        } catch (e) {
          v8 = (e as Error).message;
        }
        const ours = jsonSyntaxErrorAt(text);
        expect(ours === -1, `${JSON.stringify(text)}: ${v8}`).toBe(v8 === undefined);
        if (v8 === undefined) return;
        refused++;
        expect(ours).toBeLessThanOrEqual(text.length);
        const m = / at position (\d+)/.exec(v8);
        if (m) {
          positioned++;
          expect(ours, `${JSON.stringify(text)}: ${v8}`).toBe(Number(m[1]));
        }
      }),
      { numRuns: 5000 },
    );
    expect(refused).toBeGreaterThan(1000);
    expect(positioned).toBeGreaterThan(100);
  });

  it('an inventory whose JSON V8 gives no position for: the line and column, the input not quoted back', () => {
    const text = '{\n  "schema": "patchscan-inventory/1",\n  "os": }\n';
    expect(() => JSON.parse(text)).toThrowError(/^Unexpected token '}', (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s);
    expect(() => decodeInventory(Buffer.from(text), 'pc.json')).toThrowError(
      /^pc\.json: not valid JSON: Unexpected token '}' \(line 3, column 9\)$/,
    );
  });
});
