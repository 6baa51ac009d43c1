/**
 * Console sessions. A session is a random id in an HttpOnly, SameSite=Strict cookie; the server keeps, per id, its
 * expiry and the hash of the admin token it was opened with. A session is valid only while that hash is still the
 * site's admin token hash: `patchscan admin-token reset` (run in any process, against the shared store) therefore
 * signs every console session out at its next request. Sessions live in memory: a restart signs everyone out too.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { SettingsStore } from '../../store/port.js';
import { sha256Hex } from '../../store/sql/store.js';

export const SESSION_COOKIE = 'ps_session';
/** How long a session lasts without signing in again. */
export const SESSION_TTL_MS = 8 * 3_600_000;
/** Sessions kept at once; past it the oldest go first (a flood of sign-ins cannot grow memory without bound). */
const MAX_SESSIONS = 10_000;

interface Session {
  readonly expires: number;
  /** The admin token hash when the session was opened. */
  readonly adminHash: string;
}

export class ConsoleSessions {
  private readonly sessions = new Map<string, Session>();
  constructor(
    private readonly store: SettingsStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Opens a session for `token` when it is the admin token; returns its id, or undefined for a wrong token. */
  async signIn(token: string): Promise<string | undefined> {
    const admin = await this.store.setting('admin_token_hash');
    if (!admin || sha256Hex(token) !== admin) return undefined;
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(24).toString('base64url');
    this.sessions.set(id, { expires: this.now() + SESSION_TTL_MS, adminHash: admin });
    return id;
  }

  /** The request's session id when it is valid now: not expired, and opened with the current admin token. */
  async current(req: IncomingMessage): Promise<string | undefined> {
    const id = sessionId(req);
    const s = id === undefined ? undefined : this.sessions.get(id);
    if (!s) return undefined;
    if (s.expires <= this.now() || s.adminHash !== (await this.store.setting('admin_token_hash'))) {
      this.sessions.delete(id!);
      return undefined;
    }
    return id;
  }

  signOut(id: string): void {
    this.sessions.delete(id);
  }
}

function sessionId(req: IncomingMessage): string | undefined {
  const m = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([A-Za-z0-9_-]+)`).exec(req.headers.cookie ?? '');
  return m?.[1];
}
