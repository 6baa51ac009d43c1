/**
 * The pool's reason texts, one copy each: equal texts of different sets become one string, counted once, and
 * forgotten when the last set holding them is released.
 */
import { describe, expect, it } from 'vitest';
import { ReasonTable } from '../../engine/pool/reason-table.js';

describe('reason table', () => {
  it('shares equal texts, counts them once, and forgets them with the last set holding them', () => {
    const t = new ReasonTable();
    // Texts as two workers would send them: equal content, separate strings.
    const text = (n: number): string => ['IsInstalled is False: file ', String(n), ' is missing'].join('');
    const a = [text(1), '', text(2)];
    const b = [text(2), text(3), ''];
    const added = t.intern(a);
    expect(added).toBeGreaterThan(2 * text(1).length);
    expect(t.bytes).toBe(added);
    // b brings one new text (3); its text 2 becomes a's.
    const addedB = t.intern(b);
    expect(t.bytes).toBe(added + addedB);
    expect(addedB).toBeLessThan(added);
    expect(b[0]).toBe(a[2]);
    expect(t.size).toBe(3);
    expect(b).toEqual([text(2), text(3), '']);
    expect(t.release(a)).toBeGreaterThan(0); // text 1 goes; text 2 stays (b holds it)
    expect(t.size).toBe(2);
    const left = t.bytes;
    expect(t.release(b)).toBe(left);
    expect(t.size).toBe(0);
    expect(t.bytes).toBe(0);
  });
});
