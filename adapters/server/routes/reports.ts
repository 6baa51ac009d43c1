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
import { targetingProgram } from '../../site/targeting.js';
import { computerKey } from '../../store/computer-name.js';
import type { ClientRow, SiteStore } from '../../store/port.js';
import { HttpError, intParam, pathParam, send } from '../http.js';
import type { Route } from './context.js';

const COMPLIANCE = /^\/v1\/computers\/([^/]+)\/compliance$/;

const SCANNED_VARIANTS = new Set(['x86', 'x64', 'ia64', 'arm64']);

/** Why an accepted inventory of this architecture waits for targeting, or undefined when a program targets it. */
export function untargetedBecause(architecture: string | null, targeted: boolean, subject = 'it'): string | undefined {
  if (targeted) return undefined;
  return architecture && SCANNED_VARIANTS.has(architecture)
    ? `no advertised collection targets ${subject} (architecture ${architecture}): the inventory is kept and scanned once a collection that advertises the ${architecture} scan program includes it (patchscan collection unlimit, or add it as a member)`
    : `no advertised collection targets ${subject}: its architecture (${architecture ?? 'unknown'}) has no scan program (x86, x64, IA64 and ARM64 have one), so the inventory is kept but not scanned`;
}

export const NO_CATALOG = 'no catalog is in service yet: run patchscan sync (the inventory is kept and scanned after the first sync)';

/**
 * Why an enrolled computer has no scan to show — every cause that applies, in words an admin can act on: no
 * inventory yet; no catalog in service; no advertised collection targets it (naming its architecture); its scan
 * failed; or it is queued and waiting for a scan worker.
 */
export async function whyNotScanned(store: SiteStore, client: ClientRow): Promise<string> {
  if (client.last_upload_at === null) return 'it has not uploaded an inventory yet (patchscan upload, on the client)';
  const because: string[] = [];
  if (!(await store.currentCatalog())) because.push(NO_CATALOG);
  const targeted = (await targetingProgram(store, client, false)) !== undefined || (await targetingProgram(store, client, true)) !== undefined;
  const untargeted = untargetedBecause(client.architecture, targeted);
  if (untargeted) because.push(untargeted);
  if (because.length > 0) return because.join('; and ');
  const failed = (await store.failedScans(200)).find((f) => f.clientId === client.id && f.failedAt >= client.last_upload_at!);
  if (failed) return `its scan failed: ${failed.error} (patchscan queue status lists failed scans; patchscan rescan ${client.name} tries again)`;
  const q = await store.queueStatus();
  return `its inventory is queued for a scan (${q.queued.expedited + q.queued.normal} waiting, ${q.active} running; patchscan serve or patchscan worker runs them)`;
}
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
    if (!c) {
      const client = await store.client(name);
      throw new HttpError(404, 'NOT_FOUND', client ? `${client.name} has not been scanned yet: ${await whyNotScanned(store, client)}` : `no computer named ${name}`);
    }
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

