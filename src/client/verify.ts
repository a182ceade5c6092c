// For the PSP's own endpoints: checks that a card callback or a webhook delivery comes from the wallet
// (the HMAC-SHA256 signature of the Webhooks API over the method, the path and query, x-ms-date, the
// Host header and the raw body's SHA-256; keyed with the client secret for card callbacks and with the
// registration's secret for webhooks), that its date is fresh, and that its body has the published
// shape; and builds the answers to a card callback.
import { createHash, createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import type { CardCallbackRequest, CardCallbackResponse, WebhookEvent } from './epayment-types.ts';

/** A request that is not what the wallet sends; `reason` says why (never the secret). */
export class SignatureError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(`Not a valid signed request: ${reason}`);
    this.name = 'SignatureError';
    this.reason = reason;
  }
}

export interface SignedRequest {
  /** The raw body, exactly as received (a re-serialised JSON changes its hash). */
  body: string | Uint8Array;
  /** The request's headers (Node's IncomingHttpHeaders, a Headers, or a plain object). */
  headers: Headers | Record<string, string | string[] | undefined>;
  /** The path and query as requested, e.g. req.url in Node ("/callbacks/vipps?shop=1"). */
  pathAndQuery: string;
  /** POST by default. */
  method?: string;
  /** The secret: your client_secret for card callbacks, the registration's secret for webhooks. */
  secret: string;
  /** The largest difference allowed between x-ms-date and `now`, in seconds (default 300). */
  maxSkewSeconds?: number;
  now?: Date;
}

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : record[key];
  return Array.isArray(v) ? v[0] : v;
}

/** Verifies the signature and the date of a request; throws a SignatureError, or returns the body as text. */
export function verifySignedRequest(req: SignedRequest): string {
  const date = header(req.headers, 'x-ms-date');
  const hash = header(req.headers, 'x-ms-content-sha256');
  const host = header(req.headers, 'host');
  const authorization = header(req.headers, 'authorization');
  for (const [name, value] of [['x-ms-date', date], ['x-ms-content-sha256', hash], ['host', host], ['authorization', authorization]] as const) {
    if (!value) throw new SignatureError(`the ${name} header is missing`);
  }
  const bytes = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : Buffer.from(req.body);
  if (createHash('sha256').update(bytes).digest('base64') !== hash) throw new SignatureError('x-ms-content-sha256 is not the SHA-256 of the body');
  const match = /^HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=(.+)$/.exec(authorization!);
  if (!match) throw new SignatureError('the Authorization header is not "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=…"');
  // A key object: Node checks a Buffer key given to createHmac several times more slowly.
  const expected = createHmac('sha256', createSecretKey(Buffer.from(req.secret, 'utf8')))
    .update(`${(req.method ?? 'POST').toUpperCase()}\n${req.pathAndQuery}\n${date};${host};${hash}`, 'utf8').digest();
  const given = Buffer.from(match[1], 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new SignatureError('the signature does not match (wrong secret, path, Host or date)');
  const at = Date.parse(date!);
  if (Number.isNaN(at)) throw new SignatureError('x-ms-date is not an RFC 1123 date');
  const skew = Math.abs((req.now ?? new Date()).getTime() - at) / 1000;
  if (skew > (req.maxSkewSeconds ?? 300)) throw new SignatureError(`x-ms-date is ${Math.round(skew)} s away from now`);
  return bytes.toString('utf8');
}

function parseObject(text: string): Record<string, unknown> {
  let value: unknown;
  try { value = JSON.parse(text); } catch { throw new SignatureError('the body is not JSON'); }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SignatureError('the body is not a JSON object');
  return value as Record<string, unknown>;
}

/** A card callback, verified (signature with your client secret, date) and checked; its typed body. */
export function verifyCardCallback(req: SignedRequest): CardCallbackRequest {
  const b = parseObject(verifySignedRequest(req));
  const problems: string[] = [];
  for (const f of ['pspReference', 'authorizationAttemptId', 'merchantSerialNumber', 'softDeclineCompletedRedirectUrl']) {
    if (typeof b[f] !== 'string') problems.push(`${f} is missing`);
  }
  const amount = b.amount as Record<string, unknown> | undefined;
  if (typeof amount?.currency !== 'string' || typeof amount?.value !== 'number') problems.push('amount must be {currency, value}');
  const info = b.cardInfo as Record<string, unknown> | undefined;
  if (typeof info !== 'object' || info === null) {
    problems.push('cardInfo is missing');
  } else if (info.cardDataType === 'TOKEN') {
    if (typeof info.networkToken !== 'object' || info.networkToken === null) problems.push('cardInfo.networkToken is missing');
  } else if (info.cardDataType === 'PAN') {
    if (typeof info.encryptedPan !== 'string') problems.push('cardInfo.encryptedPan is missing');
  } else {
    problems.push('cardInfo.cardDataType must be TOKEN or PAN');
  }
  if (problems.length > 0) throw new SignatureError(`not a card callback: ${problems.join('; ')}`);
  return b as unknown as CardCallbackRequest;
}

/** A webhook delivery, verified (signature with the registration's secret, date) and checked; its typed body. */
export function verifyWebhook(req: SignedRequest): WebhookEvent {
  const b = parseObject(verifySignedRequest(req));
  const missing = ['msn', 'reference', 'pspReference', 'name', 'timestamp'].filter((f) => typeof b[f] !== 'string');
  if (typeof b.success !== 'boolean') missing.push('success');
  if (typeof (b.amount as Record<string, unknown> | undefined)?.value !== 'number') missing.push('amount');
  if (missing.length > 0) throw new SignatureError(`not an ePayment webhook: ${missing.join(', ')} missing`);
  return b as unknown as WebhookEvent;
}

/** The answers to a card callback (send as JSON with HTTP 200, within 20 seconds). */
export const cardCallbackAnswer = {
  /** The card was authorised: the payment becomes AUTHORIZED. */
  reserve(networkTransactionReference?: string): CardCallbackResponse {
    return { status: 'RESERVE', ...(networkTransactionReference === undefined ? {} : { networkTransactionReference }) };
  },
  /** Declined; with an errorCode other than 183 (suspected fraud) the user may try again. */
  fail(errorCode?: number, errorMessage?: string): CardCallbackResponse {
    return { status: 'FAIL', ...(errorCode === undefined ? {} : { errorCode }), ...(errorMessage === undefined ? {} : { errorMessage }) };
  },
  /** 3-D Secure needed: the user is sent to `softDeclineUrl`, and comes back to the callback's softDeclineCompletedRedirectUrl. */
  softDecline(softDeclineUrl: string): CardCallbackResponse {
    return { status: 'SOFT_DECLINE', softDeclineUrl };
  },
};
