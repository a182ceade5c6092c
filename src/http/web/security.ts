// Security of the user-facing pages: response headers (a strict CSP without inline script or style),
// the app simulator's signed session cookie, and CSRF protection for every form. Cookies are read and
// written through @fastify/cookie (registered for the pages' scope in routes.ts); their values are
// signed here, with the key below.
//
// CSRF: a signed double-submit token. Each browser gets a random nonce in a cookie; forms carry
// HMAC(key, nonce) in a hidden field. A POST is accepted only when the field matches the HMAC of the
// cookie it arrives with; another site can neither read the cookie nor compute the HMAC. A present
// Origin header must also name this host.
//
// The HMAC key is random, stored once in the settings table and shared by every process on the database.
import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../../store/db.ts';
import { sharedKey } from '../../store/keys.ts';
import { safeEqual } from '../../security/secrets.ts';

const KEY_SETTING = 'web.hmac_key';
export const SESSION_COOKIE = 'vipps_app_session';
export const CSRF_COOKIE = 'vipps_csrf';
/** The form field of the CSRF token (written by src/http/views/partials/csrf.eta). */
export const CSRF_FIELD = '_csrf';
const SESSION_TTL_SECONDS = 12 * 3600;

export class WebError extends Error {
  readonly status: number;
  readonly title: string;
  constructor(status: number, title: string, message: string) {
    super(message);
    this.name = 'WebError';
    this.status = status;
    this.title = title;
  }
}

export function csrfRefused(): WebError {
  return new WebError(403, 'Request refused',
    'This form could not be verified (its security token is missing or out of date). Go back, reload the page and try again.');
}

/** The HMAC key of the web pages, created on first use and shared through the database. */
export async function loadWebKey(database: Database): Promise<Buffer> {
  return sharedKey(database.db, KEY_SETTING);
}

export class WebSecurity {
  private readonly key: KeyObject;
  private readonly secureCookies: boolean;
  private readonly publicOrigin: string;

  constructor(key: Buffer, publicUrl: string) {
    this.key = createSecretKey(key);
    this.publicOrigin = new URL(publicUrl).origin;
    this.secureCookies = this.publicOrigin.startsWith('https:');
  }

  get hsts(): boolean {
    return this.secureCookies;
  }

  private mac(purpose: string, value: string): string {
    return createHmac('sha256', this.key).update(`${purpose}\u0000${value}`).digest('base64url');
  }

  /** Every cookie of the pages: the whole site, not for scripts, not sent on cross-site posts, https-only behind https. */
  private cookieOptions(maxAgeSeconds?: number): CookieSerializeOptions {
    return { path: '/', maxAge: maxAgeSeconds, httpOnly: true, sameSite: 'lax', secure: this.secureCookies };
  }

  // ---- CSRF ----

  /** The token for this browser's forms; sets the nonce cookie when the browser has none yet. */
  csrfToken(request: FastifyRequest, reply: FastifyReply): string {
    let nonce = request.cookies[CSRF_COOKIE];
    if (!nonce || !/^[A-Za-z0-9_-]{32}$/.test(nonce)) {
      nonce = randomBytes(24).toString('base64url');
      reply.setCookie(CSRF_COOKIE, nonce, this.cookieOptions(30 * 24 * 3600));
      // A form rendered later in the same request must carry the token of the new nonce too.
      request.cookies[CSRF_COOKIE] = nonce;
    }
    return this.mac('csrf', nonce);
  }

  /** Throws a 403 unless the POST carries the token of its cookie and comes from this host. */
  checkCsrf(request: FastifyRequest, body: FormBody): void {
    const origin = header(request, 'origin');
    if (origin !== undefined && origin !== 'null') {
      let host: string | undefined;
      try { host = new URL(origin).host; } catch { host = undefined; }
      if (host === undefined || (host !== header(request, 'host') && origin !== this.publicOrigin)) throw csrfRefused();
    }
    const nonce = request.cookies[CSRF_COOKIE];
    const sent = body[CSRF_FIELD];
    if (!nonce || !sent || !safeEqual(sent, this.mac('csrf', nonce))) throw csrfRefused();
  }

  // ---- the app simulator's session ----

  startSession(reply: FastifyReply, phone: string, now: Date): void {
    const expires = Math.floor(now.getTime() / 1000) + SESSION_TTL_SECONDS;
    const value = `${phone}.${expires}`;
    reply.setCookie(SESSION_COOKIE, `${value}.${this.mac('session', value)}`, this.cookieOptions(SESSION_TTL_SECONDS));
  }

  endSession(reply: FastifyReply): void {
    reply.clearCookie(SESSION_COOKIE, this.cookieOptions());
  }

  /** The phone number of the logged-in user, if the session cookie is valid and not expired. */
  sessionPhone(request: FastifyRequest, now: Date): string | undefined {
    const raw = request.cookies[SESSION_COOKIE];
    const m = raw ? /^(\d{8})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(raw) : null;
    if (!m) return undefined;
    const [, phone, expires, sig] = m;
    if (!safeEqual(sig, this.mac('session', `${phone}.${expires}`))) return undefined;
    if (Number(expires) * 1000 <= now.getTime()) return undefined;
    return phone;
  }
}

// ---- headers ----

export interface PageHeaderOptions {
  /** Origins (besides none) the page may frame: the PSP's 3-D Secure page, and ourselves after its redirect. */
  frameSrc?: string[];
  /** Who may frame this page. Only the 3-D Secure return page may be framed, by the app itself. */
  frameAncestors?: 'none' | 'self';
  hsts?: boolean;
}

/** The security headers of every user-facing page: no inline script or style, nothing from elsewhere. */
export function applyPageHeaders(reply: FastifyReply, opts: PageHeaderOptions = {}): void {
  const ancestors = opts.frameAncestors === 'self' ? "'self'" : "'none'";
  const frames = opts.frameSrc && opts.frameSrc.length > 0 ? opts.frameSrc.join(' ') : "'none'";
  reply.header('content-security-policy', [
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
    "form-action 'self'", "base-uri 'none'", `frame-src ${frames}`, `frame-ancestors ${ancestors}`,
  ].join('; '));
  reply.header('x-frame-options', opts.frameAncestors === 'self' ? 'SAMEORIGIN' : 'DENY');
  reply.header('x-content-type-options', 'nosniff');
  // The landing page's URL carries the payment's token: never send it on as a Referer.
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('cross-origin-resource-policy', 'same-origin');
  reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
  reply.header('cache-control', 'no-store');
  if (opts.hsts) reply.header('strict-transport-security', 'max-age=31536000');
}

/** A frame-src source for a URL, or undefined when the URL's origin cannot be named safely in a CSP. */
export function frameSourceOf(url: string): string | undefined {
  let origin: string;
  try { origin = new URL(url).origin; } catch { return undefined; }
  return /^https?:\/\/[A-Za-z0-9.\-[\]:]+$/.test(origin) ? origin : undefined;
}

// ---- requests and forms ----

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A parsed form body: only string fields, first value wins, no prototype. */
export type FormBody = Record<string, string | undefined>;

export function formBody(body: unknown): FormBody {
  const out: FormBody = Object.create(null);
  if (body instanceof URLSearchParams) {
    for (const [k, v] of body) if (!(k in out)) out[k] = v;
  } else if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}
