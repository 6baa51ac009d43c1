/**
 * The reports over HTTP (admin token; a computer's own token may read its own compliance):
 *
 *   GET /v1/summary                          fleet summary
 *   GET /v1/computers?q=&limit=&offset=      computer search
 *   GET /v1/computers/<name>/compliance      one computer's latest scan (?state=, ?superseded=show|hide, ?format=csv)
 *   GET /v1/updates                          every update with its machine counts, most needed first
 *   GET /v1/updates/<KB|UpdateId>?state=     one KB (every update carrying it) across the fleet (?superseded=show|hide)
 *   GET /v1/cves/<CVE-…>                     machines exposed, possibly exposed, unknown, not exposed; /v1/cves?q= searches
 *   GET /v1/reports/{collections,classifications,products,stale,trend}
 *
 * Counts follow the counting rule (engine/scanner/counting.ts); ?state= takes a state name in any case.
 *   GET /v1/sync                             the sync history
 */
import {
  collectionSummary,
  complianceTrend,
  computerCompliance,
  cveCompliance,
  fleetSummary,
  groupSummary,
  isCveId,
  REPORT_STATES,
  searchComputers,
  searchCves,
  staleClients,
  syncHistory,
  updateCompliance,
} from '../../site/reports.js';
import { updateList } from '../../site/update-list.js';
import { NO_CATALOG, notScannedMessage, untargetedBecause, whyNotScanned } from '../../site/not-scanned.js';
import { computerKey } from '../../store/computer-name.js';
import {
  collectionsCsv,
  complianceCsv,
  computersCsv,
  cvesCsv,
  groupRowsCsv,
  machinesCsv,
  staleCsv,
  syncCsv,
  trendCsv,
  updatesCsv,
} from '../../site/report-csv.js';
import { choiceParam, HttpError, intParam, pathParam, send } from '../http.js';
import type { Route } from './context.js';

const COMPLIANCE = /^\/v1\/computers\/([^/]+)\/compliance$/;

// Shared with the CLI and the console (adapters/site/not-scanned.ts); re-exported for the routes that import them here.
export { NO_CATALOG, untargetedBecause, whyNotScanned };

const csv = (res: Parameters<Route>[2], body: string): void => {
  res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
};

const LISTING = ['hide', 'show'] as const;

export const reportRoutes: Route = async (ctx, req, res, url) => {
  if (req.method !== 'GET') return false;
  const p = url.pathname;
  const store = ctx.store;
  const q = url.searchParams;
  const m = COMPLIANCE.exec(p);
  if (m) {
    const name = pathParam(m[1]!, 'computer name');
    if (!(await ctx.isAdmin(req))) {
      const client = await ctx.authClient(req);
      if (computerKey(client.name) !== computerKey(name))
        throw new HttpError(403, 'FORBIDDEN', `this token belongs to ${client.name}; it cannot read the compliance of ${name}`);
    }
    const c = await computerCompliance(store, ctx.catalogs, name, {
      superseded: choiceParam(q, 'superseded', LISTING) ?? 'hide',
      state: choiceParam(q, 'state', REPORT_STATES),
    });
    if (!c) throw new HttpError(404, 'NOT_FOUND', await notScannedMessage(store, name));
    if (q.get('format') === 'csv') csv(res, complianceCsv(c));
    else send(res, 200, c);
    return true;
  }
  const isReport =
    p === '/v1/summary' ||
    p.startsWith('/v1/reports/') ||
    p === '/v1/computers' ||
    p === '/v1/updates' ||
    p.startsWith('/v1/updates/') ||
    p === '/v1/cves' ||
    p.startsWith('/v1/cves/') ||
    p === '/v1/sync';
  if (!isReport) return false;
  if (!(await ctx.isAdmin(req)))
    throw new HttpError(
      401,
      'UNAUTHENTICATED',
      p === '/v1/summary' ? 'the fleet summary needs the admin token' : 'reports need the admin token',
      { 'www-authenticate': 'Bearer' },
    );
  if (p === '/v1/summary') {
    send(res, 200, await fleetSummary(store));
    return true;
  }
  const limit = intParam(q, 'limit', 100, 1, 1000);
  const offset = intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const listing = {
    state: choiceParam(q, 'state', REPORT_STATES),
    superseded: choiceParam(q, 'superseded', LISTING) ?? 'hide',
    limit,
    offset,
  };
  let data: unknown;
  let table: () => string;
  switch (p) {
    case '/v1/computers': {
      const page = await searchComputers(store, q.get('q') ?? '', limit, offset);
      data = page;
      table = () => computersCsv(page.items);
      break;
    }
    case '/v1/updates': {
      // The console's updates list (adapters/site/update-list.ts): most needed first; ?q= searches KB, title and CVEs.
      const all = (await updateList(store, ctx.catalogs, { ...(q.get('q') ? { q: q.get('q')! } : {}) })).updates;
      const items = all.slice(offset, offset + limit);
      data = { total: all.length, offset, limit, items };
      table = () => updatesCsv(items);
      break;
    }
    case '/v1/cves': {
      const found = await searchCves(ctx.catalogs, q.get('q') ?? '', limit, offset);
      data = found;
      table = () => cvesCsv(found.items);
      break;
    }
    case '/v1/reports/collections': {
      const rows = await collectionSummary(store);
      data = rows;
      table = () => collectionsCsv(rows);
      break;
    }
    case '/v1/reports/classifications':
    case '/v1/reports/products': {
      const rows = await groupSummary(store, p === '/v1/reports/products' ? 'product' : 'classification', ctx.catalogs);
      data = rows;
      table = () => groupRowsCsv(rows);
      break;
    }
    case '/v1/reports/stale': {
      const page = await staleClients(store, intParam(q, 'days', 7, 0, 36_500), limit, offset);
      data = page;
      table = () => staleCsv(page.items);
      break;
    }
    case '/v1/reports/trend': {
      const rows = await complianceTrend(store, intParam(q, 'days', 90, 1, 3_650));
      data = rows;
      table = () => trendCsv(rows);
      break;
    }
    case '/v1/sync': {
      const h = await syncHistory(store, limit);
      data = h;
      table = () => syncCsv(h.messages);
      break;
    }
    default: {
      if (p.startsWith('/v1/cves/')) {
        const id = pathParam(p.slice('/v1/cves/'.length), 'CVE');
        if (!isCveId(id))
          throw new HttpError(
            400,
            'BAD_REQUEST',
            `${JSON.stringify(id.slice(0, 40))} is not a CVE id: give CVE-YYYY-NNNN (GET /v1/cves?q=TEXT searches)`,
          );
        const c = await cveCompliance(store, ctx.catalogs, id, listing);
        if (!c) throw new HttpError(404, 'NOT_FOUND', `no update of the catalog in service names ${id}`);
        data = c;
        table = () => machinesCsv(c.machines.items);
        break;
      }
      if (!p.startsWith('/v1/updates/')) throw new HttpError(404, 'NOT_FOUND', `no report ${p}`);
      const id = pathParam(p.slice('/v1/updates/'.length), 'update');
      const u = await updateCompliance(store, ctx.catalogs, id, listing);
      if (!u) throw new HttpError(404, 'NOT_FOUND', `no update ${id} in the catalog in service`);
      data = u;
      table = () => machinesCsv(u.machines.items);
    }
  }
  if (q.get('format') === 'csv') csv(res, table());
  else send(res, 200, data);
  return true;
};
