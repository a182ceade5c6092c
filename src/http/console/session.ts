// The operator console's session: a signed, HttpOnly cookie scoped to /console, SameSite=Strict (and
// Secure when PUBLIC_URL is https). Its value is "<expiry>.<HMAC>", signed with the web pages' key
// (stored once in the database, so every process accepts every other's sessions) over the expiry and
// the hash of the operator token: a new ADMIN_TOKEN ends every session made with the old one.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { AdminToken } from '../../operations/admin-token.ts';
import { safeEqual } from '../../security/secrets.ts';

export const CONSOLE_COOKIE = 'vipps_console_session';
export const CONSOLE_SESSION_SECONDS = 12 * 3600;

export class ConsoleSession {
  private readonly key: KeyObject;
  private readonly adminToken: AdminToken;
  readonly secure: boolean;

  constructor(key: Buffer, adminToken: AdminToken, publicUrl: string) {
    this.key = createSecretKey(key);
    this.adminToken = adminToken;
    this.secure = new URL(publicUrl).protocol === 'https:';
  }

  private mac(expires: string): string {
    return createHmac('sha256', this.key).update(`console-session\u0000${expires}\u0000${this.adminToken.hash ?? ''}`).digest('base64url');
  }

  private options(maxAge: number): CookieSerializeOptions {
    return { path: '/console', maxAge, httpOnly: true, sameSite: 'strict', secure: this.secure };
  }

  start(reply: FastifyReply, now: Date): void {
    const expires = String(Math.floor(now.getTime() / 1000) + CONSOLE_SESSION_SECONDS);
    reply.setCookie(CONSOLE_COOKIE, `${expires}.${this.mac(expires)}`, this.options(CONSOLE_SESSION_SECONDS));
  }

  end(reply: FastifyReply): void {
    reply.clearCookie(CONSOLE_COOKIE, this.options(0));
  }

  /** Whether the request carries a valid, unexpired session (and the console is enabled at all). */
  valid(request: FastifyRequest, now: Date): boolean {
    if (this.adminToken.hash === undefined) return false;
    const raw = request.cookies[CONSOLE_COOKIE];
    const m = raw ? /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(raw) : null;
    if (!m) return false;
    if (!safeEqual(m[2], this.mac(m[1]))) return false;
    return Number(m[1]) * 1000 > now.getTime();
  }
}
