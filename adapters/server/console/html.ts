/**
 * What every console page shares: escaping, number and time formatting, the style sheet and the page frame. No
 * script and no external resource: HTML and CSS only (the Content-Security-Policy in index.ts forbids the rest).
 */

/** Escapes text for HTML element content and quoted attribute values. Everything a page shows goes through it. */
export const esc = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
export const num = (n: number): string => n.toLocaleString('en-US');

/** Rows per page in every list. */
export const PAGE = 50;

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#0b3d66;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}
header a{color:#d7e8f7;text-decoration:none}header b{color:#fff;font-size:16px}
main{padding:20px 24px;max-width:1200px}
h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:24px 0 8px}
.kpis{display:flex;gap:12px;flex-wrap:wrap}.kpi{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:10px 16px;min-width:120px}
.kpi span{display:block;color:#5b6570;font-size:12px}.kpi b{font-size:20px}
table{border-collapse:collapse;background:#fff;width:100%;border:1px solid #dde1e6}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eef0f2;vertical-align:top}th{background:#eef2f6;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.Installed{color:#1a7f37}.Required{color:#b42318;font-weight:600}.Unknown{color:#6e7781}.NotApplicable{color:#6e7781}
.reason{color:#5b6570;font-size:12px;max-width:520px}
form.search input{padding:6px 8px;width:260px}form.search button{padding:6px 12px}
form.signout{margin-left:auto}form.signout button{background:none;border:1px solid #7fa6c9;color:#fff;border-radius:4px;padding:3px 10px;cursor:pointer}
.pager{margin:8px 0}.pager a{margin-right:12px}.muted{color:#6e7781}
svg text{font:12px system-ui,sans-serif;fill:#1b1f24}
`;

/** A page: the header (with sign-out, except on the sign-in page itself) and `body`. */
export function layout(title: string, body: string, o: { readonly signedIn?: boolean } = {}): string {
  const signOut = o.signedIn === false ? '' : '<form class="signout" method="post" action="/logout"><button type="submit">Sign out</button></form>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} — patchscan</title><style>${CSS}</style></head><body>
<header><b>patchscan</b><a href="/">Overview</a><a href="/computers">Computers</a><a href="/stale">Stale clients</a><a href="/sync">Sync</a>${signOut}</header>
<main>${body}</main></body></html>`;
}
