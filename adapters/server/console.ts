/**
 * The web console, served by `patchscan serve`: the reports as server-rendered pages — fleet overview (compliance by
 * classification, and over time), computer search → a computer's compliance page, an update's page, stale clients,
 * the sync status. No script, no external CDN or network call: HTML, CSS and inline SVG only. Every page needs the
 * admin token (entered once on /login; the browser then holds an HttpOnly, SameSite=Strict session cookie, Secure when
 * the server speaks HTTPS).
 * Lists are paginated and every query is indexed, so pages stay fast on 100k clients.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SiteStore } from '../store/port.js';
import { sha256Hex } from '../store/sql/store.js';
import { HttpError, intParam, pathParam } from './http.js';
import { whyNotScanned } from './routes/reports.js';
import {
  collectionSummary, complianceTrend, computerCompliance, fleetSummary, groupSummary, searchComputers, staleClients, updateCompliance,
  type CatalogVersions, type GroupRow,
} from '../site/reports.js';

const esc = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (n: number): string => n.toLocaleString('en-US');
const PAGE = 50;

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
.pager{margin:8px 0}.pager a{margin-right:12px}.muted{color:#6e7781}
svg text{font:12px system-ui,sans-serif;fill:#1b1f24}
`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} — patchscan</title><style>${CSS}</style></head><body>
<header><b>patchscan</b><a href="/">Overview</a><a href="/computers">Computers</a><a href="/stale">Stale clients</a><a href="/sync">Sync</a></header>
<main>${body}</main></body></html>`;
}

function pager(base: string, params: Record<string, string>, total: number, offset: number): string {
  const link = (o: number, text: string): string => `<a href="${esc(`${base}?${new URLSearchParams({ ...params, offset: String(o) }).toString()}`)}">${text}</a>`;
  const parts = [`<span class="muted">${num(total === 0 ? 0 : offset + 1)}–${num(Math.min(total, offset + PAGE))} of ${num(total)}</span>`];
  if (offset > 0) parts.unshift(link(Math.max(0, offset - PAGE), '← previous'));
  if (offset + PAGE < total) parts.push(link(offset + PAGE, 'next →'));
  return `<div class="pager">${parts.join(' ')}</div>`;
}

/** Stacked horizontal bars: Installed, Required, Unknown per group. */
function barChart(rows: readonly GroupRow[], testId: string): string {
  if (rows.length === 0) return '<p class="muted">No scans yet.</p>';
  const max = Math.max(...rows.map((r) => r.installed + r.required + r.unknown), 1);
  const W = 520, label = 220, h = 22;
  const bars = rows.map((r, k) => {
    const y = k * (h + 6);
    let x = label;
    const seg = (v: number, color: string, name: string): string => {
      const w = (v / max) * W;
      const out = w > 0 ? `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${h}" fill="${color}"><title>${esc(r.name)}: ${name} ${num(v)}</title></rect>` : '';
      x += w;
      return out;
    };
    return `<text x="${label - 8}" y="${y + 15}" text-anchor="end">${esc(r.name.length > 32 ? `${r.name.slice(0, 31)}…` : r.name)}</text>${seg(r.installed, '#2da44e', 'Installed')}${seg(r.required, '#cf222e', 'Required')}${seg(r.unknown, '#afb8c1', 'Unknown')}<text x="${(x + 6).toFixed(1)}" y="${y + 15}">${num(r.required)} required</text>`;
  }).join('');
  const height = rows.length * (h + 6) + 24;
  const legend = `<g transform="translate(${label},${height - 12})"><rect width="10" height="10" fill="#2da44e"/><text x="14" y="9">Installed</text><rect x="90" width="10" height="10" fill="#cf222e"/><text x="104" y="9">Required</text><rect x="180" width="10" height="10" fill="#afb8c1"/><text x="194" y="9">Unknown</text></g>`;
  return `<svg data-testid="${testId}" role="img" aria-label="Update states by classification" width="${label + W + 140}" height="${height}">${bars}${legend}</svg>`;
}

/** The share of scanned clients with nothing Required, per day. */
async function trendChart(store: SiteStore): Promise<string> {
  const days = await complianceTrend(store, 90);
  if (days.length === 0) return '<p class="muted">No history yet (recorded as scans run).</p>';
  const W = 640, H = 160, pad = 36;
  const pts = days.map((d, k) => {
    const x = pad + (days.length === 1 ? (W - 2 * pad) / 2 : (k / (days.length - 1)) * (W - 2 * pad));
    const pct = d.scanned ? (100 * d.compliant) / d.scanned : 0;
    return { x, y: H - pad - (pct / 100) * (H - 2 * pad), pct, day: d.day };
  });
  const line = pts.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
  const dots = pts.map((p) => `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="3" fill="#0b3d66"><title>${p.day}: ${p.pct.toFixed(1)} % compliant</title></circle>`).join('');
  return `<svg data-testid="trend-chart" role="img" aria-label="Compliance over time" width="${W}" height="${H}">
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#8c959f"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#8c959f"/>
<text x="4" y="${pad + 4}">100 %</text><text x="12" y="${H - pad + 4}">0 %</text>
<text x="${pad}" y="${H - 8}">${esc(days[0]!.day)}</text><text x="${W - pad}" y="${H - 8}" text-anchor="end">${esc(days.at(-1)!.day)}</text>
<polyline points="${line}" fill="none" stroke="#0b3d66" stroke-width="2"/>${dots}</svg>`;
}

async function overview(store: SiteStore): Promise<string> {
  const s = await fleetSummary(store);
  const pct = s.scanned ? ((100 * s.compliant) / s.scanned).toFixed(1) : '–';
  const cols = await collectionSummary(store);
  return layout('Overview', `<h1>Fleet overview</h1>
<div class="kpis">
<div class="kpi"><span>Clients</span><b data-testid="kpi-clients">${num(s.clients)}</b></div>
<div class="kpi"><span>Scanned</span><b data-testid="kpi-scanned">${num(s.scanned)}</b></div>
<div class="kpi"><span>Compliant (nothing Required)</span><b data-testid="kpi-compliant">${num(s.compliant)}</b> <span>${pct} %</span></div>
<div class="kpi"><span>Required (client × update)</span><b class="Required" data-testid="kpi-required">${num(s.states.Required)}</b></div>
<div class="kpi"><span>Unknown</span><b data-testid="kpi-unknown">${num(s.states.Unknown)}</b></div>
<div class="kpi"><span>Scan queue</span><b>${num(s.queue.expedited + s.queue.normal)}</b></div>
</div>
<p class="muted">Catalog in service: ${s.catalog ? `${esc(s.catalog.sha256.slice(0, 16))} (${num(s.catalog.revisions)} revisions, ${esc(s.catalog.importedAt)})` : 'none yet'} — <a href="/sync">sync status</a></p>
<h2>Compliance by classification</h2>${barChart(await groupSummary(store, 'classification'), 'classification-chart')}
<h2>Compliance over time</h2>${await trendChart(store)}
<h2>Collections</h2>
<table data-testid="collections"><tr><th>Collection</th><th>Limited to</th><th>Members</th><th>Scanned</th><th>Compliant</th><th>Required</th><th>Unknown</th></tr>
${cols.map((c) => `<tr><td>${esc(c.name)}</td><td>${esc(c.limitedTo ?? '')}</td><td class="n">${num(c.members)}</td><td class="n">${num(c.scanned)}</td><td class="n">${num(c.compliant)}</td><td class="n">${num(c.required)}</td><td class="n">${num(c.unknown)}</td></tr>`).join('')}
</table>
<h2>By product</h2>
<table><tr><th>Product</th><th>Installed</th><th>Required</th><th>Unknown</th></tr>
${(await groupSummary(store, 'product')).map((g) => `<tr><td>${esc(g.name)}</td><td class="n">${num(g.installed)}</td><td class="n">${num(g.required)}</td><td class="n">${num(g.unknown)}</td></tr>`).join('')}
</table>`);
}

async function computers(store: SiteStore, url: URL): Promise<string> {
  const q = url.searchParams.get('q') ?? '';
  const offset = intParam(url.searchParams, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const page = await searchComputers(store, q, PAGE, offset);
  return layout('Computers', `<h1>Computers</h1>
<form class="search" method="get" action="/computers"><input name="q" value="${esc(q)}" placeholder="name starts with…" aria-label="Computer name" autofocus> <button type="submit">Search</button></form>
${pager('/computers', { q }, page.total, offset)}
<table data-testid="computer-list"><tr><th>Computer</th><th>Architecture</th><th>Last upload</th><th>Scanned</th><th>Installed</th><th>Required</th><th>Unknown</th></tr>
${page.items.map((c) => `<tr><td><a href="/computers/${encodeURIComponent(c.name)}">${esc(c.name)}</a></td><td>${esc(c.architecture ?? '')}</td><td>${esc(c.lastUpload ?? 'never')}</td><td>${esc(c.scannedAt ?? 'not yet')}</td><td class="n">${c.installed ?? ''}</td><td class="n">${c.required ?? ''}</td><td class="n">${c.unknown ?? ''}</td></tr>`).join('')}
</table>`);
}

async function computer(store: SiteStore, catalogs: CatalogVersions, name: string, url: URL): Promise<string | undefined> {
  const c = await computerCompliance(store, catalogs, name);
  if (!c) {
    // An enrolled computer without a scan gets a page that says why (the lists link to every computer).
    const client = await store.client(name);
    if (!client) return undefined;
    return layout(client.name, `<h1>Software updates compliance for <span data-testid="computer-name">${esc(client.name)}</span></h1>
<p>${esc(client.architecture ?? 'architecture not known yet')} · last upload ${esc(client.last_upload_at ?? 'never')}</p>
<p data-testid="not-scanned"><b>Not scanned yet:</b> ${esc(await whyNotScanned(store, client))}.</p>`);
  }
  const state = url.searchParams.get('state') ?? '';
  const rows = state ? c.updates.filter((u) => u.state === state) : c.updates;
  const filter = ['', 'Required', 'Installed', 'Unknown'].map((s) => (s === state ? `<b>${s || 'All'}</b>` : `<a href="?state=${s}">${s || 'All'}</a>`)).join(' · ');
  return layout(c.computer, `<h1>Software updates compliance for <span data-testid="computer-name">${esc(c.computer)}</span></h1>
<p>${esc(c.architecture ?? '?')} · last upload ${esc(c.lastUpload ?? '?')} · scanned <span data-testid="scanned-at">${esc(c.scannedAt)}</span> by “${esc(c.program)}” · catalog <span data-testid="catalog">${esc(c.catalog.sha256.slice(0, 16))}</span> (imported ${esc(c.catalog.importedAt)})</p>
<div class="kpis">
<div class="kpi"><span>Installed</span><b class="Installed" data-testid="count-Installed">${c.counts.Installed}</b></div>
<div class="kpi"><span>Required</span><b class="Required" data-testid="count-Required">${c.counts.Required}</b></div>
<div class="kpi"><span>Unknown</span><b data-testid="count-Unknown">${c.counts.Unknown}</b></div>
</div>
<p>${filter}</p>
<table data-testid="update-table"><tr><th>State</th><th>KB</th><th>Title</th><th>Classification</th><th>Severity</th><th>Reason</th></tr>
${rows.map((u) => `<tr data-state="${esc(u.state)}"><td class="${esc(u.state)}">${esc(u.state)}${u.superseded ? ' <span class="muted">(superseded)</span>' : ''}</td><td>${u.kb ? `<a href="/updates/${esc(u.updateId)}">KB${esc(u.kb)}</a>` : `<a href="/updates/${esc(u.updateId)}">—</a>`}</td><td>${esc(u.title)}</td><td>${esc(u.classification)}</td><td>${esc(u.severity)}</td><td class="reason">${esc(u.reason)}</td></tr>`).join('')}
</table>`);
}

async function update(store: SiteStore, catalogs: CatalogVersions, id: string, url: URL): Promise<string | undefined> {
  const state = url.searchParams.get('state') ?? '';
  const offset = intParam(url.searchParams, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const u = await updateCompliance(store, catalogs, id, { ...(state ? { state } : {}), limit: PAGE, offset });
  if (!u) return undefined;
  const filter = ['', 'Required', 'Installed', 'Unknown'].map((s) => (s === state ? `<b>${s || 'All'}</b>` : `<a href="?state=${s}">${s || 'All'}</a>`)).join(' · ');
  return layout(u.update.kb ? `KB${u.update.kb}` : u.update.updateId, `<h1>${u.update.kb ? `KB${esc(u.update.kb)} — ` : ''}${esc(u.update.title)}</h1>
<p class="muted">${esc(u.update.updateId)} · ${esc(u.update.classification)} · ${esc(u.update.severity || 'no severity')} · ${esc(u.update.products.join(', '))}</p>
<div class="kpis">
<div class="kpi"><span>Need it (Required)</span><b class="Required" data-testid="update-Required">${num(u.counts.Required)}</b></div>
<div class="kpi"><span>Have it (Installed)</span><b class="Installed" data-testid="update-Installed">${num(u.counts.Installed)}</b></div>
<div class="kpi"><span>Unknown</span><b data-testid="update-Unknown">${num(u.counts.Unknown)}</b></div>
<div class="kpi"><span>Superseded</span><b>${num(u.counts.superseded)}</b></div>
</div>
${u.unknownBecause.length ? `<h2>Unknown because</h2><table><tr><th>Reason</th><th>Machines</th></tr>${u.unknownBecause.map((r) => `<tr><td class="reason">${esc(r.reason)}</td><td class="n">${num(r.machines)}</td></tr>`).join('')}</table>` : ''}
<h2>Machines</h2><p>${filter}</p>${pager(url.pathname, state ? { state } : {}, u.machines.total, offset)}
<table data-testid="machine-list"><tr><th>Computer</th><th>State</th><th>Reason</th><th>Scanned</th></tr>
${u.machines.items.map((m) => `<tr><td><a href="/computers/${encodeURIComponent(m.computer)}">${esc(m.computer)}</a></td><td class="${esc(m.state)}">${esc(m.state)}${m.superseded ? ' <span class="muted">(superseded)</span>' : ''}</td><td class="reason">${esc(m.reason)}</td><td>${esc(m.scannedAt)}</td></tr>`).join('')}
</table>`);
}

async function stale(store: SiteStore, url: URL): Promise<string> {
  // The same bounds as GET /v1/reports/stale: a number out of range is 400 naming it, never a date overflow (500).
  const days = intParam(url.searchParams, 'days', 7, 0, 36_500);
  const offset = intParam(url.searchParams, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const p = await staleClients(store, days, PAGE, offset);
  return layout('Stale clients', `<h1>Clients that have not reported for ${days} day(s)</h1>
<form class="search" method="get" action="/stale"><input name="days" value="${days}" aria-label="Days"> <button type="submit">Show</button></form>
${pager('/stale', { days: String(days) }, p.total, offset)}
<table data-testid="stale-list"><tr><th>Computer</th><th>Last upload</th><th>Last scan</th></tr>
${p.items.map((c) => `<tr><td><a href="/computers/${encodeURIComponent(c.name)}">${esc(c.name)}</a></td><td>${esc(c.lastUpload ?? 'never')}</td><td>${esc(c.lastScan ?? 'never')}</td></tr>`).join('')}
</table>`);
}

async function sync(store: SiteStore): Promise<string> {
  const cat = await store.currentCatalog();
  const msgs = await store.syncMessages(100);
  return layout('Sync', `<h1>Catalog sync</h1>
<p data-testid="catalog-in-service">${cat ? `In service: <b>${esc(cat.sha256)}</b> — ${num(cat.revisions)} revisions, imported ${esc(cat.imported_at)}, ${cat.signer ? `signed by ${esc(cat.signer)}${cat.signed_at ? ` on ${esc(cat.signed_at)}` : ''}` : 'unsigned'}` : 'No catalog in service yet.'}</p>
<table data-testid="sync-messages"><tr><th>Time</th><th>Message</th><th>Severity</th><th>Text</th></tr>
${msgs.map((m) => `<tr><td>${esc(m.at)}</td><td>${m.message_id}</td><td>${esc(m.severity)}</td><td>${esc(m.text)}</td></tr>`).join('')}
</table>`);
}

function loginPage(error = ''): string {
  return layout('Sign in', `<h1>Sign in</h1><p>Paste the admin token <code>patchscan init</code> printed.</p>
${error ? `<p class="Required">${esc(error)}</p>` : ''}
<form class="search" method="post" action="/login"><input type="password" name="token" aria-label="Admin token" autofocus> <button type="submit">Sign in</button></form>`);
}

/** The console's request handler; returns false when the path is not a console page. */
export function createConsole(store: SiteStore, catalogs: CatalogVersions, o: { readonly secureCookie?: boolean } = {}): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> {
  // Sessions live in memory: a restart signs everyone out, which is fine for an admin console.
  const sessions = new Map<string, number>();
  const TTL = 8 * 3_600_000;
  const html = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-frame-options': 'DENY', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'", ...headers });
    res.end(body);
  };
  const signedIn = (req: IncomingMessage): boolean => {
    const m = /(?:^|;\s*)ps_session=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '');
    const exp = m ? sessions.get(m[1]!) : undefined;
    return exp !== undefined && exp > Date.now();
  };
  return async (req, res, url) => {
    const p = url.pathname;
    if (p === '/login' && req.method === 'GET') {
      html(res, 200, loginPage());
      return true;
    }
    if (p === '/login' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const c of req as AsyncIterable<Buffer>) {
        n += c.length;
        if (n > 4096) break;
        chunks.push(c);
      }
      const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('token') ?? '';
      const admin = await store.setting('admin_token_hash');
      if (!admin || sha256Hex(token) !== admin) {
        html(res, 401, loginPage('That is not the admin token.'));
        return true;
      }
      const id = randomBytes(24).toString('base64url');
      sessions.set(id, Date.now() + TTL);
      html(res, 303, '', { location: '/', 'set-cookie': `ps_session=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${TTL / 1000}${o.secureCookie ? '; Secure' : ''}` });
      return true;
    }
    const isPage = p === '/' || p === '/computers' || p.startsWith('/computers/') || p.startsWith('/updates/') || p === '/stale' || p === '/sync';
    if (!isPage || req.method !== 'GET') return false;
    if (!signedIn(req)) {
      html(res, 303, '', { location: '/login' });
      return true;
    }
    let body: string | undefined;
    try {
      if (p === '/') body = await overview(store);
      else if (p === '/computers') body = await computers(store, url);
      else if (p.startsWith('/computers/')) body = await computer(store, catalogs, pathParam(p.slice('/computers/'.length), 'computer name'), url);
      else if (p.startsWith('/updates/')) body = await update(store, catalogs, pathParam(p.slice('/updates/'.length), 'update'), url);
      else if (p === '/stale') body = await stale(store, url);
      else body = await sync(store);
    } catch (e) {
      // A bad parameter is the user's to fix: say which, on a page (the JSON API answers the same in JSON).
      if (!(e instanceof HttpError) || e.status >= 500) throw e;
      html(res, e.status, layout('Bad request', `<h1>Bad request</h1><p data-testid="error">${esc(e.message)}</p>`));
      return true;
    }
    if (body === undefined) html(res, 404, layout('Not found', `<h1>Not found</h1><p>${esc(p)} is not an enrolled computer, or an update of the catalog in service.</p>`));
    else html(res, 200, body);
    return true;
  };
}
