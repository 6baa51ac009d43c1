/** Cells and controls several console pages share: update links, states, CVEs, release dates, filter links. */
import { esc } from './html.js';
import { hrefWith } from './table.js';

export const updateLink = (updateId: string, text: string): string => `<a href="/updates/${encodeURIComponent(updateId)}">${esc(text)}</a>`;
export const kbText = (kb: string): string => (kb ? `KB${kb}` : '—');
export const cveLink = (cve: string): string => `<a href="/cves/${encodeURIComponent(cve)}">${esc(cve)}</a>`;

/** The first CVEs as links, and how many more. */
export function cveLinks(cves: readonly string[], shown = 3): string {
  const links = cves.slice(0, shown).map(cveLink).join(', ');
  return cves.length > shown ? `${links} <span class="muted">+${cves.length - shown}</span>` : links;
}

/** A release day (package.xml's CreationDate, ISO 8601) as "12 Mar 2024"; empty when the catalog has none. */
export function released(iso: string): string {
  const t = Date.parse(iso);
  if (!iso || Number.isNaN(t)) return '';
  const day = new Date(t).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  return `<time datetime="${esc(iso)}">${esc(day)}</time>`;
}

/** The update's More-info page (Microsoft's, from the catalog): only http(s) links are made links. */
export const moreInfo = (url: string): string =>
  /^https?:\/\//i.test(url) ? `<a href="${esc(url)}" rel="noopener noreferrer" target="_blank">More info</a>` : '';

/** A state, with "(superseded)" or "(possibly superseded)" after it when it is. */
export function stateCell(state: string, f: { readonly superseded: boolean; readonly possiblySuperseded?: boolean }): string {
  const note = f.superseded
    ? ' <span class="muted">(superseded)</span>'
    : f.possiblySuperseded
      ? ' <span class="muted">(possibly superseded)</span>'
      : '';
  return `<span class="${esc(state)}">${esc(state)}</span>${note}`;
}

/** What needs action first: Required, then Unknown (not known), possibly superseded, superseded, Installed, NotApplicable. */
export function stateRank(state: string, f: { readonly superseded: boolean; readonly possiblySuperseded?: boolean }): number {
  if (state === 'Required') return f.superseded ? 3 : f.possiblySuperseded ? 2 : 0;
  return state === 'Unknown' ? 1 : state === 'Installed' ? 4 : 5;
}

/** Links that set one query parameter, the current value in bold. */
export function choice(url: URL, param: string, options: readonly (readonly [string, string])[], testId: string): string {
  const cur = url.searchParams.get(param) ?? '';
  const links = options.map(([v, label]) =>
    v === cur ? `<b>${esc(label)}</b>` : `<a href="${esc(hrefWith(url, { [param]: v || null, offset: null }))}">${esc(label)}</a>`,
  );
  return `<p class="choice" data-testid="${esc(testId)}">${links.join(' · ')}</p>`;
}
