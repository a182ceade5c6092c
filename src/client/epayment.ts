// A typed client of the ePayment API for PSPs (card passthrough) and of the Webhooks API: create, get,
// events, capture, refund, cancel and the test-only force approve; register, list and delete
// webhooks. Access tokens from /accesstoken/get, cached and renewed (token.ts); errors are the APIs'
// Problem JSON, thrown as VippsProblemError. Uses the global fetch of Node 22 and later.
import { randomUUID } from 'node:crypto';
import { AccessTokens, requireOptions, sendAuthorized } from './token.ts';
import type {
  Amount, CreatePaymentRequest, CreatePaymentResponse, GetPaymentResponse, ModificationResponse, PaymentEvent, WebhookEventType,
  WebhookRegistration, RegisteredWebhook,
} from './epayment-types.ts';

/** An error answer of the ePayment, Webhooks or Recurring API (RFC 7807 Problem JSON; ErrorV3). */
export class VippsProblemError extends Error {
  readonly status: number;
  readonly title: string | undefined;
  readonly detail: string | undefined;
  /** The published error code (extraDetails' ErrorCode), e.g. "6090"; undefined when the answer has none. */
  readonly code: string | undefined;
  /** Every extraDetails entry: the ErrorCode, or one per field of a schema error. */
  readonly extraDetails: Array<{ name: string; reason: string }>;
  readonly traceId: string | undefined;
  /** The Recurring API's id of the request (its ErrorV3 has contextId where the others have traceId). */
  readonly contextId: string | undefined;

  constructor(status: number, body: unknown, what: string) {
    const p = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const extra = Array.isArray(p.extraDetails)
      ? p.extraDetails.filter((d): d is { name: string; reason: string } => typeof d?.name === 'string' && typeof d?.reason === 'string')
      : [];
    const code = extra.find((d) => d.name === 'ErrorCode')?.reason;
    const detail = typeof p.detail === 'string' ? p.detail : undefined;
    const fields = extra.filter((d) => d.name !== 'ErrorCode').map((d) => `${d.name}: ${d.reason}`).join('; ');
    super(`${what} answered ${status}${code ? ` (${code})` : ''}: ${detail ?? (typeof body === 'string' ? body.slice(0, 300) : `HTTP ${status}`)}${fields ? ` [${fields}]` : ''}`);
    this.name = 'VippsProblemError';
    this.status = status;
    this.title = typeof p.title === 'string' ? p.title : undefined;
    this.detail = detail;
    this.code = code;
    this.extraDetails = extra;
    this.traceId = typeof p.traceId === 'string' ? p.traceId : undefined;
    this.contextId = typeof p.contextId === 'string' ? p.contextId : undefined;
  }
}

export interface EpaymentClientOptions {
  /** This server's URL, or Vipps' (https://apitest.vipps.no, https://api.vipps.no). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  subscriptionKey: string;
  pspId: string;
  /** The sales unit of calls that name none themselves. */
  merchantSerialNumber?: string;
  renewBeforeSeconds?: number;
  /** Vipps-System-Name and friends, sent with every call (at most 30 characters each). */
  systemHeaders?: Partial<Record<'Vipps-System-Name' | 'Vipps-System-Version' | 'Vipps-System-Plugin-Name' | 'Vipps-System-Plugin-Version', string>>;
  fetch?: typeof fetch;
}

export interface CallOptions {
  /** The Merchant-Serial-Number; the client's when absent. */
  merchantSerialNumber?: string;
  signal?: AbortSignal;
}

export interface KeyedOptions extends CallOptions {
  /** The Idempotency-Key (at most 50 characters); a random UUID when absent. Give the same one to retry safely. */
  idempotencyKey?: string;
}

export interface WebhookScope {
  /** A sales unit's registrations; `null` for the PSP's own (every sales unit). The client's MSN when absent. */
  merchantSerialNumber?: string | null;
  signal?: AbortSignal;
}

/**
 * A call of the ePayment, Webhooks or Recurring API with a PSP's headers (subscription key, Psp-Id,
 * the MSN when there is one, the Vipps-System ones) and its token; an error answer is thrown as a
 * VippsProblemError. The answer's body, parsed, and its headers.
 */
export async function pspRequest<T>(
  tokens: AccessTokens, send: typeof fetch, options: EpaymentClientOptions,
  r: { method: string; url: string; path: string; msn: string | undefined; body?: unknown; extra?: Record<string, string>; signal?: AbortSignal },
): Promise<{ body: T; headers: Headers }> {
  const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
  const headers: Record<string, string> = {
    'Ocp-Apim-Subscription-Key': options.subscriptionKey,
    'Psp-Id': options.pspId,
    ...(r.msn === undefined ? {} : { 'Merchant-Serial-Number': r.msn }),
    ...(options.systemHeaders ?? {}),
    ...(r.extra ?? {}),
    ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }),
  };
  const answer = await sendAuthorized(tokens, send, r.url, { method: r.method, headers, body: payload, signal: r.signal });
  let parsed: unknown;
  try { parsed = answer.text === '' ? undefined : JSON.parse(answer.text); } catch { parsed = answer.text; }
  if (!answer.ok) throw new VippsProblemError(answer.status, parsed, `${r.method} ${r.path}`);
  return { body: parsed as T, headers: answer.headers };
}

export class EpaymentClient {
  readonly baseUrl: string;
  readonly pspId: string;
  readonly #options: EpaymentClientOptions;
  readonly #fetch: typeof fetch;
  readonly #tokens: AccessTokens;

  constructor(options: EpaymentClientOptions) {
    requireOptions('EpaymentClient', options, ['baseUrl', 'clientId', 'clientSecret', 'subscriptionKey', 'pspId']);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.pspId = options.pspId;
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#tokens = new AccessTokens({ ...options, baseUrl: this.baseUrl, fetch: this.#fetch, path: '/accesstoken/get' },
      (r) => new VippsProblemError(r.status, { title: r.error, detail: r.message }, 'POST /accesstoken/get'));
  }

  accessToken(): Promise<string> {
    return this.#tokens.get();
  }

  /** POST /epayment/v1/payments. */
  createPayment(request: CreatePaymentRequest, options: KeyedOptions = {}): Promise<CreatePaymentResponse> {
    return this.#call('POST', '/epayment/v1/payments', options, request, { 'Idempotency-Key': options.idempotencyKey ?? randomUUID() });
  }

  /** GET /epayment/v1/payments/{reference}. */
  getPayment(reference: string, options: CallOptions = {}): Promise<GetPaymentResponse> {
    return this.#call('GET', `/epayment/v1/payments/${encodeURIComponent(reference)}`, options);
  }

  /** GET /epayment/v1/payments/{reference}/events. */
  getEvents(reference: string, options: CallOptions = {}): Promise<PaymentEvent[]> {
    return this.#call('GET', `/epayment/v1/payments/${encodeURIComponent(reference)}/events`, options);
  }

  /** POST …/capture: `amount` of the authorised amount (partial captures add up). */
  capture(reference: string, amount: Amount, options: KeyedOptions = {}): Promise<ModificationResponse> {
    return this.#modify(reference, 'capture', { modificationAmount: amount }, options);
  }

  /** POST …/refund: `amount` of the captured amount. */
  refund(reference: string, amount: Amount, options: KeyedOptions = {}): Promise<ModificationResponse> {
    return this.#modify(reference, 'refund', { modificationAmount: amount }, options);
  }

  /** POST …/cancel; `cancelTransactionOnly` cancels only a payment the user has not authorised yet. */
  cancel(reference: string, options: KeyedOptions & { cancelTransactionOnly?: boolean } = {}): Promise<ModificationResponse> {
    return this.#modify(reference, 'cancel', options.cancelTransactionOnly === undefined ? undefined : { cancelTransactionOnly: options.cancelTransactionOnly }, options);
  }

  /**
   * POST /epayment/v1/test/payments/{reference}/approve (test environments): the user's approval,
   * with the card callback going to the PSP. `cardId` (this server's addition) picks the test user's card.
   */
  async forceApprove(reference: string, request: { customer?: { phoneNumber: string }; token?: string; cardId?: string } = {}, options: CallOptions = {}): Promise<void> {
    await this.#call('POST', `/epayment/v1/test/payments/${encodeURIComponent(reference)}/approve`, options, request);
  }

  /** POST /webhooks/v1/webhooks: the `secret` is shown only in this answer. */
  registerWebhook(registration: WebhookRegistration, scope: WebhookScope = {}): Promise<{ id: string; secret: string }> {
    return this.#call('POST', '/webhooks/v1/webhooks', this.#scope(scope), registration);
  }

  /** GET /webhooks/v1/webhooks of the scope. */
  async listWebhooks(scope: WebhookScope = {}): Promise<RegisteredWebhook[]> {
    return (await this.#call<{ webhooks: RegisteredWebhook[] }>('GET', '/webhooks/v1/webhooks', this.#scope(scope))).webhooks;
  }

  /** DELETE /webhooks/v1/webhooks/{id} of the scope. */
  async deleteWebhook(id: string, scope: WebhookScope = {}): Promise<void> {
    await this.#call('DELETE', `/webhooks/v1/webhooks/${encodeURIComponent(id)}`, this.#scope(scope));
  }

  #scope(scope: WebhookScope): CallOptions & { withoutMsn?: boolean } {
    return scope.merchantSerialNumber === null
      ? { withoutMsn: true, signal: scope.signal }
      : { merchantSerialNumber: scope.merchantSerialNumber, signal: scope.signal };
  }

  #modify(reference: string, kind: 'capture' | 'refund' | 'cancel', body: unknown, options: KeyedOptions): Promise<ModificationResponse> {
    return this.#call('POST', `/epayment/v1/payments/${encodeURIComponent(reference)}/${kind}`, options, body, {
      'Idempotency-Key': options.idempotencyKey ?? randomUUID(),
    });
  }

  async #call<T>(method: string, path: string, options: CallOptions & { withoutMsn?: boolean }, body?: unknown, extra: Record<string, string> = {}): Promise<T> {
    const msn = options.withoutMsn ? undefined : options.merchantSerialNumber ?? this.#options.merchantSerialNumber;
    if (msn === undefined && !options.withoutMsn) throw new TypeError(`EpaymentClient: ${method} ${path} needs a merchantSerialNumber (in the call's options or the client's)`);
    return (await pspRequest<T>(this.#tokens, this.#fetch, this.#options, { method, url: `${this.baseUrl}${path}`, path, msn, body, extra, signal: options.signal })).body;
  }
}

export type { WebhookEventType };
