/**
 * The reports over HTTP (admin token; a computer's own token may read its own compliance):
 *
 *   GET /v1/summary                          fleet summary
 *   GET /v1/computers?q=&limit=&offset=      computer search
 *   GET /v1/computers/<name>/compliance      one computer's latest scan (?format=csv)
 *   GET /v1/updates/<KB|UpdateId>?state=     one update across the fleet
 *   GET /v1/reports/{collections,classifications,products,stale,trend}
 *   GET /v1/sync                             the sync history
 */
import { toCsv } from '../../report/csv.js';
import { collectionSummary, complianceTrend, computerCompliance, fleetSummary, groupSummary, searchComputers, staleClients, updateCompliance } from '../../site/reports.js';
import { computerKey } from '../../store/computer-name.js';
import { HttpError, intParam, pathParam, send } from '../http.js';
import type { Route } from './context.js';

const COMPLIANCE = /^\/v1\/computers\/([^/]+)\/compliance$/;
const csv = (res: Parameters<Route>[2], rows: readonly object[]): void => {
  res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'cache-control': 'no-store' });
  res.end(toCsv(rows));
};

export const reportRoutes: Route = async (ctx, req, res, url) => {
  if (req.method !== 'GET') return false;
  const p = url.pathname;
  const store = ctx.store;
  const m = COMPLIANCE.exec(p);
  if (m) {
    const name = pathParam(m[1]!, 'computer name');
    if (!(await ctx.isAdmin(req))) {
      const client = await ctx.authClient(req);
      if (computerKey(client.name) !== computerKey(name)) throw new HttpError(403, 'FORBIDDEN', `this token belongs to ${client.name}; it cannot read the compliance of ${name}`);
    }
    const c = await computerCompliance(store, ctx.catalogs, name);
    if (!c) throw new HttpError(404, 'NOT_FOUND', (await store.client(name)) ? `${name} has not been scanned yet` : `no computer named ${name}`);
    if (url.searchParams.get('format') === 'csv') {
      csv(res, c.updates.map((u) => ({ computer: c.computer, kb: u.kb, title: u.title, classification: u.classification, severity: u.severity, state: u.state, superseded: u.superseded, reason: u.reason, scannedAt: c.scannedAt, catalog: c.catalog.sha256 })));
    } else send(res, 200, c);
    return true;
  }
  const isReport = p === '/v1/summary' || p.startsWith('/v1/reports/') || p === '/v1/computers' || p.startsWith('/v1/updates/') || p === '/v1/sync';
  if (!isReport) return false;
  if (!(await ctx.isAdmin(req))) throw new HttpError(401, 'UNAUTHENTICATED', p === '/v1/summary' ? 'the fleet summary needs the admin token' : 'reports need the admin token', { 'www-authenticate': 'Bearer' });
  if (p === '/v1/summary') {
    send(res, 200, await fleetSummary(store));
    return true;
  }
  const q = url.searchParams;
  const limit = intParam(q, 'limit', 100, 1, 1000);
  const offset = intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  let data: unknown;
  let rows: readonly object[];
  switch (p) {
    case '/v1/computers': {
      const page = await searchComputers(store, q.get('q') ?? '', limit, offset);
      data = page;
      rows = page.items;
      break;
    }
    case '/v1/reports/collections': data = rows = await collectionSummary(store); break;
    case '/v1/reports/classifications': data = rows = await groupSummary(store, 'classification'); break;
    case '/v1/reports/products': data = rows = await groupSummary(store, 'product'); break;
    case '/v1/reports/stale': {
      const page = await staleClients(store, intParam(q, 'days', 7, 0, 36_500), limit, offset);
      data = page;
      rows = page.items;
      break;
    }
    case '/v1/reports/trend': data = rows = await complianceTrend(store, intParam(q, 'days', 90, 1, 3_650)); break;
    case '/v1/sync': {
      const messages = await store.syncMessages(limit);
      data = { catalog: (await store.currentCatalog()) ?? null, messages };
      rows = messages;
      break;
    }
    default: {
      if (!p.startsWith('/v1/updates/')) throw new HttpError(404, 'NOT_FOUND', `no report ${p}`);
      const id = pathParam(p.slice('/v1/updates/'.length), 'update');
      const state = q.get('state');
      const u = await updateCompliance(store, ctx.catalogs, id, { ...(state ? { state } : {}), limit, offset });
      if (!u) throw new HttpError(404, 'NOT_FOUND', `no update ${id} in the catalog in service`);
      data = u;
      rows = u.machines.items;
    }
  }
  if (q.get('format') === 'csv') csv(res, rows);
  else send(res, 200, data);
  return true;
};

