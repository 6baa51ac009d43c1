/**
 * collectedAt's calendar check (engine/inventory/validate.ts isCalendarDateTime), read digit by digit for speed,
 * against a reference that asks the platform's calendar: they agree on random date-times, valid or not.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCalendarDateTime } from '../../engine/inventory/validate.js';

const p2 = (n: number): string => String(n).padStart(2, '0');

/** The reference: the fields round-trip through Date.UTC, the clock and the zone are in range. */
function reference(y: number, mo: number, d: number, h: number, mi: number, s: number, zh: number, zm: number): boolean {
  const t = new Date(Date.UTC(y, mo - 1, d));
  const day = t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
  return day && h <= 23 && mi <= 59 && s <= 59 && zh <= 23 && zm <= 59;
}

describe('collectedAt: a real date and time', () => {
  it.each([
    ['2024-02-29T00:00Z', true],
    ['2026-02-29T00:00Z', false],
    ['1900-02-29T00:00Z', false],
    ['2000-02-29T00:00Z', true],
    ['2026-04-31T00:00Z', false],
    ['2026-11-24T08:00:00.1234567+02:00', true],
    ['2026-11-24T24:00Z', false],
    ['2026-11-24T23:59:60Z', false],
    ['2026-11-24T08:00+24:00', false],
    ['2026-11-24T08:00:00', false], // no zone
    ['2026-99-99T99:99Z', false],
  ])('%s → %s', (s, ok) => {
    expect(isCalendarDateTime(s)).toBe(ok);
  });

  it('agrees with the platform calendar on random date-times', () => {
    fc.assert(
      fc.property(
        fc.record({
          y: fc.integer({ min: 1600, max: 2400 }),
          mo: fc.integer({ min: 0, max: 13 }),
          d: fc.integer({ min: 0, max: 32 }),
          h: fc.integer({ min: 0, max: 25 }),
          mi: fc.integer({ min: 0, max: 61 }),
          s: fc.integer({ min: 0, max: 61 }),
          zone: fc.oneof(
            fc.constant(null),
            fc.record({ sign: fc.constantFrom('+', '-'), h: fc.integer({ min: 0, max: 25 }), m: fc.integer({ min: 0, max: 61 }) }),
          ),
        }),
        ({ y, mo, d, h, mi, s, zone }) => {
          const text = `${y}-${p2(mo)}-${p2(d)}T${p2(h)}:${p2(mi)}:${p2(s)}${zone ? `${zone.sign}${p2(zone.h)}:${p2(zone.m)}` : 'Z'}`;
          expect(isCalendarDateTime(text), text).toBe(reference(y, mo, d, h, mi, s, zone?.h ?? 0, zone?.m ?? 0));
        },
      ),
      { numRuns: 5000 },
    );
  });
});
