/**
 * Console sessions. A session is a random id in an HttpOnly, SameSite=Strict cookie; the store keeps, per session,
 * the SHA-256 of its id (never the id: a copy of the database signs nobody in), its expiry and the hash of the admin
 * token it was opened with. Kept in the site's store, a session is known to every `serve` of the site (two servers
 * behind a load balancer on one PostgreSQL) and survives a restart. A session is valid only while its admin token hash
 * is still the site's: `patchscan admin-token reset` (run in any process, against the shared store) therefore signs
 * every console session out at its next request.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { SessionStore, SettingsStore } from '../../store/port.js';
import { sha256Hex } from '../../store/sql/store.js';

export const SESSION_COOKIE = 'ps_session';
/** How long a session lasts without signing in again. */
export const SESSION_TTL_MS = 8 * 3_600_000;
/** Sessions kept at once; past it the oldest go first (a flood of sign-ins cannot grow the table without bound). */
export const MAX_SESSIONS = 10_000;

const iso = (ms: number): string => new Date(ms).toISOString();

export class ConsoleSessions {
  constructor(
    private readonly store: SettingsStore & SessionStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Opens a session for `token` when it is the admin token; returns its id, or undefined for a wrong token. */
  async signIn(token: string): Promise<string | undefined> {
    const admin = await this.store.setting('admin_token_hash');
    if (!admin || sha256Hex(token) !== admin) return undefined;
    const id = randomBytes(24).toString('base64url');
    const t = this.now();
    await this.store.addSession(
      { idHash: sha256Hex(id), adminHash: admin, createdAt: iso(t), expiresAt: iso(t + SESSION_TTL_MS) },
      iso(t),
      MAX_SESSIONS,
    );
    return id;
  }

  /** The request's session id when it is valid now: not expired, and opened with the current admin token. */
  async current(req: IncomingMessage): Promise<string | undefined> {
    const id = sessionId(req);
    if (id === undefined) return undefined;
    const hash = sha256Hex(id);
    const s = await this.store.session(hash);
    if (!s) return undefined;
    if (Date.parse(s.expires_at) <= this.now() || s.admin_hash !== (await this.store.setting('admin_token_hash'))) {
      await this.store.removeSession(hash);
      return undefined;
    }
    return id;
  }

  signOut(id: string): Promise<void> {
    return this.store.removeSession(sha256Hex(id));
  }
}

function sessionId(req: IncomingMessage): string | undefined {
  const m = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([A-Za-z0-9_-]+)`).exec(req.headers.cookie ?? '');
  return m?.[1];
}
