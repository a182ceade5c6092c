// ePayment use cases: create, get, the event log, and capture / refund / cancel. Each state change is
// one transaction with its event (and, with an Idempotency-Key, its stored answer: keyed.ts).
import { newPspReference } from './ids.ts';
import { ApiError } from '../../domain/errors.ts';
import { epaymentError, schemaError } from '../../domain/epayment/errors.ts';
import { checkAmount, DEFAULT_EXPIRY_MS, validateCreate, type Amount, type CreatePayment, type Currency } from '../../domain/epayment/create-request.ts';
import { adjust, type Adjustment, type Totals } from '../../domain/epayment/payment.ts';
import type { Tx } from '../../store/db.ts';
import { adjustIfUnchanged, applyAdjustment, epaymentForAdjustment, eventsOf, insertEpayment, lockEpayment, type EpaymentRow, type NewEpayment } from '../../store/epayments.ts';
import { isDatabaseUnavailable, isUniqueViolation } from '../../store/db-errors.ts';
import { EVENTS_OF_REFERENCE } from '../../store/epayment-reader.ts';
import { findSealedClientSecret } from '../../store/psps.ts';
import { findEncryptionKey } from '../../store/encryption-keys.ts';
import { findUser } from '../../store/users.ts';
import { sha256 } from '../../security/secrets.ts';
import type { PaymentDeps } from '../payment-deps.ts';
import { keyed, requestHashOf } from './keyed.ts';


/**
 * The test users a customer phone number may name, in order: the number as given, or (MSISDN) without
 * the country code of Norway, Denmark or Finland (test users have 8-digit Norwegian numbers).
 */
export function phoneCandidates(msisdn: string): string[] {
  return [msisdn, ...['47', '45', '358'].filter((cc) => msisdn.startsWith(cc)).map((cc) => msisdn.slice(cc.length))].filter((c) => c.length >= 8);
}

/** The test user a customer phone number names. */
export async function userForPhone(tx: Tx, msisdn: string): Promise<string | undefined> {
  for (const candidate of phoneCandidates(msisdn)) {
    if (await findUser(tx, candidate)) return candidate;
  }
  return undefined;
}

/**
 * The PSPs whose client secret is known to be sealed (so their callbacks can be signed). A sealed
 * secret stays sealed (a rotation seals the new one), so remembering it in each process is safe.
 */
const SEALED = new Set<string>();

interface CreateAnswer {
  reference: string;
  redirectUrl?: string;
}

/** The redirectUrl of a payment, by its user flow (none for PUSH_MESSAGE). */
export function redirectUrlOf(deps: PaymentDeps, p: { msn: string; reference: string; userFlow: string; qrFormat?: string }, known?: string): string | undefined {
  if (p.userFlow === 'PUSH_MESSAGE') return undefined;
  const token = known ?? deps.paymentTokens.epaymentToken(p.msn, p.reference);
  const landing = `${deps.config.publicUrl}/landing?token=${token}`;
  switch (p.userFlow) {
    case 'WEB_REDIRECT': return landing;
    case 'NATIVE_REDIRECT': return `${deps.config.vippsEnv === 'test' ? 'vippsMT' : 'vipps'}://?token=${token}`;
    case 'QR': return p.qrFormat === 'TEXT/TARGETURL' ? landing : `${deps.config.publicUrl}/qr/v1?token=${token}`;
    default: return undefined;
  }
}

/** The payment row of a valid create request; `token` is its redirectUrl's (PaymentTokens.epaymentToken). */
function newRow(deps: PaymentDeps, pspId: string, msn: string, request: CreatePayment, customerPhone: string | undefined, pspReference: string, now: Date, token: string): NewEpayment {
  return {
    pspId, msn, reference: request.reference, currency: request.amount.currency, amount: request.amount.value, state: 'CREATED',
    userFlow: request.userFlow, paymentMethod: request.paymentMethod, pspReference,
    cardPspReference: request.cardPassthrough.pspReference, cardCallbackUrl: request.cardPassthrough.cardCallbackUrl,
    allowedCardTypes: request.cardPassthrough.allowedCardTypes, preferVisaPartOfVisaDankort: request.cardPassthrough.preferVisaPartOfVisaDankort,
    publicEncryptionKeyId: request.cardPassthrough.publicEncryptionKeyId ?? null,
    customerPhone: customerPhone ?? null, returnUrl: request.returnUrl ?? null, paymentDescription: request.paymentDescription ?? null,
    // A push message goes straight to the user's app: the request waits there, with no landing page.
    phone: request.userFlow === 'PUSH_MESSAGE' ? customerPhone ?? null : null,
    metadata: request.metadata ?? null, extra: request.extra,
    tokenHash: sha256(token),
    softDeclineRefHash: sha256(deps.paymentTokens.softDeclineRef(msn, request.reference)),
    expiresAt: request.expiresAt ?? new Date(now.getTime() + DEFAULT_EXPIRY_MS),
    createdAt: now, updatedAt: now,
  };
}

type StoredCreate = { reference: string; userFlow: string; qrFormat?: string };

const referenceExists = (reference: string, msn: string) =>
  epaymentError(4150, `Reference exists: ${reference} is already used for a payment of sales unit ${msn}. Use a new reference.`);

function answerOf(deps: PaymentDeps, msn: string, stored: StoredCreate, token?: string): CreateAnswer {
  const redirectUrl = redirectUrlOf(deps, { msn, ...stored }, token);
  return { reference: stored.reference, ...(redirectUrl ? { redirectUrl } : {}) };
}

/**
 * POST /epayment/v1/payments. The common case — a valid request of a PSP whose secret is sealed, with
 * no customer to look up — goes with the other creates of the moment in one transaction
 * (store/epayment-creator.ts); the rest (errors to keep under the key, customers) on its own.
 */
export async function createPayment(
  deps: PaymentDeps, pspId: string, msn: string, body: unknown, idempotencyKey: string | undefined, headers?: Record<string, string>,
): Promise<CreateAnswer> {
  const now = deps.clock.now();
  let request: CreatePayment | undefined;
  try {
    request = validateCreate(body, { allowHttp: deps.config.allowPrivateCallbacks, now });
  } catch { /* answered, and kept under the key, by the single create */ }
  // The Vipps-System-* headers go with the payment (the go-live checklist asks for them).
  const withHeaders = (r: CreatePayment): CreatePayment => (headers ? { ...r, extra: { ...r.extra, headers } } : r);
  if (request && idempotencyKey !== undefined && request.customerPhone === undefined && request.cardPassthrough.publicEncryptionKeyId === undefined && SEALED.has(pspId)) {
    const pspReference = newPspReference();
    const stored: StoredCreate = { reference: request.reference, userFlow: request.userFlow, ...(request.qrFormat ? { qrFormat: request.qrFormat.format } : {}) };
    const token = deps.paymentTokens.epaymentToken(msn, request.reference);
    const outcome = await deps.epaymentCreator.create({
      pspId, scope: `epayment:create:${msn}`, key: idempotencyKey, requestHash: requestHashOf(body), now,
      row: newRow(deps, pspId, msn, withHeaders(request), undefined, pspReference, now, token), pspReference, created: stored,
    });
    if (outcome.kind === 'created') return answerOf(deps, msn, stored, token);
  }
  const stored = await keyed(deps, { pspId, scope: `epayment:create:${msn}`, key: idempotencyKey, request: body, conflict: 4020 }, async (tx) => {
    const checked = validateCreate(body, { allowHttp: deps.config.allowPrivateCallbacks, now });
    if (!SEALED.has(pspId) && !(await findSealedClientSecret(tx, pspId))) {
      throw new ApiError(403, 'secret_not_sealed', 'This PSP\'s client secret was stored before this server kept secrets it can sign with. Rotate it (POST /admin/psps/{pspId}/rotate-secret) to sign card callbacks, then create the payment again.', { title: 'Forbidden' });
    }
    let customerPhone: string | undefined;
    if (checked.customerPhone !== undefined) {
      customerPhone = await userForPhone(tx, checked.customerPhone);
      if (customerPhone === undefined) throw epaymentError(7010, `Customer not found: no test user has the phone number ${checked.customerPhone}. Create one with POST /admin/users.`);
    }
    const keyId = checked.cardPassthrough.publicEncryptionKeyId;
    if (keyId !== undefined && !(await findEncryptionKey(tx, pspId, keyId))) {
      throw schemaError([{ name: 'cardPassthrough.publicEncryptionKeyId', reason: `No public key ${keyId} is registered for this PSP. Register one with POST /admin/psps/{pspId}/encryption-keys.` }]);
    }
    SEALED.add(pspId);
    const pspReference = newPspReference();
    const inserted = await insertEpayment(tx, newRow(deps, pspId, msn, withHeaders(checked), customerPhone, pspReference, now, deps.paymentTokens.epaymentToken(msn, checked.reference)),
      { name: 'CREATED', amount: checked.amount.value, pspReference, idempotencyKey: idempotencyKey ?? null, success: true, createdAt: now });
    if (inserted === 'duplicate') throw referenceExists(checked.reference, msn);
    // What is stored for a retry: enough to build the answer again; the token in the URL is derived.
    return { reference: checked.reference, userFlow: checked.userFlow, ...(checked.qrFormat ? { qrFormat: checked.qrFormat.format } : {}) } as StoredCreate;
  });
  return answerOf(deps, msn, stored);
}

export const money = (currency: string, value: number) => ({ currency, value });

/** The aggregate amounts of a payment, as GET, the adjustments and the operator API show them. */
export function aggregateOf(p: Pick<EpaymentRow, 'currency' | 'authorizedAmount' | 'cancelledAmount' | 'capturedAmount' | 'refundedAmount'>) {
  return {
    authorizedAmount: money(p.currency, p.authorizedAmount),
    cancelledAmount: money(p.currency, p.cancelledAmount),
    capturedAmount: money(p.currency, p.capturedAmount),
    refundedAmount: money(p.currency, p.refundedAmount),
  };
}

function notFound(reference: string, msn: string): ApiError {
  return epaymentError(5090, `Reference not found: sales unit ${msn} has no payment with reference ${reference}.`);
}

/** GET /epayment/v1/payments/{reference} */
export async function getPayment(deps: PaymentDeps, msn: string, reference: string) {
  const p = await deps.database.epayments.read(msn, reference);
  if (!p) throw notFound(reference, msn);
  const redirectUrl = p.state === 'CREATED' ? redirectUrlOf(deps, { msn, reference, userFlow: p.user_flow, qrFormat: p.qr_format ?? undefined }) : undefined;
  return {
    aggregate: {
      authorizedAmount: money(p.currency, p.authorized_amount),
      cancelledAmount: money(p.currency, p.cancelled_amount),
      capturedAmount: money(p.currency, p.captured_amount),
      refundedAmount: money(p.currency, p.refunded_amount),
    },
    amount: money(p.currency, p.amount),
    state: p.state,
    paymentMethod: { type: p.payment_method, ...(p.card_bin ? { cardBin: p.card_bin } : {}) },
    profile: {},
    pspReference: p.psp_reference,
    reference: p.reference,
    ...(redirectUrl ? { redirectUrl } : {}),
    ...(p.metadata ? { metadata: p.metadata } : {}),
  };
}

/** GET /epayment/v1/payments/{reference}/events: one statement. */
export async function getEvents(deps: PaymentDeps, msn: string, reference: string) {
  const events = await deps.database.query<{
    reference: string; currency: string; name: string; amount: number; psp_reference: string; idempotency_key: string | null; success: boolean; created_at: Date | string;
  }>('epayment_events', EVENTS_OF_REFERENCE, [msn, reference]);
  if (events.length === 0) throw notFound(reference, msn);
  return events.map((e) => ({
    reference: e.reference,
    pspReference: e.psp_reference,
    name: e.name,
    amount: money(e.currency, Number(e.amount)),
    timestamp: new Date(e.created_at).toISOString(),
    idempotencyKey: e.idempotency_key,
    success: e.success,
  }));
}

type AdjustKind = Adjustment['kind'];
const CONFLICT = { capture: 4010, refund: 4150, cancel: 4020 } as const;

/** The modificationAmount of a capture or refund: an Amount in the payment's currency, more than 0. */
function modificationAmount(body: unknown, currency: string): number {
  const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const problems: Array<{ name: string; reason: string }> = [];
  const code = checkAmount(b.modificationAmount, 'modificationAmount', problems);
  if (problems.length > 0) throw schemaError(problems);
  if (code) throw epaymentError(code, 'Invalid amount: an integer in minor units (øre, cents), without decimals.');
  const amount = b.modificationAmount as Amount;
  if (amount.currency !== currency) throw epaymentError(4040, `Invalid amount: the payment is in ${currency}, not ${amount.currency}.`);
  if (amount.value <= 0) throw epaymentError(4040, 'Invalid amount: the value must be more than 0.');
  return amount.value;
}

function cancelOptions(body: unknown): boolean {
  if (body === undefined || body === null) return false;
  if (typeof body !== 'object' || Array.isArray(body)) throw schemaError([{ name: 'body', reason: 'The body must be a JSON object or empty.' }]);
  const only = (body as Record<string, unknown>).cancelTransactionOnly;
  if (only !== undefined && only !== null && typeof only !== 'boolean') {
    throw schemaError([{ name: 'cancelTransactionOnly', reason: 'The cancelTransactionOnly must be true or false.' }]);
  }
  return only === true;
}

function adjustmentOf(kind: AdjustKind, body: unknown, p: EpaymentRow): Adjustment {
  return kind === 'cancel' ? { kind, transactionOnly: cancelOptions(body) } : { kind, value: modificationAmount(body, p.currency) };
}

function totalsOf(p: EpaymentRow, now: Date): Totals {
  return {
    state: p.state as Totals['state'], amount: p.amount, authorized: p.authorizedAmount, captured: p.capturedAmount,
    refunded: p.refundedAmount, cancelled: p.cancelledAmount,
    authorizing: p.callbackLeaseUntil !== null && p.callbackLeaseUntil > now,
  };
}

/**
 * The common case of a keyed capture, refund or cancel — a new key, an adjustment the rules allow —
 * in two statements and one commit: the payment read, then the adjustment applied if the payment is
 * unchanged, with its event and its answer under the key (store/epayments.ts adjustIfUnchanged).
 * Undefined for everything else (a key seen before, an error to keep under the key, nothing to
 * change, a payment changed or a key stored in between): the transaction of keyed() decides then.
 */
async function adjustAtOnce(
  deps: PaymentDeps, kind: AdjustKind, pspId: string, msn: string, reference: string, body: unknown, key: string,
): Promise<ReturnType<typeof modificationResponse> | undefined> {
  const scope = `epayment:${kind}:${msn}:${reference}`;
  const read = await epaymentForAdjustment(deps.database, msn, reference, { pspId, scope, key });
  if (!read || read.keyUsed) return undefined;
  const p = read.payment;
  const now = deps.clock.now();
  let outcome: ReturnType<typeof adjust>;
  try {
    outcome = adjust(totalsOf(p, now), adjustmentOf(kind, body, p));
  } catch (err) {
    if (err instanceof ApiError) return undefined;
    throw err;
  }
  if (!outcome.event) return undefined;
  const t = outcome.totals;
  const pspReference = newPspReference();
  const answer = modificationResponse({ ...p, state: t.state, capturedAmount: t.captured, refundedAmount: t.refunded, cancelledAmount: t.cancelled }, pspReference);
  try {
    const applied = await adjustIfUnchanged(deps.database, {
      before: p, state: t.state, captured: t.captured, refunded: t.refunded, cancelled: t.cancelled, now,
      key: { pspId, scope, key, requestHash: requestHashOf(body ?? null), answer },
      event: { name: outcome.event.name, amount: outcome.event.amount, pspReference },
    });
    return applied ? answer : undefined;
  } catch (err) {
    if (isUniqueViolation(err) && !isDatabaseUnavailable(err)) return undefined;
    throw err;
  }
}

function modificationResponse(row: EpaymentRow, pspReference: string) {
  return {
    amount: money(row.currency, row.amount),
    state: row.state,
    aggregate: aggregateOf(row),
    pspReference,
    reference: row.reference,
  };
}

/** POST …/capture, …/refund, …/cancel: the ModificationResponse. */
export async function adjustPayment(
  deps: PaymentDeps, kind: AdjustKind, pspId: string, msn: string, reference: string, body: unknown, idempotencyKey: string | undefined,
) {
  if (idempotencyKey !== undefined) {
    const done = await adjustAtOnce(deps, kind, pspId, msn, reference, body, idempotencyKey);
    if (done) return done;
  }
  return keyed(deps, { pspId, scope: `epayment:${kind}:${msn}:${reference}`, key: idempotencyKey, request: body ?? null, conflict: CONFLICT[kind] }, async (tx) => {
    const p = await lockEpayment(tx, msn, reference);
    if (!p) throw notFound(reference, msn);
    const now = deps.clock.now();
    const outcome = adjust(totalsOf(p, now), adjustmentOf(kind, body, p));
    let row = p;
    let pspReference = p.pspReference;
    if (outcome.event) {
      pspReference = newPspReference();
      const t = outcome.totals;
      row = await applyAdjustment(tx, {
        paymentId: p.paymentId, state: t.state, captured: t.captured, refunded: t.refunded, cancelled: t.cancelled, now,
        event: { name: outcome.event.name, amount: outcome.event.amount, pspReference, idempotencyKey: idempotencyKey ?? null },
      });
    } else {
      pspReference = (await eventsOf(tx, p.paymentId)).at(-1)?.pspReference ?? p.pspReference;
    }
    return modificationResponse(row, pspReference);
  });
}

export type { Currency };
