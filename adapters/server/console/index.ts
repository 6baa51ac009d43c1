/**
 * The web console, served by `patchscan serve`: the reports as server-rendered pages. No script, no external CDN
 * or network call: HTML, CSS and inline SVG only. Every page needs the admin token (entered once on /login; the
 * browser then holds an HttpOnly, SameSite=Strict session cookie, Secure when the server speaks HTTPS; see
 * sessions.ts). One file per page; html.ts (frame, escaping, formatting), table.ts (lists) and charts.ts are shared.
 * Lists are paginated and every query is indexed, so pages stay fast on 100k clients.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CatalogVersions } from '../../site/reports.js';
import type { SiteStore } from '../../store/port.js';
import { HttpError, intParam, pathParam } from '../http.js';
import { collectionPage } from './collection.js';
import { computerPage } from './computer.js';
import { computersPage } from './computers.js';
import { cvePage, cvesPage } from './cves.js';
import { drillDownPage } from './drilldown.js';
import { groupPage, groupsPage } from './groups.js';
import { esc, layout } from './html.js';
import type { PageContext, PageResult } from './page.js';
import { loginPage } from './login.js';
import { overviewPage } from './overview.js';
import { ConsoleSessions, SESSION_COOKIE, SESSION_TTL_MS } from './sessions.js';
import { stalePage } from './stale.js';
import { syncPage } from './sync.js';
import { PageLists } from './table.js';
import { updatePage } from './update.js';
import { updatesPage } from './updates.js';

interface Route {
  /** Exact path, or a prefix ending in '/' followed by one path segment (the page's parameter). */
  readonly path: string;
  readonly page: (ctx: PageContext, param: string) => PageResult;
  /** What the parameter is, for a bad-encoding message. */
  readonly what: string;
  /** Why a page answers 404. */
  readonly missing: string;
}

const ROUTES: readonly Route[] = [
  { path: '/', page: overviewPage, what: '', missing: '' },
  { path: '/computers', page: computersPage, what: '', missing: '' },
  { path: '/computers/', page: computerPage, what: 'computer name', missing: 'no enrolled computer has that name.' },
  { path: '/updates', page: updatesPage, what: '', missing: '' },
  { path: '/collections/', page: collectionPage, what: 'collection', missing: 'no collection has that name (patchscan collection list).' },
  {
    path: '/classifications/',
    page: drillDownPage('classification'),
    what: 'classification',
    missing: 'no scanned machine has results in that classification.',
  },
  { path: '/products/', page: drillDownPage('product'), what: 'product', missing: 'no scanned machine has results in that product.' },
  { path: '/updates/', page: updatePage, what: 'update', missing: 'not a KB number, UpdateId or RevisionId of the catalog in service.' },
  { path: '/cves', page: cvesPage, what: '', missing: '' },
  { path: '/cves/', page: cvePage, what: 'CVE', missing: 'no update of the catalog in service names that CVE.' },
  { path: '/groups', page: groupsPage, what: '', missing: '' },
  { path: '/groups/', page: groupPage, what: 'group name', missing: 'no update group has that name.' },
  { path: '/stale', page: stalePage, what: '', missing: '' },
  { path: '/sync', page: syncPage, what: '', missing: '' },
];

function findRoute(p: string): (Route & { readonly param?: string }) | undefined {
  for (const r of ROUTES) {
    if (!r.path.endsWith('/') || r.path === '/') {
      if (p === r.path) return r;
    } else if (p.startsWith(r.path) && p.length > r.path.length && !p.slice(r.path.length).includes('/')) {
      return { ...r, param: p.slice(r.path.length) };
    }
  }
  return undefined;
}

/** A CSV download's file name: the page and the list, in plain characters. */
function csvFileName(path: string, list: string): string {
  const base = `${path.replace(/^\/+/, '') || 'overview'}-${list}`.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120);
  return `patchscan-${base}.csv`;
}

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'";

/**
 * Forms post only from the console's own pages. The session cookie is SameSite=Strict (never sent with another
 * site's request); in addition a POST that the browser marks as coming from another site (Sec-Fetch-Site), or whose
 * Origin names another host, is refused, so a form on another site can neither sign the administrator out nor in.
 * (Under the console's Referrer-Policy: no-referrer, browsers send "Origin: null" with its own forms: that alone
 * proves nothing either way.)
 */
function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** The console's request handler; returns false when the path is not a console page. */
export function createConsole(
  store: SiteStore,
  catalogs: CatalogVersions,
  o: { readonly secureCookie?: boolean } = {},
): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> {
  const sessions = new ConsoleSessions(store);
  const cookie = (value: string, maxAge: number): string =>
    `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}${o.secureCookie ? '; Secure' : ''}`;
  const html = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
      'content-security-policy': CSP,
      ...headers,
    });
    res.end(body);
  };
  return async (req, res, url) => {
    const p = url.pathname;
    if (p === '/login' && req.method === 'GET') {
      html(res, 200, loginPage());
      return true;
    }
    if ((p === '/login' || p === '/logout') && req.method === 'POST' && !sameOrigin(req)) {
      html(res, 403, loginPage('This form was sent from another site; open the console and sign in there.'));
      return true;
    }
    if (p === '/logout' && req.method === 'POST') {
      const id = await sessions.current(req);
      if (id) await sessions.signOut(id);
      html(res, 303, '', { location: '/login', 'set-cookie': cookie('', 0) });
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
      const id = await sessions.signIn(token);
      if (!id) {
        html(res, 401, loginPage('That is not the admin token.'));
        return true;
      }
      html(res, 303, '', { location: '/', 'set-cookie': cookie(id, SESSION_TTL_MS / 1000) });
      return true;
    }
    const route = findRoute(p);
    if (!route || req.method !== 'GET') return false;
    if (!(await sessions.current(req))) {
      html(res, 303, '', { location: '/login' });
      return true;
    }
    const lists = new PageLists(url);
    let body: string | undefined;
    try {
      // A malformed page offset is the user's mistake, named before the page looks anything up (a 400, not a 404).
      for (const [k] of url.searchParams) {
        if (k === 'offset' || k.endsWith('.offset')) intParam(url.searchParams, k, 0, 0, Number.MAX_SAFE_INTEGER);
      }
      body = await route.page({ store, catalogs, url, lists }, route.param === undefined ? '' : pathParam(route.param, route.what));
    } catch (e) {
      // A bad parameter is the user's to fix: say which, on a page (the JSON API answers the same in JSON).
      if (!(e instanceof HttpError) || e.status >= 500) throw e;
      html(res, e.status, layout('Bad request', `<h1>Bad request</h1><p data-testid="error">${esc(e.message)}</p>`));
      return true;
    }
    if (body === undefined) {
      html(res, 404, layout('Not found', `<h1>Not found</h1><p>${esc(p)}: ${esc(route.missing)}</p>`));
    } else if (lists.wantsCsv) {
      if (!lists.csv) {
        const list = esc(url.searchParams.get('list') ?? '');
        html(res, 404, layout('Not found', `<h1>Not found</h1><p>This page has no list named ${list}.</p>`));
        return true;
      }
      res.writeHead(200, {
        'content-type': 'text/csv; charset=utf-8',
        'cache-control': 'no-store',
        'content-disposition': `attachment; filename="${csvFileName(p, lists.csv.name)}"`,
      });
      res.end(lists.csv.body);
    } else html(res, 200, body);
    return true;
  };
}
