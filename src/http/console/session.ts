// The operator console's session: an HttpOnly cookie scoped to /console, SameSite=Strict (and Secure
// when PUBLIC_URL is https), holding a random token. The session itself is a row in the database
// (store/console-sessions.ts; only the token's sha256 is stored), so every process agrees on it: a
// session ends at sign-out, when ended from the console's session list, after
// CONSOLE_IDLE_TIMEOUT_SECONDS without a request, 12 hours after sign-in, or when ADMIN_TOKEN changes,
// and a copy of its cookie is refused from then on, by every process. Sessions run on real time, not
// the test environment's shifted clock: moving the clock never signs the operator out.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { AdminToken } from '../../operations/admin-token.ts';
import type { Database } from '../../store/db.ts';
import {
  credentialName, endConsoleSession, endOtherConsoleSessions, insertConsoleSession, openConsoleSessions, pruneConsoleSessions, useConsoleSession,
  type ConsoleSessionRow,
} from '../../store/console-sessions.ts';
import { OPERATOR, scopeOf, type Principal } from '../../operations/principals.ts';
import { randomToken, sha256 } from '../../security/secrets.ts';

export const CONSOLE_COOKIE = 'vipps_console_session';
export const CONSOLE_SESSION_SECONDS = 12 * 3600;
/** Ended and expired sessions are kept this long for the record, then deleted at a sign-in. */
const KEEP_ENDED_MS = 7 * 24 * 3600_000;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface SessionView {
  sessionId: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  address: string | null;
  userAgent: string | null;
  current: boolean;
  /** A PSP's person's session: the PSP (null: the operator's). */
  pspId: string | null;
}

export class ConsoleSession {
  private readonly database: Database;
  private readonly adminToken: AdminToken;
  private readonly idleMs: number;
  /** A session in use writes its last request at most this often. */
  private readonly touchMs: number;
  /** The session of each request, looked up once however often a request asks. */
  private readonly ofRequest = new WeakMap<FastifyRequest, Promise<ConsoleSessionRow | undefined>>();
  readonly secure: boolean;

  constructor(opts: { database: Database; adminToken: AdminToken; publicUrl: string; idleTimeoutSeconds: number }) {
    this.database = opts.database;
    this.adminToken = opts.adminToken;
    this.idleMs = opts.idleTimeoutSeconds * 1000;
    this.touchMs = Math.min(60_000, Math.max(1000, Math.floor(this.idleMs / 10)));
    this.secure = new URL(opts.publicUrl).protocol === 'https:';
  }

  private options(maxAge: number): CookieSerializeOptions {
    return { path: '/console', maxAge, httpOnly: true, sameSite: 'strict', secure: this.secure };
  }

  private tokenOf(request: FastifyRequest): string | undefined {
    const raw = request.cookies[CONSOLE_COOKIE];
    return raw !== undefined && TOKEN_SHAPE.test(raw) ? raw : undefined;
  }

  /** Signs `principal` in: the operator, or a PSP's person (their session lasts while their credential does). */
  async start(request: FastifyRequest, reply: FastifyReply, principal: Principal = OPERATOR): Promise<void> {
    const adminTokenHash = this.adminToken.hash;
    if (adminTokenHash === undefined) return;
    const token = randomToken(32);
    const now = new Date();
    await pruneConsoleSessions(this.database.db, new Date(now.getTime() - KEEP_ENDED_MS));
    await insertConsoleSession(this.database.db, {
      tokenHash: sha256(token), adminTokenHash: principal.kind === 'psp' ? '' : adminTokenHash, now, expiresAt: new Date(now.getTime() + CONSOLE_SESSION_SECONDS * 1000),
      address: request.ip.slice(0, 64), userAgent: (request.headers['user-agent'] ?? '').slice(0, 300) || null,
      ...(principal.kind === 'psp' ? { credentialId: principal.credentialId, pspId: principal.pspId } : {}),
    });
    reply.setCookie(CONSOLE_COOKIE, token, this.options(CONSOLE_SESSION_SECONDS));
  }

  /** Ends the request's session (sign-out) and clears the cookie. */
  async end(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const token = this.tokenOf(request);
    if (token !== undefined) await endConsoleSession(this.database.db, { tokenHash: sha256(token) }, new Date());
    this.ofRequest.delete(request);
    reply.clearCookie(CONSOLE_COOKIE, this.options(0));
  }

  /** The request's open session (the console enabled at all); undefined when it has none. */
  current(request: FastifyRequest): Promise<ConsoleSessionRow | undefined> {
    let found = this.ofRequest.get(request);
    if (!found) {
      found = this.lookUp(request);
      this.ofRequest.set(request, found);
    }
    return found;
  }

  private async lookUp(request: FastifyRequest): Promise<ConsoleSessionRow | undefined> {
    const adminTokenHash = this.adminToken.hash;
    const token = this.tokenOf(request);
    if (adminTokenHash === undefined || token === undefined) return undefined;
    const now = new Date();
    return useConsoleSession(this.database.db, sha256(token), {
      adminTokenHash, now, idleSince: new Date(now.getTime() - this.idleMs), touchBefore: new Date(now.getTime() - this.touchMs),
    });
  }

  /** Who the request's session is (undefined: none). */
  async principal(request: FastifyRequest): Promise<Principal | undefined> {
    const row = await this.current(request);
    if (!row) return undefined;
    if (row.credentialId === null || row.pspId === null) return OPERATOR;
    return { kind: 'psp', pspId: row.pspId, credentialId: row.credentialId, name: await credentialName(this.database.db, row.credentialId) ?? 'unknown' };
  }

  /** The open sessions (a PSP's person: its PSP's people's), the request's own marked. */
  async list(request: FastifyRequest): Promise<SessionView[]> {
    const adminTokenHash = this.adminToken.hash;
    if (adminTokenHash === undefined) return [];
    const own = await this.current(request);
    const now = new Date();
    const rows = await openConsoleSessions(this.database.db, { adminTokenHash, now, idleSince: new Date(now.getTime() - this.idleMs), pspId: scopeOf(request.principal) });
    return rows.map((r) => ({
      sessionId: r.sessionId, createdAt: r.createdAt, lastSeenAt: r.lastSeenAt, expiresAt: r.expiresAt, address: r.address, userAgent: r.userAgent,
      current: r.sessionId === own?.sessionId, pspId: r.pspId,
    }));
  }

  /** Ends a session by its id (a PSP's person: one of its PSP's people's); whether an open one was ended. */
  endById(request: FastifyRequest, sessionId: string): Promise<boolean> {
    return endConsoleSession(this.database.db, { sessionId, pspId: scopeOf(request.principal) }, new Date());
  }

  /** Ends every session but the request's own (a PSP's person: of its PSP's people); how many were ended. */
  async endOthers(request: FastifyRequest): Promise<number> {
    const own = await this.current(request);
    return own ? endOtherConsoleSessions(this.database.db, own.sessionId, new Date(), scopeOf(request.principal)) : 0;
  }
}
