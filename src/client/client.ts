// A typed client of the PSP API v3: access tokens (cached, renewed before they expire, one fetch
// shared by concurrent callers), init, details, updatestatus (split into requests of the allowed
// size) and the integration-test approve. Uses the global fetch of Node 22 and later.
import { randomUUID } from 'node:crypto';
import type {
  ErrorDetails, ForceApproveRequest, InitiatePaymentRequest, PaymentDetailsRepresentation, PaymentInitiationRepresentation,
  TransactionInfo, UpdateStatusResponse,
} from './types.ts';
import { AccessTokens, requireOptions, sendAuthorized } from './token.ts';

/** Vipps' test environment (MT), as the PSP API guide and the OpenAPI document name it. */
export const VIPPS_TEST_BASE_URL = 'https://apitest.vipps.no';
/** Vipps' production environment. */
export const VIPPS_PRODUCTION_BASE_URL = 'https://api.vipps.no';

/** The most updates one updatestatus request may carry (this server's limit; Vipps documents none). */
export const MAX_STATUS_UPDATES_PER_REQUEST = 50_000;
/** The largest updatestatus body this server accepts, in bytes. */
export const MAX_STATUS_BODY_BYTES = 32 * 1024 * 1024;

/** An error answer of the API, with the fields of its first ErrorDetails (the spec's error shape). */
export class VippsPspError extends Error {
  readonly status: number;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly contextId: string | undefined;
  /** Every ErrorDetails of the answer (a validation error lists one per problem). */
  readonly details: ErrorDetails[];

  constructor(status: number, details: ErrorDetails[], what: string) {
    const first = details[0] ?? {};
    const errorCode = first.errorCode ?? String(status);
    const errorMessage = first.errorMessage ?? `HTTP ${status}`;
    const all = details.map((d) => `${d.errorCode ?? '?'}: ${d.errorMessage ?? ''}`).join('; ') || errorMessage;
    super(`${what} answered ${status}: ${all}${first.contextId ? ` (contextId ${first.contextId})` : ''}`);
    this.name = 'VippsPspError';
    this.status = status;
    this.errorCode = errorCode;
    this.errorMessage = errorMessage;
    this.contextId = first.contextId;
    this.details = details;
  }
}

export interface VippsPspClientOptions {
  /** This server's URL, VIPPS_TEST_BASE_URL or VIPPS_PRODUCTION_BASE_URL (no trailing /psp). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  subscriptionKey: string;
  pspId: string;
  /** The MSN of requests that name none themselves. */
  merchantSerialNumber?: string;
  /** Renew the access token this many seconds before it expires (default 60, or half its lifetime when that is shorter). */
  renewBeforeSeconds?: number;
  /** Vipps-System-Name and friends, sent with every API request. */
  systemHeaders?: Partial<Record<'Vipps-System-Name' | 'Vipps-System-Version' | 'Vipps-System-Plugin-Name' | 'Vipps-System-Plugin-Version', string>>;
  /** Another fetch (a mock, or one with a dispatcher); the global fetch by default. */
  fetch?: typeof fetch;
  /** Called with every successful init's request and answer. */
  onInitiated?: (request: InitiatePaymentRequest, answer: PaymentInitiationRepresentation) => void;
}

export interface RequestOptions {
  /** The Merchant-Serial-Number header; the client's default when absent. */
  merchantSerialNumber?: string;
  signal?: AbortSignal;
}

export interface InitOptions extends RequestOptions {
  /** Sent as Idempotency-Key; a random UUID when absent. Give the same key to retry safely. */
  idempotencyKey?: string;
}

export interface UpdateStatusOptions extends RequestOptions {
  /** At most this many updates per request (default and maximum MAX_STATUS_UPDATES_PER_REQUEST). */
  maxPerRequest?: number;
  /** The requests' keys are `${idempotencyKey}-${n}` (n from 1); random UUIDs when absent. */
  idempotencyKey?: string;
}

export class VippsPspClient {
  readonly baseUrl: string;
  readonly pspId: string;
  readonly #options: VippsPspClientOptions;
  readonly #fetch: typeof fetch;
  readonly #tokens: AccessTokens;

  constructor(options: VippsPspClientOptions) {
    requireOptions('VippsPspClient', options, ['baseUrl', 'clientId', 'clientSecret', 'subscriptionKey', 'pspId']);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.pspId = options.pspId;
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#tokens = new AccessTokens({ ...options, baseUrl: this.baseUrl, fetch: this.#fetch, path: '/accessToken/get' },
      (r) => new VippsPspError(r.status, [{ errorCode: r.error, errorMessage: r.message, ...(r.contextId ? { contextId: r.contextId } : {}) }], 'POST /accessToken/get'));
  }

  /** How many access tokens this client fetched (for tests and logs). */
  get tokenFetches(): number {
    return this.#tokens.fetches;
  }

  /** A valid access token: the cached one, or a new one when it is about to expire. */
  async accessToken(): Promise<string> {
    return this.#tokens.get();
  }

  /** Forgets the cached token: the next request fetches a new one. */
  clearAccessToken(): void {
    this.#tokens.clear();
  }

  /** POST /psp/v3/psppayments/init. */
  async init(request: InitiatePaymentRequest, options: InitOptions = {}): Promise<PaymentInitiationRepresentation> {
    const answer = await this.#call<PaymentInitiationRepresentation>('POST', '/psp/v3/psppayments/init', options, request, {
      'Idempotency-Key': options.idempotencyKey ?? randomUUID(),
    });
    this.#options.onInitiated?.(request, answer);
    return answer;
  }

  /** GET /psp/v3/psppayments/{pspTransactionId}/details. */
  async details(pspTransactionId: string, options: RequestOptions = {}): Promise<PaymentDetailsRepresentation> {
    return this.#call('GET', `/psp/v3/psppayments/${encodeURIComponent(pspTransactionId)}/details`, options);
  }

  /**
   * POST /psp/v3/psppayments/updatestatus, as many requests as the updates need (at most
   * `maxPerRequest` updates and MAX_STATUS_BODY_BYTES each), one after the other, each with its own
   * Idempotency-Key. Answers each request's response, in order.
   */
  async updateStatus(transactions: TransactionInfo[], options: UpdateStatusOptions = {}): Promise<UpdateStatusResponse[]> {
    const answers: UpdateStatusResponse[] = [];
    let n = 0;
    for (const chunk of splitStatusUpdates(transactions, options.maxPerRequest)) {
      n++;
      const key = options.idempotencyKey !== undefined ? `${options.idempotencyKey}-${n}` : randomUUID();
      answers.push(await this.#call('POST', '/psp/v3/psppayments/updatestatus', options, { transactions: chunk }, { 'Idempotency-Key': key }));
    }
    return answers;
  }

  /** POST /psp/v3/integration-test/psppayments/{pspTransactionId}/approve (test environments only). */
  async forceApprove(pspTransactionId: string, request: ForceApproveRequest, options: RequestOptions = {}): Promise<void> {
    await this.#call('POST', `/psp/v3/integration-test/psppayments/${encodeURIComponent(pspTransactionId)}/approve`, options, request);
  }

  async #call<T>(method: string, path: string, options: RequestOptions, body?: unknown, extra: Record<string, string> = {}): Promise<T> {
    const msn = options.merchantSerialNumber ?? this.#options.merchantSerialNumber;
    if (msn === undefined) throw new TypeError(`VippsPspClient: ${method} ${path} needs a merchantSerialNumber (in the request's options or the client's)`);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      'Ocp-Apim-Subscription-Key': this.#options.subscriptionKey,
      'PSP-ID': this.pspId,
      'Merchant-Serial-Number': msn,
      ...(this.#options.systemHeaders ?? {}),
      ...extra,
      ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }),
    };
    const answer = await sendAuthorized(this.#tokens, this.#fetch, `${this.baseUrl}${path}`, { method, headers, body: payload, signal: options.signal });
    if (!answer.ok) throw new VippsPspError(answer.status, errorDetailsOf(answer.status, answer.text), `${method} ${path}`);
    return (answer.text === '' ? undefined : parseJson(answer.text)) as T;
  }
}

/** The updates in requests of at most `maxPerRequest` updates and MAX_STATUS_BODY_BYTES bytes. */
export function splitStatusUpdates(transactions: TransactionInfo[], maxPerRequest = MAX_STATUS_UPDATES_PER_REQUEST): TransactionInfo[][] {
  if (!Number.isInteger(maxPerRequest) || maxPerRequest < 1 || maxPerRequest > MAX_STATUS_UPDATES_PER_REQUEST) {
    throw new RangeError(`maxPerRequest must be a whole number from 1 to ${MAX_STATUS_UPDATES_PER_REQUEST}`);
  }
  const envelope = Buffer.byteLength('{"transactions":[]}');
  const chunks: TransactionInfo[][] = [];
  let current: TransactionInfo[] = [];
  let bytes = envelope;
  for (const t of transactions) {
    const size = Buffer.byteLength(JSON.stringify(t)) + 1;
    if (current.length > 0 && (current.length >= maxPerRequest || bytes + size > MAX_STATUS_BODY_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = envelope;
    }
    current.push(t);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The ErrorDetails of an error answer: the spec's array, or what another shape says. */
function errorDetailsOf(status: number, text: string): ErrorDetails[] {
  const body = parseJson(text);
  const list = Array.isArray(body) ? body : body && typeof body === 'object' ? [body] : [];
  const details = list.filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null).map((d) => ({
    errorCode: typeof d.errorCode === 'string' ? d.errorCode : typeof d.error === 'string' ? d.error : String(status),
    errorMessage: typeof d.errorMessage === 'string' ? d.errorMessage : typeof d.message === 'string' ? d.message : text.slice(0, 300),
    ...(typeof d.contextId === 'string' ? { contextId: d.contextId } : {}),
  }));
  return details.length > 0 ? details : [{ errorCode: String(status), errorMessage: text.slice(0, 300) || `HTTP ${status}` }];
}
