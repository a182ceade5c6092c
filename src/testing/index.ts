// vipps-psp/testing: the server in the test's own process, on an ephemeral port, with an embedded
// database in memory, a ready client and helpers that act as the user, the clock and the network
// would (over the operator API). Plain ESM, no test framework: node:test, vitest and jest alike.
import { randomBytes, randomInt } from 'node:crypto';
import { loadConfig } from '../config.ts';
import { startServer } from '../main.ts';
import { DEMO } from '../operations/seed.ts';
import { migrate, openDatabase } from '../store/db.ts';
import { packagedImage } from '../store/packaged-image.ts';
import { VippsPspClient } from '../client/client.ts';
import { EpaymentClient } from '../client/epayment.ts';
import { RecurringClient } from '../client/recurring.ts';
import { osloDate, osloStartOf } from '../domain/recurring/charges.ts';
import { startWebhookReceiver, type TestWebhookReceiver, type WebhookReceiverOptions } from './webhook-receiver.ts';

export { ALL_EPAYMENT_EVENTS, type TestWebhookReceiver, type WebhookReceiverOptions } from './webhook-receiver.ts';

export interface StartVippsPspOptions {
  /** Further configuration variables (see `vipps-psp --help`), e.g. { MAKE_PAYMENT_TIMEOUT_MS: '2000' }. */
  env?: Record<string, string>;
  /** The server's log level (default silent). */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** The demo PSP, merchant and test user every fresh server has. */
export interface VippsPspCredentials {
  pspId: string;
  clientId: string;
  clientSecret: string;
  subscriptionKey: string;
  merchantSerialNumber: string;
  /** The test user (with one card of each kind, Visa debit first) whom `approve` pays as by default. */
  userPhone: string;
  /** The bearer token of the operator API (/admin/*). */
  adminToken: string;
}

export interface CardOption {
  brand: 'VISA' | 'MASTERCARD' | 'VISA_CREDIT' | 'MASTERCARD_CREDIT' | 'DANKORT' | 'VISA_DANKORT';
  last4?: string;
  expiryMonth?: string;
  expiryYear?: string;
}

export interface ApproveOptions {
  /** Pay with this card: a new test user with only this card approves. */
  card?: CardOption;
  /** The test user who approves (default the demo user, or the new one of `card`). */
  phone?: string;
  /**
   * The vippsRedirectUrl (or its token) of the init; needed only for a payment that was not
   * initiated through this harness's `client`.
   */
  vippsRedirectUrl?: string;
}

export interface EpaymentApproveOptions {
  /**
   * Pay with a card of this kind: the demo user's card of that brand (a standalone DANKORT needs the
   * payment's publicEncryptionKeyId), or, with `phone`, that user's; a new test user with only this
   * card when `newUser` is set.
   */
  card?: CardOption['brand'] | CardOption;
  /** The test user who approves (default the demo user). */
  phone?: string;
  /** Approve as a new test user who holds only `card`. */
  newUser?: boolean;
}

/** An ePayment payment as the operator API shows it (GET /admin/epayments/{msn}/{reference}). */
export interface AdminEpaymentView {
  paymentId: string;
  reference: string;
  state: 'CREATED' | 'AUTHORIZED' | 'ABORTED' | 'EXPIRED' | 'TERMINATED';
  events: Array<{ name: string; [field: string]: unknown }>;
  cardCallbacks: Array<{ round: number; outcome: string; request: unknown; responseStatus: number | null; [field: string]: unknown }>;
  webhooks: Array<{ eventType: string; status: string; attempts: number; [field: string]: unknown }>;
  [field: string]: unknown;
}

/** A fault injection rule (the testing guide's "Fault injection", docs/testing.md). */
export interface FaultRule {
  route: 'accessToken' | 'init' | 'details' | 'updatestatus' | 'approve' | 'signup' | 'makePayment'
    | 'epaymentCreate' | 'epaymentGet' | 'epaymentAdjust' | 'epaymentApprove' | 'cardCallback' | 'webhook';
  pspId?: string;
  msn?: string;
  pspTransactionId?: string;
  status?: number;
  retryAfterSeconds?: number;
  delayMs?: number;
  drop?: boolean;
  times?: number;
  probability?: number;
  ttlSeconds?: number;
}

/** A payment as the operator API shows it (GET /admin/payments/{pspId}/{pspTransactionId}). */
export interface AdminPaymentView {
  paymentId: string;
  pspId: string;
  pspTransactionId: string;
  merchantSerialNumber?: string;
  state: 'INITIATED' | 'AWAITING_USER' | 'DELIVERING' | 'AWAITING_3DS' | 'RESERVED' | 'FAILED' | 'USER_CANCEL' | 'TIMEOUT';
  [field: string]: unknown;
}

/** A Recurring agreement as the operator API shows it (GET /admin/agreements/{agreementId}). */
export interface AdminAgreementView {
  agreement: Record<string, unknown> & { id: string; status: 'PENDING' | 'ACTIVE' | 'STOPPED' | 'EXPIRED' };
  pspId: string;
  merchantSerialNumber: string;
  phone: string | null;
  closedReason: string | null;
  stoppedBy: string | null;
  /** Each charge with `due` (YYYY-MM-DD, or null), its timeline and its last result. */
  charges: Array<Record<string, unknown> & { id: string; status: string; due: string | null }>;
  cardCallbacks: Array<Record<string, unknown> & { purpose: 'SIGNUP' | 'CARD_CHANGE'; outcome: string }>;
}

export interface AgreementAcceptOptions {
  /** The test user who accepts (default: the demo user). */
  phone?: string;
  /** Accept with the user's card of this brand (default: their first card the agreement allows). */
  card?: CardOption['brand'];
  merchantSerialNumber?: string;
}

export interface ClockView {
  now: string;
  offsetSeconds: number;
}

export interface VippsPspHarness extends AsyncDisposable {
  /** The server's URL, e.g. http://127.0.0.1:41234 (the base URL of a client). */
  url: string;
  credentials: VippsPspCredentials;
  /** A client of the demo PSP with the demo MSN as its default. */
  client: VippsPspClient;
  /** Approves a payment as its user would in the app (the integration-test approve): its makePayment is answered when this resolves. */
  approve(pspTransactionId: string, options?: ApproveOptions): Promise<void>;
  /** Rejects a waiting payment as its user would (USER_CANCEL; the PSP is told). */
  reject(pspTransactionId: string): Promise<AdminPaymentView>;
  /** Expires a waiting payment now (TIMEOUT; the PSP is told). */
  expire(pspTransactionId: string): Promise<AdminPaymentView>;
  /** The payment as the operator API shows it. */
  payment(pspTransactionId: string): Promise<AdminPaymentView>;
  /** A client of the ePayment and Webhooks APIs for the demo PSP, with the demo MSN as its default. */
  epayment: EpaymentClient;
  /**
   * ePayment: approves a payment as its user would (the test-only force approve): the card callback goes
   * to the payment's cardCallbackUrl and this resolves once the PSP answered RESERVE (after a
   * SOFT_DECLINE the 3-D Secure step counts as done and the second callback follows); otherwise it
   * throws a VippsProblemError (10010).
   */
  approveEpayment(reference: string, options?: EpaymentApproveOptions): Promise<void>;
  /** ePayment: the user rejects a waiting payment (ABORTED, with its event and webhooks). */
  rejectEpayment(reference: string, merchantSerialNumber?: string): Promise<AdminEpaymentView>;
  /** ePayment: a waiting payment expires now (EXPIRED, with its event and webhooks). */
  expireEpayment(reference: string, merchantSerialNumber?: string): Promise<AdminEpaymentView>;
  /** ePayment: the payment as the operator sees it, with its card callbacks and webhook deliveries. */
  epaymentView(reference: string, merchantSerialNumber?: string): Promise<AdminEpaymentView>;
  /** A client of the Recurring API for the demo PSP, with the demo MSN as its default. */
  recurring: RecurringClient;
  /**
   * Recurring: the user accepts a PENDING agreement (the test-only force accept): the sign-up card
   * callback goes to its cardCallbackUrl and this resolves once the PSP answered RESERVE; otherwise it
   * throws a VippsProblemError.
   */
  acceptAgreement(agreementId: string, options?: AgreementAcceptOptions): Promise<void>;
  /** Recurring: the user changes the card of an ACTIVE agreement (to their card of `brand`, or their next one): a zero-amount card callback. */
  changeAgreementCard(agreementId: string, brand?: CardOption['brand']): Promise<AdminAgreementView>;
  /** Recurring: the user stops an agreement in the app. */
  stopAgreementAsUser(agreementId: string): Promise<AdminAgreementView>;
  /** Recurring: the agreement as the operator sees it, with its charges and card callbacks. */
  agreementView(agreementId: string): Promise<AdminAgreementView>;
  /**
   * Recurring: moves the clock to the start (in Norway) of the agreement's next due date: that of its
   * earliest DUE charge not yet due. Throws when it has none.
   */
  advanceToNextDue(agreementId: string): Promise<ClockView>;
  webhooks: {
    /** A receiver on loopback, registered for `events`, that verifies every delivery; closed with the harness. */
    receiver(options?: WebhookReceiverOptions): Promise<TestWebhookReceiver>;
  };
  /** Runs the status batch now: the stored updatestatus updates are applied. */
  runStatusBatch(): Promise<Record<string, unknown>>;
  /** Moves the server's clock forward: seconds, or a duration such as "90s", "15m", "2h", "1d". */
  advanceClock(by: number | string): Promise<ClockView>;
  faults: {
    add(rule: FaultRule): Promise<Record<string, unknown>>;
    clear(): Promise<void>;
  };
  /** Deletes every payment, agreement, status update, batch run and idempotency key, and returns the clock and faults to normal. */
  reset(): Promise<void>;
  /** Stops the server and frees its database. Safe to call more than once. */
  close(): Promise<void>;
}

let image: Promise<Blob> | undefined;

/**
 * A gzipped tarball of a migrated embedded database, made once and loaded by every server started
 * after: PostgreSQL's initdb takes seconds, loading its result well under one. The build ships one
 * beside this module; without it (running from the sources) it is made on the first start.
 */
export async function makeDatabaseImage(): Promise<Blob> {
  const database = await openDatabase({ dataDir: 'memory://' });
  try {
    await migrate(database);
    return await database.dumpImage!();
  } finally {
    await database.close();
  }
}

function databaseImage(): Promise<Blob> {
  image ??= packagedImage().then((packaged) => packaged ?? makeDatabaseImage());
  image.catch(() => { image = undefined; });
  return image;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

function seconds(by: number | string): number {
  if (typeof by === 'number') {
    if (!Number.isFinite(by) || by < 0) throw new RangeError(`advanceClock: ${by} is not a number of seconds ≥ 0`);
    return by;
  }
  const match = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/i.exec(by.trim());
  if (!match) throw new RangeError(`advanceClock: "${by}" is not a duration: give seconds, or a number with s, m, h or d (90s, 15m, 2h, 1d)`);
  return Number(match[1]) * UNITS[(match[2] || 's').toLowerCase()];
}

function tokenOf(vippsRedirectUrl: string): string {
  const match = /[?&]token=([^&#]+)/.exec(vippsRedirectUrl);
  return match ? decodeURIComponent(match[1]) : vippsRedirectUrl;
}

/** Starts a server for a test. Close it with `close()` (or `await using`). */
export async function startVippsPsp(options: StartVippsPspOptions = {}): Promise<VippsPspHarness> {
  const adminToken = `harness-${randomBytes(16).toString('hex')}`;
  const config = loadConfig({
    LOG_LEVEL: options.logLevel ?? 'silent',
    ...options.env,
    PORT: '0',
    HOST: '127.0.0.1',
    VIPPS_ENV: 'test',
    DATA_DIR: 'memory://',
    ADMIN_TOKEN: adminToken,
    // A test's makePaymentUrl is usually a server of its own on this machine.
    ALLOW_PRIVATE_CALLBACKS: 'true',
  });
  const server = await startServer(config, { initialImage: await databaseImage() });
  const url = server.url;
  const credentials: VippsPspCredentials = {
    pspId: DEMO.psp.pspId,
    clientId: DEMO.psp.clientId,
    clientSecret: DEMO.psp.clientSecret,
    subscriptionKey: DEMO.psp.subscriptionKey,
    merchantSerialNumber: DEMO.msn,
    userPhone: DEMO.userPhone,
    adminToken,
  };
  /** The landing token of each payment initiated through `client`, for `approve`. */
  const tokens = new Map<string, string>();
  const client = new VippsPspClient({
    baseUrl: url,
    ...credentials,
    onInitiated: (request, answer) => {
      if (answer.vippsRedirectUrl) tokens.set(request.pspTransactionId, tokenOf(answer.vippsRedirectUrl));
    },
  });

  async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  const paymentPath = (id: string) => `/admin/payments/${credentials.pspId}/${encodeURIComponent(id)}`;
  const epaymentPath = (reference: string, msn = DEMO.msn) => `/admin/epayments/${encodeURIComponent(msn)}/${encodeURIComponent(reference)}`;
  const epayment = new EpaymentClient({ baseUrl: url, ...credentials });
  const recurring = new RecurringClient({ baseUrl: url, ...credentials });
  const receivers = new Set<TestWebhookReceiver>();
  const agreementPath = (id: string) => `/admin/agreements/${encodeURIComponent(id)}`;
  /** The id of the test user's card of `brand`. */
  async function cardOf(phone: string, brand: string, what: string): Promise<string> {
    const { users } = await admin<{ users: Array<{ phone: string; cards: Array<{ cardId: string; brand: string }> }> }>('GET', '/admin/users');
    const cardId = users.find((u) => u.phone === phone)?.cards.find((c) => c.brand === brand)?.cardId;
    if (cardId === undefined) throw new Error(`${what}: the test user ${phone} has no ${brand} card`);
    return cardId;
  }
  let closing: Promise<void> | undefined;

  const harness: VippsPspHarness = {
    url,
    credentials,
    client,
    async approve(pspTransactionId, approveOptions = {}) {
      const token = approveOptions.vippsRedirectUrl !== undefined ? tokenOf(approveOptions.vippsRedirectUrl) : tokens.get(pspTransactionId);
      if (token === undefined) {
        throw new Error(`approve: ${pspTransactionId} was not initiated through this harness's client; give its vippsRedirectUrl`);
      }
      let phone = approveOptions.phone ?? DEMO.userPhone;
      if (approveOptions.card) {
        phone = approveOptions.phone ?? `4${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;
        await admin('POST', '/admin/users', { phone, name: 'Harness User', cards: [approveOptions.card] });
      }
      await client.forceApprove(pspTransactionId, { customerPhoneNumber: phone, token });
    },
    epayment,
    async approveEpayment(reference, approveOptions = {}) {
      let phone = approveOptions.phone ?? DEMO.userPhone;
      let cardId: string | undefined;
      const card = typeof approveOptions.card === 'string' ? { brand: approveOptions.card } : approveOptions.card;
      if (card && approveOptions.newUser) {
        phone = approveOptions.phone ?? `4${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;
        await admin('POST', '/admin/users', { phone, name: 'Harness User', cards: [card] });
      } else if (card) {
        const { users } = await admin<{ users: Array<{ phone: string; cards: Array<{ cardId: string; brand: string }> }> }>('GET', '/admin/users');
        cardId = users.find((u) => u.phone === phone)?.cards.find((c) => c.brand === card.brand)?.cardId;
        if (cardId === undefined) throw new Error(`approveEpayment: the test user ${phone} has no ${card.brand} card (newUser: true makes one who has)`);
      }
      await epayment.forceApprove(reference, { customer: { phoneNumber: phone }, ...(cardId ? { cardId } : {}) });
    },
    rejectEpayment: (reference, msn) => admin('POST', `${epaymentPath(reference, msn)}/reject`),
    expireEpayment: (reference, msn) => admin('POST', `${epaymentPath(reference, msn)}/expire`),
    epaymentView: (reference, msn) => admin('GET', epaymentPath(reference, msn)),
    recurring,
    async acceptAgreement(agreementId, acceptOptions = {}) {
      const phone = acceptOptions.phone ?? DEMO.userPhone;
      const cardId = acceptOptions.card ? await cardOf(phone, acceptOptions.card, 'acceptAgreement') : undefined;
      await recurring.forceAccept(agreementId, { phoneNumber: phone, ...(cardId ? { cardId } : {}) },
        acceptOptions.merchantSerialNumber ? { merchantSerialNumber: acceptOptions.merchantSerialNumber } : {});
    },
    async changeAgreementCard(agreementId, brand) {
      const view = await admin<AdminAgreementView>('GET', agreementPath(agreementId));
      const cardId = brand && view.phone ? await cardOf(view.phone, brand, 'changeAgreementCard') : undefined;
      return admin('POST', `${agreementPath(agreementId)}/change-card`, cardId ? { cardId } : {});
    },
    stopAgreementAsUser: (agreementId) => admin('POST', `${agreementPath(agreementId)}/stop`),
    agreementView: (agreementId) => admin('GET', agreementPath(agreementId)),
    async advanceToNextDue(agreementId) {
      const view = await admin<AdminAgreementView>('GET', agreementPath(agreementId));
      const clock = await admin<ClockView>('GET', '/admin/clock');
      const today = osloDate(new Date(clock.now));
      const next = view.charges.filter((c) => c.status === 'DUE' && c.due !== null && c.due > today).map((c) => c.due!).sort()[0];
      if (next === undefined) throw new Error(`advanceToNextDue: agreement ${agreementId} has no DUE charge after ${today}`);
      return admin('POST', '/admin/clock/advance', { to: osloStartOf(next).toISOString() });
    },
    webhooks: {
      async receiver(receiverOptions) {
        const receiver = await startWebhookReceiver(epayment, receiverOptions);
        receivers.add(receiver);
        return receiver;
      },
    },
    reject: (id) => admin('POST', `${paymentPath(id)}/reject`),
    expire: (id) => admin('POST', `${paymentPath(id)}/expire`),
    payment: (id) => admin('GET', paymentPath(id)),
    runStatusBatch: () => admin('POST', '/admin/status-batch/run'),
    advanceClock: async (by) => admin('POST', '/admin/clock/advance', { seconds: seconds(by) }),
    faults: {
      add: (rule) => admin('POST', '/admin/faults', rule),
      async clear() { await admin('DELETE', '/admin/faults'); },
    },
    async reset() {
      await admin('DELETE', '/admin/faults');
      await admin('POST', '/admin/clock/reset');
      await admin('POST', '/admin/reset', {});
      tokens.clear();
    },
    close() {
      closing ??= (async () => {
        for (const r of receivers) await r.close().catch(() => {});
        await server.close();
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return harness.close();
    },
  };
  return harness;
}
