/** The overview's trend: with one day it says the numbers in words (no lone dot); from two days on it draws them. */
import { describe, expect, it } from 'vitest';
import { trend } from '../../adapters/server/console/charts.js';
import type { DailyRow } from '../../adapters/store/port.js';

const day = (d: string, scanned: number, compliant: number): DailyRow => ({
  day: d,
  clients: scanned,
  scanned,
  compliant,
  installed: 0,
  required: 7,
  unknown: 1,
  superseded: 0,
  possiblySuperseded: 0,
});
const count = (html: string, re: RegExp): number => html.match(re)?.length ?? 0;

describe('trend', () => {
  it('no history: says how history starts', () => {
    expect(trend([])).toContain('No history yet');
  });

  it('one day: the share in words and a one-row table, no chart', () => {
    const html = trend([day('2026-11-29', 160, 72)]);
    expect(html).toContain('<b>45.0 %</b> of scanned machines compliant on 29 Nov 2026\n(72 of 160;');
    expect(html).toContain('come back tomorrow');
    expect(html).not.toContain('<svg');
    expect(count(html, /<tr><td>/g)).toBe(1);
  });

  it.each([
    [[day('2026-11-27', 100, 40), day('2026-11-28', 100, 45), day('2026-11-29', 100, 52)], 'Up 12.0 points since 27 Nov 2026 (40.0 %).'],
    [[day('2026-11-28', 200, 150), day('2026-11-29', 200, 120)], 'Down 15.0 points since 28 Nov 2026 (75.0 %).'],
    [[day('2026-11-28', 10, 5), day('2026-11-29', 20, 10)], 'Unchanged since 28 Nov 2026 (50.0 %).'],
  ])('several days: the change since the first, a point and a printed value per day', (days, change) => {
    const html = trend(days);
    expect(html).toContain(change);
    expect(count(html, /<circle /g)).toBe(days.length);
    expect(count(html, /text-anchor="middle">\d+\.\d %<\/text>/g)).toBe(days.length);
    expect(count(html, /<tr><td>/g)).toBe(days.length);
  });

  it('a long history: the table keeps the last 7 days, the chart every day, values only in tooltips', () => {
    const days = Array.from({ length: 30 }, (_, k) => day(`2026-11-${String(k + 1).padStart(2, '0')}`, 100, 50 + k));
    const html = trend(days);
    expect(count(html, /<circle /g)).toBe(30);
    expect(count(html, /text-anchor="middle">/g)).toBe(0);
    expect(count(html, /<tr><td>/g)).toBe(7);
    expect(html).toContain('<tr><td>30 Nov 2026</td>');
  });
});
