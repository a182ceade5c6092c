// The card callbacks of an agreement: the sign-up CIT when the user accepts (the initial charge's
// amount, or a zero-amount verification without one), and the zero-amount callback of a card change.
// The same body, signature and answers as ePayment's card callback (domain/epayment/card-callback.ts).
// Written ahead (agreement_callbacks, IN_FLIGHT) in the transaction that claims the agreement, so one
// callback at a time goes out per agreement across processes; completed with the answer:
//   sign-up RESERVE → ACTIVE, with the card, and the initial charge RESERVED (CHARGED for
//   DIRECT_CAPTURE); FAIL with a retryable code → the user may try again; a final FAIL, an HTTP
//   error, a timeout → no more attempts: the agreement stays PENDING until it expires (open-questions
//   G6); card change RESERVE → the new card pays from now on, anything else → the old card stays.
import { randomBytes, randomUUID } from 'node:crypto';
import { callbackBody, interpretCallbackAnswer, paysWithPan, recordedBody, type CallbackAnswer, type WalletCard } from '../../domain/epayment/card-callback.ts';
import type { CardType } from '../../domain/epayment/create-request.ts';
import { ApiError } from '../../domain/errors.ts';
import { badRequest, conflict } from '../../domain/recurring/errors.ts';
import { succeededStatus } from '../../domain/recurring/charges.ts';
import { signRequest } from '../../security/request-signature.ts';
import { findEncryptionKey } from '../../store/encryption-keys.ts';
import {
  addChargeEvent, agreementById, completeAgreementCallback, findAgreement, findCharge, insertAgreementCallback, lockAgreement, lockCharge, stopAgreement, updateAgreement, updateCharge,
  type AgreementRow,
} from '../../store/recurring.ts';
import { cardsOf } from '../../store/users.ts';
import { allowedCards } from '../../domain/epayment/card-callback.ts';
import { errors } from '../../domain/errors.ts';
import { notFound, recurringSchemaError } from '../../domain/recurring/errors.ts';
import { userForPhone } from '../epayment/payments.ts';
import { clientSecretOf, postCardCallback } from '../epayment/card-callback.ts';
import type { PaymentDeps } from '../payment-deps.ts';

export type Purpose = 'SIGNUP' | 'CARD_CHANGE';

export interface AgreementCallback {
  agreement: AgreementRow;
  card: WalletCard & { cardType: CardType };
  phone: string;
  purpose: Purpose;
  round: number;
  authorizationAttemptId?: string;
}

export type AgreementCallbackOutcome =
  | { sent: false; reason: 'not-claimed' | 'no-secret' | 'no-key' }
  | { sent: true; answer: CallbackAnswer; authorizationAttemptId: string; agreement: AgreementRow };

/** Where the PSP's 3-D Secure page sends the user back to (the app simulator sends the second callback). */
export function agreementSoftDeclineUrl(deps: PaymentDeps, agreementId: string): string {
  return `${deps.config.publicUrl}/recurring/soft-decline-completed?agreement=${encodeURIComponent(agreementId)}&ref=${encodeURIComponent(deps.paymentTokens.agreementSoftDeclineRef(agreementId))}`;
}

/** The amount the sign-up callback carries: the initial charge's, else 0 (a card verification). */
async function signUpAmount(deps: PaymentDeps, a: AgreementRow): Promise<number> {
  if (!a.initialChargeId) return 0;
  return (await findCharge(deps.database.db, a.msn, a.initialChargeId))?.amount ?? 0;
}

export async function sendAgreementCallback(deps: PaymentDeps, c: AgreementCallback): Promise<AgreementCallbackOutcome> {
  const a = c.agreement;
  const secret = await clientSecretOf(deps, a.pspId);
  if (secret === undefined) return { sent: false, reason: 'no-secret' };
  const withPan = paysWithPan(c.card, c.card.cardType);
  const key = withPan && a.publicEncryptionKeyId !== null ? await findEncryptionKey(deps.database.db, a.pspId, a.publicEncryptionKeyId) : undefined;
  if (withPan && !key) return { sent: false, reason: 'no-key' };
  const authorizationAttemptId = c.authorizationAttemptId ?? randomUUID();
  const amount = c.purpose === 'SIGNUP' ? await signUpAmount(deps, a) : 0;
  const body = callbackBody({
    pspReference: a.cardPspReference, authorizationAttemptId, msn: a.msn, amount: { currency: a.currency as 'NOK', value: amount },
    softDeclineCompletedRedirectUrl: agreementSoftDeclineUrl(deps, a.agreementId), card: c.card, cardType: c.card.cardType,
    cryptogram: randomBytes(20).toString('base64'),
    issuedIn: a.currency === 'DKK' || c.card.brand.includes('DANKORT') ? 'DK' : a.currency === 'EUR' ? 'FI' : 'NO',
    ...(withPan ? { pan: { publicKeyPem: key?.publicKeyPem, at: new Date() } } : {}),
  });
  const text = JSON.stringify(body);
  // The signature's date is the wall clock's: the PSP checks it against its own.
  const signature = signRequest(a.cardCallbackUrl, text, secret, new Date());
  const begun = deps.clock.now();
  const lease = new Date(begun.getTime() + deps.config.cardCallbackTimeoutMs + 5000);
  // Claimed: a sign-up only while PENDING with attempts left, a card change only while ACTIVE; and
  // no other callback of the agreement in flight.
  const claimed = await deps.database.db.transaction(async (tx) => {
    const locked = await lockAgreement(tx, a.msn, a.agreementId);
    if (!locked) return undefined;
    const inFlight = locked.callbackLeaseUntil !== null && locked.callbackLeaseUntil > begun;
    const state = c.purpose === 'SIGNUP' ? locked.status === 'PENDING' && locked.closedReason === null : locked.status === 'ACTIVE';
    if (inFlight || !state) return undefined;
    await updateAgreement(tx, a.agreementId, { callbackLeaseUntil: lease, updatedAt: begun });
    const callbackId = await insertAgreementCallback(tx, {
      agreementId: a.agreementId, purpose: c.purpose, authorizationAttemptId, round: c.round, url: a.cardCallbackUrl,
      requestHeaders: { ...signature }, requestBody: recordedBody(body), outcome: 'IN_FLIGHT', phone: c.phone, cardId: c.card.cardId, createdAt: begun,
    });
    return callbackId;
  });
  if (claimed === undefined) return { sent: false, reason: 'not-claimed' };
  const { host: _host, ...headers } = signature;
  let result: Awaited<ReturnType<typeof postCardCallback>>;
  try {
    result = await postCardCallback(deps, { pspId: a.pspId, msn: a.msn, ids: [a.agreementId, a.cardPspReference], url: a.cardCallbackUrl, text, headers });
  } catch (err) {
    result = { error: err instanceof Error ? err.message : String(err), latencyMs: 0 };
  }
  const answer = interpretCallbackAnswer(result.status, result.body, result.error, c.round);
  const now = deps.clock.now();
  const agreement = await deps.database.db.transaction(async (tx) => {
    await completeAgreementCallback(tx, claimed, {
      outcome: answer.kind === 'reserve' ? 'RESERVE' : answer.kind === 'fail' ? 'FAIL' : answer.kind === 'soft-decline' ? 'SOFT_DECLINE' : 'ERROR',
      responseStatus: result.status ?? null, responseBody: result.body?.slice(0, 4000) ?? null, latencyMs: result.latencyMs,
      error: answer.kind === 'error' ? answer.reason : null, completedAt: now,
    });
    const locked = (await lockAgreement(tx, a.msn, a.agreementId))!;
    const set: Parameters<typeof updateAgreement>[2] = { callbackLeaseUntil: null, updatedAt: now };
    if (c.purpose === 'SIGNUP') {
      // Applied only while it is still PENDING (not stopped or expired meanwhile).
      if (locked.status !== 'PENDING') return locked;
      if (answer.kind === 'reserve') {
        Object.assign(set, { status: 'ACTIVE', startedAt: now, phone: c.phone, cardId: c.card.cardId, cardType: c.card.cardType, failureMessage: null, maxAmount: locked.suggestedMaxAmount });
        // The agreement first, then its initial charge: their events (and webhooks) in that order.
        const activated = await updateAgreement(tx, a.agreementId, set);
        if (locked.initialChargeId) {
          const charge = await lockCharge(tx, a.msn, locked.initialChargeId);
          if (charge && charge.status === 'PENDING') {
            const status = succeededStatus(charge.transactionType);
            await updateCharge(tx, a.msn, charge.chargeId, { status, capturedAmount: status === 'CHARGED' ? charge.amount : 0, updatedAt: now });
            await addChargeEvent(tx, { msn: a.msn, chargeId: charge.chargeId, event: 'RESERVE', amount: charge.amount, success: true, createdAt: now });
            if (status === 'CHARGED') await addChargeEvent(tx, { msn: a.msn, chargeId: charge.chargeId, event: 'CAPTURE', amount: charge.amount, success: true, createdAt: now });
          }
        }
        return activated;
      } else if (answer.kind === 'fail') {
        set.failureMessage = answer.errorMessage ?? 'The card was declined.';
        if (!answer.retryable) set.closedReason = `FAIL${answer.errorCode === null ? '' : ` ${answer.errorCode}`}`;
      } else if (answer.kind === 'error') {
        set.closedReason = answer.reason.slice(0, 200);
      }
    } else if (answer.kind === 'reserve' && locked.status === 'ACTIVE') {
      Object.assign(set, { cardId: c.card.cardId, cardType: c.card.cardType });
    }
    return updateAgreement(tx, a.agreementId, set);
  });
  deps.log.info({ agreementId: a.agreementId, msn: a.msn, pspId: a.pspId, purpose: c.purpose, round: c.round, status: result.status, error: result.error, outcome: answer.kind, ms: result.latencyMs }, 'agreement card callback sent');
  return { sent: true, answer, authorizationAttemptId, agreement };
}

/**
 * Runs a callback as the app does for a test's shortcut (force accept, the harness): a SOFT_DECLINE's
 * 3-D Secure step counts as done at once and the second callback goes out. Throws the API's error
 * when the PSP did not reserve.
 */
export async function runCallbackToEnd(deps: PaymentDeps, c: AgreementCallback): Promise<AgreementRow> {
  let outcome = await sendAgreementCallback(deps, c);
  if (outcome.sent && outcome.answer.kind === 'soft-decline') {
    outcome = await sendAgreementCallback(deps, { ...c, agreement: outcome.agreement, round: 2, authorizationAttemptId: outcome.authorizationAttemptId });
  }
  if (!outcome.sent) {
    if (outcome.reason === 'no-secret') throw new ApiError(403, 'secret_not_sealed', 'This PSP\'s client secret must be rotated before its card callbacks can be signed.');
    if (outcome.reason === 'no-key') throw badRequest('The card is a standalone Dankort, and the agreement\'s publicEncryptionKeyId no longer names a registered key of the PSP, so its number cannot be encrypted.');
    throw conflict('The agreement cannot take this callback now: another card callback of it is in flight, or it is no longer in a state that takes one.');
  }
  const a = outcome.answer;
  switch (a.kind) {
    case 'reserve': return outcome.agreement;
    case 'fail':
      throw badRequest(`The PSP answered FAIL${a.errorCode === null ? '' : ` (errorCode ${a.errorCode}${a.errorMessage ? `, "${a.errorMessage}"` : ''})`}${c.purpose === 'SIGNUP' ? (a.retryable ? '; the user may try again' : '; the user may not try again, and the agreement expires') : '; the old card stays'}.`);
    case 'soft-decline':
      throw badRequest('The PSP answered SOFT_DECLINE again after 3-D Secure.');
    case 'error':
      throw badRequest(`The card callback failed (${a.reason}).${c.purpose === 'SIGNUP' ? ' The agreement takes no more attempts and expires.' : ' The old card stays.'}`);
  }
}

/** The user's cards that an agreement allows, each with the type it pays as (the app's choice, force accept's first). */
export async function cardsFor(deps: PaymentDeps, a: AgreementRow, phone: string) {
  const cards = await cardsOf(deps.database.db, [phone]);
  return allowedCards(cards.map((c) => ({ cardId: c.cardId, brand: c.brand, last4: c.last4, expiryMonth: c.expiryMonth, expiryYear: c.expiryYear })),
    a.allowedCardTypes as CardType[], a.preferVisaPartOfVisaDankort, a.publicEncryptionKeyId !== null);
}

/**
 * PATCH /recurring/v3/agreements/{id}/accept (test environment): the user accepts as in the app, with
 * their first card the agreement allows (or `cardId`, this server's addition). The sign-up callback
 * goes to the PSP first; the agreement is ACTIVE only when it answers RESERVE (open-questions G8).
 * Accepting an agreement the same user already accepted answers as the first time.
 */
export async function forceAccept(deps: PaymentDeps, msn: string, agreementId: string, body: unknown): Promise<void> {
  if (deps.config.vippsEnv !== 'test') throw errors.testOnly();
  const b = body as Record<string, unknown> | null | undefined;
  if (typeof b !== 'object' || b === null || Array.isArray(b) || typeof b.phoneNumber !== 'string' || !/^\d{8,15}$/.test(b.phoneNumber)) {
    throw recurringSchemaError([{ name: 'phoneNumber', reason: 'The phoneNumber is required: the test user who accepts, e.g. "4792929292".' }]);
  }
  if (b.cardId !== undefined && b.cardId !== null && typeof b.cardId !== 'string') throw recurringSchemaError([{ name: 'cardId', reason: 'The cardId must be a string.' }]);
  const a = await findAgreement(deps.database.db, msn, agreementId);
  if (!a) throw notFound(`No agreement ${agreementId} in sales unit ${msn}.`);
  const phone = await deps.database.db.transaction((tx) => userForPhone(tx, b.phoneNumber as string));
  if (phone === undefined) throw badRequest(`No test user has the phone number ${b.phoneNumber}.`, [{ name: 'phoneNumber', reason: 'Not a test user.' }]);
  if (a.status === 'ACTIVE' && a.phone === phone) return;
  if (a.status !== 'PENDING') throw badRequest(`The agreement is ${a.status}: only a PENDING agreement can be accepted.`);
  if (a.closedReason !== null) throw badRequest(`The agreement takes no more attempts: an earlier sign-up callback ended them (${a.closedReason}). It expires.`);
  const cards = await cardsFor(deps, a, phone);
  const card = typeof b.cardId === 'string' ? cards.find((c) => c.cardId === b.cardId) : cards[0];
  if (!card) {
    throw badRequest(typeof b.cardId === 'string'
      ? `${b.cardId} is not a card of ${phone} that this agreement allows (${a.allowedCardTypes.join(', ')}).`
      : `The test user ${phone} has no card of the types this agreement allows (${a.allowedCardTypes.join(', ')}).`);
  }
  await runCallbackToEnd(deps, { agreement: a, card, phone, purpose: 'SIGNUP', round: 1 });
}

/** The user changes the card of an ACTIVE agreement (the app, the operator API, the harness): a zero-amount callback. */
export async function changeCard(deps: PaymentDeps, agreementId: string, cardId: string | undefined): Promise<AgreementRow> {
  const a = await agreementById(deps.database.db, agreementId);
  if (!a) throw notFound(`No agreement ${agreementId}.`);
  if (a.status !== 'ACTIVE' || a.phone === null) throw badRequest(`The agreement is ${a.status}: only an ACTIVE agreement's card can be changed.`);
  const cards = await cardsFor(deps, a, a.phone);
  const card = cardId !== undefined ? cards.find((c) => c.cardId === cardId) : cards.find((c) => c.cardId !== a.cardId);
  if (!card) throw badRequest(cardId !== undefined ? `${cardId} is not a card of ${a.phone} that this agreement allows.` : `The user ${a.phone} has no other card this agreement allows.`);
  return runCallbackToEnd(deps, { agreement: a, card, phone: a.phone, purpose: 'CARD_CHANGE', round: 1 });
}

/** The user stops an ACTIVE (or PENDING) agreement in the app. */
export async function stopByUser(deps: PaymentDeps, agreementId: string): Promise<AgreementRow> {
  return deps.database.db.transaction(async (tx) => {
    const found = await agreementById(tx, agreementId);
    if (!found) throw notFound(`No agreement ${agreementId}.`);
    const a = (await lockAgreement(tx, found.msn, agreementId))!;
    if (a.status !== 'ACTIVE' && a.status !== 'PENDING') throw badRequest(`The agreement is ${a.status}: it cannot be stopped.`);
    return stopAgreement(tx, a, 'USER', deps.clock.now(), null);
  });
}
