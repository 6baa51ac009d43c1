/**
 * Console sessions over real HTTP (a real server on loopback, a real SQLite site): sign-in sets an HttpOnly,
 * SameSite=Strict cookie; sign-out ends the session; `patchscan admin-token reset` — run as its own process, as an
 * administrator would — signs every session out at its next request, while a session opened with the new token works;
 * a form posted from another site is refused; a session expires after its time; sessions are stored hashed, and capped.
 * test/console/shared-sessions.test.ts runs two servers on one PostgreSQL database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleSessions, SESSION_TTL_MS } from '../../adapters/server/console/sessions.js';
import { serve, type RunningServer } from '../../adapters/server/server.js';
import { DEFAULT_CONFIG, Site, writeConfig } from '../../adapters/site/site.js';
import { sha256Hex } from '../../adapters/store/sql/store.js';
import { runCliAsync, type CliRun } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

const ADMIN = 'psa_sessions-test-token';

const cli = (args: readonly string[]): Promise<CliRun> => runCliAsync(args);

describe('console sessions', { timeout: 60_000 }, () => {
  const dir = tempDir();
  let site: Site;
  let server: RunningServer;

  beforeAll(async () => {
    writeConfig(dir, { ...DEFAULT_CONFIG, listen: '127.0.0.1:0' });
    site = await Site.open(dir);
    await site.store.setSetting('admin_token_hash', sha256Hex(ADMIN));
    await site.store.setSetting('initialized_at', new Date().toISOString());
    server = await serve(site, { scheduledSync: false, scanQueue: false });
  });
  afterAll(async () => {
    await server?.close();
    await site?.close();
  });

  const signIn = async (token: string): Promise<{ status: number; cookie: string; setCookie: string }> => {
    const r = await fetch(`${server.url}/login`, { method: 'POST', body: new URLSearchParams({ token }), redirect: 'manual' });
    const setCookie = r.headers.get('set-cookie') ?? '';
    return { status: r.status, cookie: setCookie.split(';')[0], setCookie };
  };
  /** Where a page request with `cookie` ends: 200 (the page) or 303 to /login. */
  const page = async (cookie: string, path = '/sync'): Promise<string> => {
    const r = await fetch(`${server.url}${path}`, { headers: { cookie }, redirect: 'manual' });
    return r.status === 303 ? `303 ${r.headers.get('location')}` : String(r.status);
  };

  it('sign-in sets an HttpOnly, SameSite=Strict session cookie (no Secure over plain HTTP); a wrong token gets none', async () => {
    const s = await signIn(ADMIN);
    expect(s.status).toBe(303);
    expect(s.setCookie).toMatch(/^ps_session=[A-Za-z0-9_-]{32}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=28800$/);
    expect(await page(s.cookie)).toBe('200');
    const wrong = await signIn('psa_wrong');
    expect(wrong.status).toBe(401);
    expect(wrong.setCookie).toBe('');
    expect(await page('ps_session=made-up-session-id')).toBe('303 /login');
  });

  it('sign-out ends that session only, and clears the cookie', async () => {
    const a = await signIn(ADMIN);
    const b = await signIn(ADMIN);
    const r = await fetch(`${server.url}/logout`, { method: 'POST', headers: { cookie: a.cookie }, redirect: 'manual' });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/login');
    expect(r.headers.get('set-cookie')).toMatch(/^ps_session=; .*Max-Age=0/);
    expect(await page(a.cookie)).toBe('303 /login');
    expect(await page(b.cookie)).toBe('200');
    // Every page offers the sign-out form.
    const overview = await (await fetch(`${server.url}/`, { headers: { cookie: b.cookie } })).text();
    expect(overview).toContain('<form class="signout" method="post" action="/logout">');
  });

  it('a form posted from another site can neither sign out nor sign in', async () => {
    const s = await signIn(ADMIN);
    const foreign: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'null', 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of foreign) {
      const out = await fetch(`${server.url}/logout`, { method: 'POST', headers: { cookie: s.cookie, ...headers }, redirect: 'manual' });
      expect(out.status).toBe(403);
      const body = new URLSearchParams({ token: ADMIN });
      const inn = await fetch(`${server.url}/login`, { method: 'POST', headers, body, redirect: 'manual' });
      expect(inn.status).toBe(403);
      expect(inn.headers.get('set-cookie')).toBeNull();
    }
    expect(await page(s.cookie)).toBe('200');
    // The console's own origin is accepted.
    const own = await fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { origin: server.url, 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ token: ADMIN }),
      redirect: 'manual',
    });
    expect(own.status).toBe(303);
  });

  it('patchscan admin-token reset signs every console session out; the new token signs in, the old one no longer does', async () => {
    const sessions = await Promise.all([signIn(ADMIN), signIn(ADMIN), signIn(ADMIN)]);
    for (const s of sessions) expect(await page(s.cookie)).toBe('200');
    const r = await cli(['admin-token', 'reset', '--data', dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Every web console session signed in with the old token is signed out.');
    const fresh = /\n\s+(psa_\S+)/.exec(r.out)![1];
    for (const s of sessions) {
      expect(await page(s.cookie)).toBe('303 /login');
      expect(await page(s.cookie, '/computers')).toBe('303 /login');
    }
    expect((await signIn(ADMIN)).status).toBe(401);
    const next = await signIn(fresh);
    expect(next.status).toBe(303);
    expect(await page(next.cookie)).toBe('200');
    // Put back the token the other tests use.
    await site.store.setSetting('admin_token_hash', sha256Hex(ADMIN));
    expect(await page(next.cookie)).toBe('303 /login');
  });

  it('a session expires after its time', async () => {
    let t = 1_000_000;
    const sessions = new ConsoleSessions(site.store, () => t);
    const id = (await sessions.signIn(ADMIN))!;
    const req = { headers: { cookie: `other=1; ps_session=${id}` } } as Parameters<ConsoleSessions['current']>[0];
    expect(await sessions.current(req)).toBe(id);
    t += SESSION_TTL_MS - 1;
    expect(await sessions.current(req)).toBe(id);
    t += 1;
    expect(await sessions.current(req)).toBeUndefined();
  });

  it('the store keeps a session id only hashed, and past its cap the oldest sessions go first', async () => {
    const sessions = new ConsoleSessions(site.store);
    const id = (await sessions.signIn(ADMIN))!;
    expect(await site.store.session(id)).toBeUndefined();
    expect((await site.store.session(sha256Hex(id)))?.admin_hash).toBe(sha256Hex(ADMIN));
    await site.store.removeSessions();
    const far = '2999-01-01T00:00:00.000Z';
    for (const [k, at] of ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04'].entries())
      await site.store.addSession({ idHash: `h${k}`, adminHash: 'a', createdAt: `${at}T00:00:00.000Z`, expiresAt: far }, at, 3);
    expect(await site.store.session('h0')).toBeUndefined();
    for (const h of ['h1', 'h2', 'h3']) expect(await site.store.session(h)).toBeDefined();
    // Expired ones go at the next sign-in.
    await site.store.addSession({ idHash: 'h4', adminHash: 'a', createdAt: far, expiresAt: far }, '3000-01-01T00:00:00.000Z', 3);
    for (const h of ['h1', 'h2', 'h3']) expect(await site.store.session(h)).toBeUndefined();
    await site.store.removeSessions();
  });
});
