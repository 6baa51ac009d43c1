/**
 * POST /v1/inventory[?expedited=1]: a client's inventory, JSON or msgpack, gzip allowed, with its own token. The
 * inventory is validated, committed durably with its scan job, and answered 202 with whether a collection targets
 * the computer.
 */
import { Packr } from 'msgpackr';
import { PatchscanError } from '../../../engine/errors.js';
import { decodeInventory, DEFAULT_INVENTORY_LIMITS } from '../../../engine/inventory/validate.js';
import type { Inventory } from '../../../engine/inventory/types.js';
import { variantOf } from '../../site/objects.js';
import { TargetingSnapshot } from '../../site/targeting.js';
import { computerKey } from '../../store/computer-name.js';
import { HttpError, inflate, RateLimiter, readBody, send } from '../http.js';
import { NO_CATALOG, untargetedBecause } from '../../site/not-scanned.js';
import type { Route } from './context.js';
import { GroupCommit } from './group-commit.js';
import { osName } from '../../site/os-name.js';

const packr = new Packr({ useRecords: false });

/**
 * `fn`, with callers that come while a call is running given that call's answer: a read started at most one
 * round trip before they asked, after their own upload committed or while it did.
 */
function shared<T>(fn: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () =>
    (running ??= fn().finally(() => {
      running = undefined;
    }));
}

export function uploadRoute(ctx: Parameters<Route>[0]): Route {
  const limits = ctx.site.config.limits;
  const inventoryLimits = { ...DEFAULT_INVENTORY_LIMITS, maxBytes: limits.maxInventoryBytes };
  const limiter = new RateLimiter(limits.uploadsPerMinute);
  // Retention (limits.inventoriesPerClient, limits.storedBytesPerClient) is applied in the group commit.
  const commits = new GroupCommit(ctx.store, limits);
  const targeting = new TargetingSnapshot(ctx.store);
  // What every 202 reports (the program that will scan it, whether a catalog is in service) is read once for the
  // uploads that want it at the same time, not once each: on PostgreSQL each read is a round trip and the
  // server's CPU. A catalog, once in service, stays in service (a sync only replaces it), so that is kept.
  const currentTargeting = shared(() => targeting.current());
  let catalogInService = false;
  const hasCatalog = shared(async () => (catalogInService ||= (await ctx.store.currentCatalog()) !== undefined));

  return async (ctx, req, res, url) => {
    if (url.pathname !== '/v1/inventory') return false;
    if (req.method !== 'POST')
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method ?? ''} /v1/inventory: an inventory is sent with POST`, {
        allow: 'POST',
      });
    const client = await ctx.authClient(req);
    const retry = limiter.take(client.id);
    if (retry !== undefined)
      throw new HttpError(429, 'TOO_MANY_REQUESTS', `more than ${limits.uploadsPerMinute} uploads in a minute from ${client.name}`, {
        'retry-after': String(retry),
      });
    let body = await readBody(req, limits.maxUploadBytes);
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding === 'gzip') body = await inflate(body, limits.maxInventoryBytes);
    else if (encoding !== 'identity')
      throw new HttpError(415, 'UNSUPPORTED_ENCODING', `Content-Encoding ${encoding} is not supported (send identity or gzip)`);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const format =
      type === 'application/json'
        ? 'json'
        : type === 'application/msgpack' || type === 'application/x-msgpack' || type === 'application/vnd.msgpack'
          ? 'msgpack'
          : undefined;
    if (!format)
      throw new HttpError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `Content-Type must be application/json or application/msgpack, got ${JSON.stringify(type)}`,
      );
    // Ill-formed UTF-8 (JSON, or a msgpack string) is refused by decodeInventory, naming the byte offset: 400.
    let inv: Inventory;
    try {
      inv = decodeInventory(body, 'upload', format, inventoryLimits);
    } catch (e) {
      if (PatchscanError.is(e)) throw new HttpError(e.message.includes('bytes allowed') ? 413 : 400, e.code, e.message);
      throw e;
    }
    if (computerKey(inv.computer.name) !== computerKey(client.name)) {
      throw new HttpError(403, 'FORBIDDEN', `this token belongs to ${client.name}; it cannot upload the inventory of ${inv.computer.name}`);
    }
    const expedited = url.searchParams.get('expedited') === '1' || url.searchParams.get('expedited') === 'true';
    const arch = variantOf(inv.processor?.architecture) ?? 'other';
    const stored = Buffer.from(packr.pack(inv));
    // Committed (fsync'd) before we answer: an accepted upload survives a crash or a power cut. Uploads arriving
    // together share one transaction (group commit): one fsync for many, each answered after it.
    const id = await commits.add({ clientId: client.id, body: stored, arch, os: osName(inv.os), expedited });
    ctx.metrics.uploadsAccepted++;
    // The program that will scan it — as the scan worker chooses: an expedited job without an expedited program of
    // its own is scanned by the normal one.
    const who = { name: client.name, architecture: arch };
    const t = await currentTargeting();
    const target = t.program(who, expedited) ?? (expedited ? t.program(who, false) : undefined);
    // When it will not be scanned soon, the answer says why (and GET /v1/computers/NAME/compliance says the same).
    const waiting = [
      untargetedBecause(arch, target !== undefined, 'this computer yet'),
      (await hasCatalog()) ? undefined : NO_CATALOG,
    ].filter((w) => w !== undefined);
    ctx.kick();
    send(res, 202, {
      accepted: true,
      computer: client.name,
      inventory: id,
      queued: expedited ? 'expedited' : 'normal',
      targeted: target !== undefined,
      ...(target ? { program: target.program, collection: target.collection } : {}),
      ...(waiting.length > 0 ? { note: waiting.join('; and ') } : {}),
    });
    return true;
  };
}
