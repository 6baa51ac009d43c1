/**
 * Software update groups over HTTP (admin token, like every report):
 *
 *   GET    /v1/groups                                   every group with the fleet's compliance (?format=csv)
 *   POST   /v1/groups                                   make one: {"name", "kbs", "releasedAfter", "releasedBefore",
 *                                                       "classifications", "products", "deadline"} → 201
 *   GET    /v1/groups/<name>                            how it was made, its updates, compliance per collection (?format=csv)
 *   PATCH  /v1/groups/<name>                            {"deadline": "2026-12-24" | null}
 *   DELETE /v1/groups/<name>                            → 204
 *   POST   /v1/groups/<name>/updates                    {"add": ["KB…", UpdateId…]} and/or {"remove": […]}
 *   GET    /v1/groups/<name>/computers?collection=&state=&overdue=1&limit=&offset=   (?format=csv)
 *   GET    /v1/groups/<name>/computers/<computer>       each update of the group on one computer
 *
 * Bad input is 400 with the same message the CLI prints; an unknown group, computer or collection 404; a name in use 409.
 */
import type { IncomingMessage } from 'node:http';
import { PatchscanError } from '../../../engine/errors.js';
import { groupCollectionsCsv, groupComputerCsv, groupComputersCsv, groupsCsv } from '../../site/report-csv.js';
import {
  addToGroup,
  createUpdateGroup,
  criteriaFrom,
  deleteUpdateGroup,
  GROUP_STATES,
  groupComputer,
  groupComputers,
  listUpdateGroups,
  parseDeadline,
  removeFromGroup,
  setGroupDeadline,
  updateGroupDetail,
} from '../../site/update-groups.js';
import { HttpError, intParam, pathParam, readBody, send } from '../http.js';
import type { Route } from './context.js';

const GROUP = /^\/v1\/groups\/([^/]+)(?:\/(updates|computers)(?:\/([^/]+))?)?$/;

/** A group's JSON body is small: names, KBs, dates. */
const MAX_BODY = 64 * 1024;

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req, MAX_BODY);
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8') || '{}');
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'the body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'BAD_REQUEST', 'the body must be a JSON object');
  return v as Record<string, unknown>;
}

const strings = (body: Record<string, unknown>, key: string): string[] | undefined => {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  throw new HttpError(400, 'BAD_REQUEST', `"${key}" must be a string or an array of strings`);
};

const text = (body: Record<string, unknown>, key: string): string | undefined => {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, 'BAD_REQUEST', `"${key}" must be a string`);
  return v;
};

/** The group logic's errors as HTTP answers. */
function asHttp(e: unknown): unknown {
  if (!PatchscanError.is(e)) return e;
  if (e.code === 'NOT_FOUND') return new HttpError(404, 'NOT_FOUND', e.message);
  if (e.code === 'BAD_ARGUMENT')
    return e.details.group === 'exists' ? new HttpError(409, 'CONFLICT', e.message) : new HttpError(400, 'BAD_REQUEST', e.message);
  return e;
}

const csv = (res: Parameters<Route>[2], body: string): void => {
  res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
};

export const groupRoutes: Route = async (ctx, req, res, url) => {
  const p = url.pathname;
  if (p !== '/v1/groups' && !p.startsWith('/v1/groups/')) return false;
  if (!(await ctx.isAdmin(req)))
    throw new HttpError(401, 'UNAUTHENTICATED', 'update groups need the admin token', { 'www-authenticate': 'Bearer' });
  const { store, catalogs } = ctx;
  const q = url.searchParams;
  const wantCsv = q.get('format') === 'csv';
  const method = req.method ?? 'GET';
  try {
    if (p === '/v1/groups') {
      if (method === 'GET') {
        const groups = await listUpdateGroups(store, catalogs);
        if (wantCsv) csv(res, groupsCsv(groups));
        else send(res, 200, groups);
        return true;
      }
      if (method === 'POST') {
        const body = await jsonBody(req);
        const name = text(body, 'name');
        if (name === undefined) throw new HttpError(400, 'BAD_REQUEST', '"name" is required');
        const releasedAfter = text(body, 'releasedAfter'),
          releasedBefore = text(body, 'releasedBefore'),
          deadline = text(body, 'deadline');
        const kbs = strings(body, 'kbs'),
          classifications = strings(body, 'classifications'),
          products = strings(body, 'products');
        const criteria = criteriaFrom({
          ...(kbs ? { kbs } : {}),
          ...(releasedAfter !== undefined ? { releasedAfter } : {}),
          ...(releasedBefore !== undefined ? { releasedBefore } : {}),
          ...(classifications ? { classifications } : {}),
          ...(products ? { products } : {}),
        });
        const g = await createUpdateGroup(
          store,
          catalogs,
          name,
          criteria,
          deadline === undefined ? null : parseDeadline('deadline', deadline),
        );
        send(res, 201, g, { location: `/v1/groups/${encodeURIComponent(g.name)}` });
        return true;
      }
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} ${p}: use GET or POST`, { allow: 'GET, POST' });
    }
    const m = GROUP.exec(p);
    if (!m) throw new HttpError(404, 'NOT_FOUND', `no route ${method} ${p}`);
    const name = pathParam(m[1]!, 'group name');
    const sub = m[2];
    if (sub === undefined) {
      if (method === 'GET') {
        const g = await updateGroupDetail(store, catalogs, name);
        if (wantCsv) csv(res, groupCollectionsCsv(g.collections));
        else send(res, 200, g);
      } else if (method === 'PATCH') {
        const body = await jsonBody(req);
        if (!('deadline' in body)) throw new HttpError(400, 'BAD_REQUEST', 'send {"deadline": "YYYY-MM-DD" | "2026-12-24T18:00Z" | null}');
        const d = text(body, 'deadline');
        send(res, 200, await setGroupDeadline(store, name, d === undefined ? null : parseDeadline('deadline', d)));
      } else if (method === 'DELETE') {
        await deleteUpdateGroup(store, name);
        res.writeHead(204, { 'cache-control': 'no-store' });
        res.end();
      } else throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} ${p}: use GET, PATCH or DELETE`, { allow: 'GET, PATCH, DELETE' });
      return true;
    }
    if (sub === 'updates') {
      if (method !== 'POST' || m[3] !== undefined)
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} ${p}: POST {"add": […], "remove": […]} to /v1/groups/<name>/updates`, {
          allow: 'POST',
        });
      const body = await jsonBody(req);
      const add = strings(body, 'add'),
        remove = strings(body, 'remove');
      if (!add && !remove) throw new HttpError(400, 'BAD_REQUEST', 'send {"add": ["KB…"]} and/or {"remove": ["KB…"]}');
      // One transaction: a refused KB leaves the group as it was.
      const r = await store.transaction(async (tx) => ({
        added: add ? (await addToGroup(tx, catalogs, name, add)).added : 0,
        removed: remove ? (await removeFromGroup(tx, name, remove)).removed : 0,
      }));
      send(res, 200, { ...r, updates: (await store.updateGroup(name))!.updates });
      return true;
    }
    if (method !== 'GET') throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} ${p}: use GET`, { allow: 'GET' });
    if (m[3] !== undefined) {
      const c = await groupComputer(store, catalogs, name, pathParam(m[3], 'computer name'));
      if (wantCsv) csv(res, groupComputerCsv(c.updates));
      else send(res, 200, c);
      return true;
    }
    const rawState = q.get('state');
    const state = rawState === null || rawState === '' ? undefined : GROUP_STATES.find((s) => s.toLowerCase() === rawState.toLowerCase());
    if (rawState && !state)
      throw new HttpError(
        400,
        'BAD_REQUEST',
        `query parameter state=${JSON.stringify(rawState.slice(0, 40))} must be one of ${GROUP_STATES.join(', ')}`,
      );
    const overdue = q.get('overdue');
    if (overdue !== null && !['', '0', '1', 'true', 'false'].includes(overdue))
      throw new HttpError(400, 'BAD_REQUEST', 'query parameter overdue must be 1 or 0');
    const collection = q.get('collection');
    const page = await groupComputers(store, catalogs, name, {
      ...(collection ? { collection } : {}),
      ...(state ? { state: state } : {}),
      ...(overdue === '1' || overdue === 'true' || overdue === '' ? { overdue: true } : {}),
      limit: intParam(q, 'limit', 100, 1, 1000),
      offset: intParam(q, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
    });
    if (wantCsv) csv(res, groupComputersCsv(page.items));
    else send(res, 200, page);
    return true;
  } catch (e) {
    throw asHttp(e);
  }
};
