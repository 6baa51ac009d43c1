/** Lists on console pages: the pager under a list's heading. */
import { esc, num, PAGE } from './html.js';

export function pager(base: string, params: Record<string, string>, total: number, offset: number): string {
  const link = (o: number, text: string): string => `<a href="${esc(`${base}?${new URLSearchParams({ ...params, offset: String(o) }).toString()}`)}">${text}</a>`;
  const parts = [`<span class="muted">${num(total === 0 ? 0 : offset + 1)}–${num(Math.min(total, offset + PAGE))} of ${num(total)}</span>`];
  if (offset > 0) parts.unshift(link(Math.max(0, offset - PAGE), '← previous'));
  if (offset + PAGE < total) parts.push(link(offset + PAGE, 'next →'));
  return `<div class="pager">${parts.join(' ')}</div>`;
}
