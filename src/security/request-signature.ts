// The HMAC-SHA256 request signature of the Webhooks API, which the ePayment card callback uses too
// (keyed with the PSP's client secret): headers x-ms-date, x-ms-content-sha256, Host and
// Authorization: "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=…", over
// "POST\n<path and query>\n<x-ms-date>;<host>;<content hash>". The secret is used as text.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SignatureHeaders {
  'x-ms-date': string;
  'x-ms-content-sha256': string;
  host: string;
  authorization: string;
}

export function contentHash(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}

export function stringToSign(method: string, url: URL, date: string, hash: string): string {
  return `${method}\n${url.pathname}${url.search}\n${date};${url.host};${hash}`;
}

/** The headers that sign a POST of `body` to `url` at `date`. */
export function signRequest(url: string, body: string, secret: string, date: Date): SignatureHeaders {
  const target = new URL(url);
  const xMsDate = date.toUTCString();
  const hash = contentHash(body);
  const signature = createHmac('sha256', Buffer.from(secret, 'utf8')).update(stringToSign('POST', target, xMsDate, hash), 'utf8').digest('base64');
  return {
    'x-ms-date': xMsDate,
    'x-ms-content-sha256': hash,
    host: target.host,
    authorization: `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
  };
}

/**
 * Verifies a signed request as its receiver does: the raw body's hash and the signature over the path
 * and query actually requested, the Host header and x-ms-date. Returns why it fails, or undefined.
 */
export function verifyRequest(req: { method: string; pathAndQuery: string; headers: Record<string, string | string[] | undefined>; body: string | Buffer }, secret: string): string | undefined {
  const h = (name: string) => { const v = req.headers[name]; return Array.isArray(v) ? v[0] : v; };
  const date = h('x-ms-date');
  const hash = h('x-ms-content-sha256');
  const host = h('host');
  const authorization = h('authorization');
  if (!date || !hash || !host || !authorization) return 'a signature header is missing';
  if (contentHash(req.body) !== hash) return 'x-ms-content-sha256 is not the hash of the body';
  const match = /^HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=(.+)$/.exec(authorization);
  if (!match) return 'the Authorization header is not an HMAC-SHA256 signature';
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${req.method.toUpperCase()}\n${req.pathAndQuery}\n${date};${host};${hash}`, 'utf8').digest();
  const given = Buffer.from(match[1], 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the signature does not match';
  return undefined;
}
