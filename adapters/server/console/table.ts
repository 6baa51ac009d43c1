/**
 * Lists on console pages, all drawn the same way: a heading row whose sortable columns are links (?sort=KEY&dir=…),
 * a pager (50 rows a page, "1–50 of 1,234"), a CSV link for the whole list (the same URL with format=csv&list=ID,
 * fetched with the session cookie like any page: no token in a URL), and an empty state that says what to do next.
 *
 * A list is either in memory (`fromRows`: sorted and cut here) or paged by the store (`fromStore`: the page asks the
 * store for the rows of the current page, in the order the store supports).
 */
import { toCsv } from '../../text/csv.js';
import { HttpError, intParam } from '../http.js';
import { esc, num, PAGE } from './html.js';

export interface Column<T> {
  /** The sort key in URLs and the CSV header. */
  readonly key: string;
  readonly label: string;
  /** The value sorted on and written to CSV (null sorts last). */
  readonly value: (row: T) => string | number | boolean | null;
  /** What sorting compares, when not the value (e.g. a state's rank). */
  readonly sortBy?: (row: T) => string | number | null;
  /** The cell's HTML; the default is the value, escaped (numbers with thousands separators). Must escape what it shows. */
  readonly cell?: (row: T) => string;
  readonly numeric?: boolean;
  /** Not sortable (only CSV-only columns: every column shown sorts, store-paged lists in SQL — assertStoreOrders). */
  readonly fixed?: boolean;
  /** Left out of the CSV (a column that only repeats another one as a link, say). */
  readonly noCsv?: boolean;
  /** In the CSV only (the page shows it another way, e.g. a flag inside the state cell). */
  readonly csvOnly?: boolean;
}

export interface SortOrder {
  readonly key: string;
  readonly dir: 'asc' | 'desc';
}

/** What the URL asks of list `id`: its sort order (checked against the columns) and page offset. */
export function listState<T>(
  url: URL,
  columns: readonly Column<T>[],
  dflt: SortOrder,
  prefix = '',
): SortOrder & { readonly offset: number } {
  const q = url.searchParams;
  const key = q.get(`${prefix}sort`) ?? dflt.key;
  const col = columns.find((c) => c.key === key && !c.fixed);
  if (!col && key !== dflt.key) {
    const sortable = columns
      .filter((c) => !c.fixed)
      .map((c) => c.key)
      .join(', ');
    const asked = JSON.stringify(key.slice(0, 40));
    throw new HttpError(400, 'BAD_REQUEST', `${prefix}sort=${asked} is not a column of this list (one of ${sortable})`);
  }
  const dirRaw = q.get(`${prefix}dir`);
  if (dirRaw !== null && dirRaw !== 'asc' && dirRaw !== 'desc') {
    throw new HttpError(400, 'BAD_REQUEST', `${prefix}dir=${JSON.stringify(dirRaw.slice(0, 20))} must be asc or desc`);
  }
  const dir = dirRaw ?? (key === dflt.key ? dflt.dir : col?.numeric ? 'desc' : 'asc');
  return { key, dir, offset: intParam(q, `${prefix}offset`, 0, 0, Number.MAX_SAFE_INTEGER) };
}

/** Sorts rows by a column (stable; nulls last whatever the direction). */
export function sortRows<T>(rows: readonly T[], columns: readonly Column<T>[], order: SortOrder): T[] {
  const col = columns.find((c) => c.key === order.key);
  if (!col) return [...rows];
  const sign = order.dir === 'asc' ? 1 : -1;
  const by = col.sortBy ?? col.value;
  const keyed = rows.map((r, k) => ({ r, k, v: by(r) }));
  keyed.sort((a, b) => {
    if (a.v === null || b.v === null) return a.v === b.v ? a.k - b.k : a.v === null ? 1 : -1;
    const d =
      typeof a.v === 'string' && typeof b.v === 'string'
        ? a.v.localeCompare(b.v, 'en', { numeric: true, sensitivity: 'base' })
        : Number(a.v) - Number(b.v);
    return d !== 0 ? sign * d : a.k - b.k;
  });
  return keyed.map((x) => x.r);
}

export function csvOf<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cols = columns.filter((c) => !c.noCsv);
  return toCsv(
    rows.map((r): Record<string, unknown> => Object.fromEntries(cols.map((c) => [c.key, c.value(r)]))),
    cols.map((c) => c.key),
  );
}

export interface ListOptions<T> {
  /** The list's id on its page (data-testid, and the CSV link's `list`). */
  readonly id: string;
  readonly url: URL;
  readonly columns: readonly Column<T>[];
  /** The rows of the current page, in order. */
  readonly rows: readonly T[];
  readonly total: number;
  readonly order: SortOrder & { readonly offset: number };
  /** HTML shown instead of the table when the list is empty: what the administrator can do next. */
  readonly empty: string;
  /** Attributes of a row's <tr> (already escaped), e.g. data-state. */
  readonly rowAttrs?: (row: T) => string;
  /**
   * The page's main list reads plain sort, dir and offset parameters; the other lists of a page (the overview has
   * several) read ID.sort, ID.dir and ID.offset, so sorting or paging one leaves the others as they are.
   */
  readonly main?: boolean;
}

const prefixOf = (o: { readonly id: string; readonly main?: boolean }): string => (o.main ? '' : `${o.id}.`);

const cellOf = <T>(c: Column<T>, r: T): string => {
  if (c.cell) return c.cell(r);
  const v = c.value(r);
  return v === null ? '' : typeof v === 'number' ? num(v) : esc(v);
};

/** Link to this page with some query parameters changed (`null` removes one); list state of other lists is dropped. */
export function hrefWith(url: URL, changes: Record<string, string | null>): string {
  const q = new URLSearchParams(url.searchParams);
  q.delete('format');
  q.delete('list');
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  return `${url.pathname}${s ? `?${s}` : ''}`;
}

/** A list: pager, CSV link, sortable table (or its empty state). */
export function list<T>(o: ListOptions<T>): string {
  const { url, order } = o;
  const pre = prefixOf(o);
  const pagerHtml = pager(url, o.total, order.offset, pre);
  const csvHref = hrefWith(url, { format: 'csv', list: o.id, [`${pre}offset`]: null });
  const csv = `<a class="csv" data-testid="${esc(o.id)}-csv" href="${esc(csvHref)}" download>CSV</a>`;
  if (o.total === 0) {
    return `<section class="list" data-list="${esc(o.id)}"><div class="empty" data-testid="${esc(o.id)}-empty">${o.empty}</div></section>`;
  }
  const shown = o.columns.filter((c) => !c.csvOnly);
  const head = shown
    .map((c) => {
      const cls = c.numeric ? ' class="n"' : '';
      if (c.fixed) return `<th${cls}>${esc(c.label)}</th>`;
      const active = c.key === order.key;
      const next = active ? (order.dir === 'asc' ? 'desc' : 'asc') : c.numeric ? 'desc' : 'asc';
      const arrow = active ? (order.dir === 'asc' ? ' ▲' : ' ▼') : '';
      const ariaSort = active ? ` aria-sort="${order.dir === 'asc' ? 'ascending' : 'descending'}"` : '';
      const href = hrefWith(url, { [`${pre}sort`]: c.key, [`${pre}dir`]: next, [`${pre}offset`]: null });
      return `<th${cls}${ariaSort}><a href="${esc(href)}">${esc(c.label)}${arrow}</a></th>`;
    })
    .join('');
  const cells = (r: T): string => shown.map((c) => `<td${c.numeric ? ' class="n"' : ''}>${cellOf(c, r)}</td>`).join('');
  const body = o.rows.map((r) => `<tr${o.rowAttrs ? ` ${o.rowAttrs(r)}` : ''}>${cells(r)}</tr>`).join('\n');
  return `<section class="list" data-list="${esc(o.id)}"><div class="listbar">${pagerHtml}${csv}</div>
<table data-testid="${esc(o.id)}"><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table>${o.total > PAGE ? pagerHtml : ''}</section>`;
}

export function pager(url: URL, total: number, offset: number, prefix = ''): string {
  const link = (off: number, text: string, rel: string): string =>
    `<a rel="${rel}" href="${esc(hrefWith(url, { [`${prefix}offset`]: off === 0 ? null : String(off) }))}">${text}</a>`;
  const first = total === 0 ? 0 : Math.min(total, offset + 1);
  const parts = [`<span class="muted">${num(first)}–${num(Math.min(total, offset + PAGE))} of ${num(total)}</span>`];
  if (offset > 0) parts.unshift(link(Math.max(0, offset - PAGE), '← previous', 'prev'));
  if (offset + PAGE < total) parts.push(link(offset + PAGE, 'next →', 'next'));
  return `<div class="pager">${parts.join(' ')}</div>`;
}

/** A long text folded behind a disclosure: its first words stay visible. */
export function folded(text: string, visible = 90): string {
  if (text.length <= visible) return esc(text);
  const cut = text.lastIndexOf(' ', visible);
  return `<details class="reason"><summary>${esc(text.slice(0, cut > 40 ? cut : visible))} …</summary>${esc(text)}</details>`;
}

/** A list held in memory: all its rows, and its order until the URL asks for another. */
type InMemoryList<T> = Omit<ListOptions<T>, 'rows' | 'total' | 'order' | 'url'> & {
  readonly all: readonly T[];
  readonly defaultOrder: SortOrder;
};

/** Rows a CSV download of a store-paged list holds at most (a list of every client of a 100k-client site fits). */
const CSV_MAX_ROWS = 1_000_000;

/**
 * The lists of one page request. A page draws each list through it; when the request asks for one list as CSV
 * (format=csv&list=ID), that list's rows — all of them, in the order asked — are kept in `csv` for the handler.
 */
export class PageLists {
  csv: { readonly name: string; readonly body: string } | undefined;
  private readonly csvList: string | null;

  constructor(readonly url: URL) {
    this.csvList = url.searchParams.get('format') === 'csv' ? url.searchParams.get('list') : null;
  }

  get wantsCsv(): boolean {
    return this.csvList !== null;
  }

  /** A list held in memory. */
  rows<T>(o: InMemoryList<T>): string {
    const order = listState(this.url, o.columns, o.defaultOrder, prefixOf(o));
    const sorted = sortRows(o.all, o.columns, order);
    if (this.csvList === o.id) this.csv = { name: o.id, body: csvOf(sorted, o.columns) };
    return list({ ...o, url: this.url, rows: sorted.slice(order.offset, order.offset + PAGE), total: o.all.length, order });
  }

  /** A list paged by the store: `fetch` returns one page in the order asked (columns the store cannot sort are `fixed`). */
  async paged<T>(
    o: Omit<ListOptions<T>, 'rows' | 'total' | 'order' | 'url'> & {
      readonly defaultOrder: SortOrder;
      readonly fetch: (
        order: SortOrder,
        limit: number,
        offset: number,
      ) => Promise<{ readonly total: number; readonly items: readonly T[] }>;
    },
  ): Promise<string> {
    const order = listState(this.url, o.columns, o.defaultOrder, prefixOf(o));
    if (this.csvList === o.id) {
      // One query for the whole list (paging through it with OFFSET would read its first rows again for every page).
      const all = await o.fetch(order, CSV_MAX_ROWS, 0);
      this.csv = { name: o.id, body: csvOf(all.items, o.columns) };
    }
    const page = await o.fetch(order, PAGE, order.offset);
    return list({ ...o, url: this.url, rows: page.items, total: page.total, order });
  }
}

/** Checks, when a page module loads, that every sortable column of a store-paged list is an order the store sorts by. */
export function assertStoreOrders<T>(list: string, columns: readonly Column<T>[], orders: readonly string[]): void {
  for (const c of columns) if (!c.fixed && !orders.includes(c.key)) throw new Error(`${list} column ${c.key} has no store order`);
}
