// Access tokens for the clients: cached, renewed before they expire, one fetch shared by concurrent
// callers. PSP API v3 spells the endpoint /accessToken/get, the ePayment API /accesstoken/get; the
// server (and Vipps) answer both.

export interface TokenOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  subscriptionKey: string;
  /** Renew the token this many seconds before it expires (default 60, or half its lifetime when that is shorter). */
  renewBeforeSeconds?: number;
  fetch: typeof fetch;
  path: '/accessToken/get' | '/accesstoken/get';
}

/** What the token endpoint refused with. */
export interface TokenRefusal {
  status: number;
  error: string;
  message: string;
  contextId?: string;
}

export class AccessTokens {
  readonly #options: TokenOptions;
  readonly #refused: (r: TokenRefusal) => Error;
  #token: { value: string; renewAt: number } | undefined;
  #pending: Promise<{ value: string; renewAt: number }> | undefined;
  /** How many tokens were fetched (for tests and logs). */
  fetches = 0;

  constructor(options: TokenOptions, refused: (r: TokenRefusal) => Error) {
    this.#options = options;
    this.#refused = refused;
  }

  /** A valid token: the cached one, or a new one when it is about to expire. */
  async get(): Promise<string> {
    if (this.#token && Date.now() < this.#token.renewAt) return this.#token.value;
    this.#pending ??= this.#fetch().finally(() => { this.#pending = undefined; });
    return (await this.#pending).value;
  }

  clear(): void {
    this.#token = undefined;
  }

  async #fetch(): Promise<{ value: string; renewAt: number }> {
    this.fetches++;
    const started = Date.now();
    const o = this.#options;
    const response = await o.fetch(`${o.baseUrl}${o.path}`, {
      method: 'POST',
      headers: { client_id: o.clientId, client_secret: o.clientSecret, 'Ocp-Apim-Subscription-Key': o.subscriptionKey },
    });
    const text = await response.text();
    let body: { access_token?: unknown; expires_in?: unknown; message?: unknown; error?: unknown; contextId?: unknown } | undefined;
    try { body = JSON.parse(text); } catch { body = undefined; }
    if (!response.ok || typeof body?.access_token !== 'string') {
      throw this.#refused({
        status: response.status,
        error: typeof body?.error === 'string' ? body.error : String(response.status),
        message: typeof body?.message === 'string' ? body.message : text.slice(0, 300) || response.statusText,
        ...(typeof body?.contextId === 'string' ? { contextId: body.contextId } : {}),
      });
    }
    const lifetime = Number(body.expires_in);
    const seconds = Number.isFinite(lifetime) && lifetime > 0 ? lifetime : 3600;
    const margin = o.renewBeforeSeconds ?? Math.min(60, seconds / 2);
    const token = { value: body.access_token, renewAt: started + (seconds - margin) * 1000 };
    this.#token = token;
    return token;
  }
}

/** Throws unless every named option is a non-empty string. */
export function requireOptions(client: string, options: object, names: readonly string[]): void {
  for (const name of names) {
    const value = (options as Record<string, unknown>)[name];
    if (typeof value !== 'string' || value === '') throw new TypeError(`${client}: ${name} is required`);
  }
}

/**
 * A request with the current token as `Authorization: Bearer …`; answered 401 (a token revoked or
 * expired early), it fetches a new token and is sent once more. Answers the status and the body text.
 */
export async function sendAuthorized(
  tokens: AccessTokens, send: typeof fetch, url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
): Promise<{ status: number; ok: boolean; text: string; headers: Headers }> {
  for (let attempt = 1; ; attempt++) {
    const response = await send(url, { ...init, headers: { Authorization: `Bearer ${await tokens.get()}`, ...init.headers } });
    const text = await response.text();
    if (response.status === 401 && attempt === 1) {
      tokens.clear();
      continue;
    }
    return { status: response.status, ok: response.ok, text, headers: response.headers };
  }
}
