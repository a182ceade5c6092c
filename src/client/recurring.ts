// A typed client of the Recurring API for PSPs: v3 agreements with card passthrough (draft, get,
// list, update, stop, the test-only force accept), the v4 PSP charges (the batch, payment-info,
// result) and the v3 charge follow-ups (get, list, capture, refund, cancel). Access tokens as for
// the other clients (token.ts); errors are the API's ErrorV3, thrown as VippsProblemError.
import { randomUUID } from 'node:crypto';
import { AccessTokens, requireOptions } from './token.ts';
import { pspRequest, VippsProblemError, type CallOptions, type EpaymentClientOptions } from './epayment.ts';
import type {
  Agreement, AgreementPatch, AgreementStatus, Charge, ChargeBatchItem, ChargeBatchResponse, ChargeResult, ChargeStatus, DraftAgreement,
  DraftAgreementResponse, PaymentInfo,
} from './recurring-types.ts';

export type RecurringClientOptions = EpaymentClientOptions;

export interface RecurringKeyedOptions extends CallOptions {
  /** The Idempotency-Key (1 to 40 characters, none of # ? / \); a random one when absent. Give the same one to retry safely. */
  idempotencyKey?: string;
}

const key = (o: RecurringKeyedOptions): Record<string, string> => ({ 'Idempotency-Key': o.idempotencyKey ?? randomUUID().slice(0, 36) });
const enc = encodeURIComponent;

export class RecurringClient {
  readonly baseUrl: string;
  readonly pspId: string;
  readonly #options: RecurringClientOptions;
  readonly #fetch: typeof fetch;
  readonly #tokens: AccessTokens;

  constructor(options: RecurringClientOptions) {
    requireOptions('RecurringClient', options, ['baseUrl', 'clientId', 'clientSecret', 'subscriptionKey', 'pspId']);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.pspId = options.pspId;
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#tokens = new AccessTokens({ ...options, baseUrl: this.baseUrl, fetch: this.#fetch, path: '/accesstoken/get' },
      (r) => new VippsProblemError(r.status, { title: r.error, detail: r.message }, 'POST /accesstoken/get'));
  }

  /** POST /recurring/v3/agreements: a draft; the user accepts it at `vippsConfirmationUrl`. */
  draftAgreement(draft: DraftAgreement, options: RecurringKeyedOptions = {}): Promise<DraftAgreementResponse> {
    return this.#call('POST', '/recurring/v3/agreements', options, draft, key(options));
  }

  /** GET /recurring/v3/agreements/{agreementId}. */
  getAgreement(agreementId: string, options: CallOptions = {}): Promise<Agreement> {
    return this.#call('GET', `/recurring/v3/agreements/${enc(agreementId)}`, options);
  }

  /** GET /recurring/v3/agreements, every page (following Continuation-Token). */
  async listAgreements(query: { status?: AgreementStatus; createdAfter?: number } = {}, options: CallOptions = {}): Promise<Agreement[]> {
    const params = new URLSearchParams();
    if (query.status) params.set('status', query.status);
    if (query.createdAfter !== undefined) params.set('createdAfter', String(query.createdAfter));
    const path = `/recurring/v3/agreements${params.size > 0 ? `?${params}` : ''}`;
    const out: Agreement[] = [];
    let token: string | undefined;
    do {
      const page = await this.#request<Agreement[]>('GET', path, options, undefined, token ? { 'Continuation-Token': token } : {});
      out.push(...page.body);
      token = page.continuation;
    } while (token);
    return out;
  }

  /** PATCH /recurring/v3/agreements/{agreementId}: the fields to change. */
  async updateAgreement(agreementId: string, patch: AgreementPatch, options: RecurringKeyedOptions = {}): Promise<void> {
    await this.#call('PATCH', `/recurring/v3/agreements/${enc(agreementId)}`, options, patch, key(options));
  }

  /** PATCH /recurring/v3/agreements/{agreementId} with {"status": "STOPPED"}: for good; its unpaid charges are cancelled. */
  stopAgreement(agreementId: string, options: RecurringKeyedOptions = {}): Promise<void> {
    return this.updateAgreement(agreementId, { status: 'STOPPED' }, options);
  }

  /**
   * PATCH /recurring/v3/agreements/{agreementId}/accept (test environments): the user accepts, and the
   * sign-up card callback goes to the PSP. `cardId` (this server's addition) picks the test user's card.
   */
  async forceAccept(agreementId: string, request: { phoneNumber: string; cardId?: string }, options: RecurringKeyedOptions = {}): Promise<void> {
    await this.#call('PATCH', `/recurring/v3/agreements/${enc(agreementId)}/accept`, options, request, key(options));
  }

  /** POST /recurring/v4/agreements/charges: 1 to 50 charges, each successful, failed or retryable. */
  createCharges(charges: ChargeBatchItem[], options: RecurringKeyedOptions = {}): Promise<ChargeBatchResponse> {
    return this.#call('POST', '/recurring/v4/agreements/charges', options, charges, key(options));
  }

  /** GET …/charges/{chargeId}/payment-info: a due RECURRING charge's card data. */
  paymentInfo(agreementId: string, chargeId: string, options: CallOptions = {}): Promise<PaymentInfo> {
    return this.#call('GET', `/recurring/v4/agreements/${enc(agreementId)}/charges/${enc(chargeId)}/payment-info`, options);
  }

  /** POST …/charges/{chargeId}/result: SUCCESS, or FAILED with `error.retry`. */
  async reportResult(agreementId: string, chargeId: string, result: ChargeResult, options: RecurringKeyedOptions = {}): Promise<void> {
    await this.#call('POST', `/recurring/v4/agreements/${enc(agreementId)}/charges/${enc(chargeId)}/result`, options, result, key(options));
  }

  /** GET /recurring/v3/agreements/{agreementId}/charges/{chargeId}. */
  getCharge(agreementId: string, chargeId: string, options: CallOptions = {}): Promise<Charge> {
    return this.#call('GET', `/recurring/v3/agreements/${enc(agreementId)}/charges/${enc(chargeId)}`, options);
  }

  /** GET /recurring/v3/agreements/{agreementId}/charges (of one status). */
  listCharges(agreementId: string, query: { status?: ChargeStatus } = {}, options: CallOptions = {}): Promise<Charge[]> {
    return this.#call('GET', `/recurring/v3/agreements/${enc(agreementId)}/charges${query.status ? `?status=${query.status}` : ''}`, options);
  }

  /** POST …/capture of `amount` (minor units) of a RESERVED charge. */
  async captureCharge(agreementId: string, chargeId: string, body: { amount: number; description: string }, options: RecurringKeyedOptions = {}): Promise<void> {
    await this.#call('POST', `/recurring/v3/agreements/${enc(agreementId)}/charges/${enc(chargeId)}/capture`, options, body, key(options));
  }

  /** POST …/refund of `amount` (minor units) of what was captured. */
  async refundCharge(agreementId: string, chargeId: string, body: { amount: number; description: string }, options: RecurringKeyedOptions = {}): Promise<void> {
    await this.#call('POST', `/recurring/v3/agreements/${enc(agreementId)}/charges/${enc(chargeId)}/refund`, options, body, key(options));
  }

  /** DELETE …/charges/{chargeId}: cancels an unpaid charge, or what is still reserved of a paid one. */
  async cancelCharge(agreementId: string, chargeId: string, options: RecurringKeyedOptions = {}): Promise<void> {
    await this.#call('DELETE', `/recurring/v3/agreements/${enc(agreementId)}/charges/${enc(chargeId)}`, options, undefined, key(options));
  }

  async #call<T>(method: string, path: string, options: CallOptions, body?: unknown, extra: Record<string, string> = {}): Promise<T> {
    return (await this.#request<T>(method, path, options, body, extra)).body;
  }

  async #request<T>(method: string, path: string, options: CallOptions, body?: unknown, extra: Record<string, string> = {}): Promise<{ body: T; continuation?: string }> {
    const msn = options.merchantSerialNumber ?? this.#options.merchantSerialNumber;
    if (msn === undefined) throw new TypeError(`RecurringClient: ${method} ${path} needs a merchantSerialNumber (in the call's options or the client's)`);
    const answer = await pspRequest<T>(this.#tokens, this.#fetch, this.#options, { method, url: `${this.baseUrl}${path}`, path, msn, body, extra, signal: options.signal });
    const continuation = answer.headers.get('continuation-token') ?? undefined;
    return { body: answer.body, ...(continuation ? { continuation } : {}) };
  }
}
