/**
 * What every console page shares: escaping, number and time formatting, the style sheet and the page frame. No
 * script and no external resource: HTML and CSS only (the Content-Security-Policy in index.ts forbids the rest).
 */

/** Escapes text for HTML element content and quoted attribute values. Everything a page shows goes through it. */
export const esc = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
export const num = (n: number): string => n.toLocaleString('en-US');

/**
 * A time as people read it, in the server's time zone (its TZ), to the minute: "29 Nov 2026, 17:05 UTC". The
 * exact instant stays in the element's datetime attribute (and in CSV downloads, as ISO 8601).
 */
const TIME = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
});
const DAY = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

export function formatTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : TIME.format(t);
}

/** "3 min ago", "5 h ago", "12 days ago" (relative to `now`). */
export function ago(iso: string, now = Date.now()): string {
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (Number.isNaN(s)) return '';
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 2 * 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${num(Math.floor(s / 86_400))} days ago`;
}

/** A <time> element: the readable time, with how long ago as its tooltip; `missing` when there is none. */
export function when(iso: string | null | undefined, missing = 'never'): string {
  if (!iso) return `<span class="muted">${esc(missing)}</span>`;
  return `<time datetime="${esc(iso)}" title="${esc(ago(iso))}">${esc(formatTime(iso))}</time>`;
}

/** Last seen: the readable time and how long ago, e.g. "29 Nov 2026, 17:05 UTC · 3 h ago". */
export function seen(iso: string | null | undefined, missing = 'never'): string {
  if (!iso) return `<span class="muted">${esc(missing)}</span>`;
  return `<time datetime="${esc(iso)}">${esc(formatTime(iso))}</time> <span class="muted">· ${esc(ago(iso))}</span>`;
}

/** A UTC calendar day (YYYY-MM-DD) as "29 Nov 2026". */
export function formatDay(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(t) ? day : DAY.format(t);
}

/** Rows per page in every list. */
export const PAGE = 50;

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#0b3d66;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}
header a{color:#d7e8f7;text-decoration:none}header b{color:#fff;font-size:16px}
main{padding:20px 24px;max-width:1200px}
h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:24px 0 8px}
.kpis{display:flex;gap:12px;flex-wrap:wrap}
.kpi{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:10px 16px;min-width:120px}
.kpi span{display:block;color:#5b6570;font-size:12px}.kpi b{font-size:20px}
table{border-collapse:collapse;background:#fff;width:100%;border:1px solid #dde1e6}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eef0f2;vertical-align:top}th{background:#eef2f6;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.Installed{color:#1a7f37}.Required{color:#b42318;font-weight:600}.Unknown{color:#6e7781}.NotApplicable{color:#6e7781}
.reason{color:#5b6570;font-size:12px;max-width:520px}
form.search input{padding:6px 8px;width:260px}form.search button{padding:6px 12px}
form.signout{margin-left:auto}
form.signout button{background:none;border:1px solid #7fa6c9;color:#fff;border-radius:4px;padding:3px 10px;cursor:pointer}
.listbar{display:flex;gap:16px;align-items:baseline}.csv{font-size:12px}
.empty{background:#fff;border:1px dashed #c5ccd3;border-radius:6px;padding:14px 16px;color:#3d4650}
.filters{display:flex;gap:10px;flex-wrap:wrap;align-items:end;margin:8px 0}
.filters label{font-size:12px;color:#5b6570;display:flex;flex-direction:column}
.filters select,.filters input{padding:5px 6px}
details.reason summary{cursor:pointer}th a{color:inherit;text-decoration:none}th.n{text-align:right}
.pager{margin:8px 0}.pager a{margin-right:12px}.muted{color:#6e7781}
svg text{font:12px system-ui,sans-serif;fill:#1b1f24}
`;

const NAV = [
  ['/', 'Overview'],
  ['/updates', 'Updates'],
  ['/computers', 'Computers'],
  ['/groups', 'Update groups'],
  ['/cves', 'CVEs'],
  ['/stale', 'Stale clients'],
  ['/sync', 'Sync'],
]
  .map(([href, text]) => `<a href="${href}">${text}</a>`)
  .join('');

/** A page: the header (with sign-out, except on the sign-in page itself) and `body`. */
export function layout(title: string, body: string, o: { readonly signedIn?: boolean } = {}): string {
  const signOut =
    o.signedIn === false ? '' : '<form class="signout" method="post" action="/logout"><button type="submit">Sign out</button></form>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} — patchscan</title><style>${CSS}</style></head><body>
<header><b>patchscan</b>${NAV}${signOut}</header>
<main>${body}</main></body></html>`;
}
