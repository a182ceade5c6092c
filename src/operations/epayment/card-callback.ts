// Sends one card callback for an ePayment payment and applies the PSP's answer. The callback is signed
// with the PSP's client secret (HMAC-SHA256, the Webhooks scheme), claimed and recorded before it is
// sent (store/epayments.ts beginCallback: exactly one callback per attempt, across processes), sent
// once (never retried by the wallet), and completed with the answer, its latency and its outcome:
//   RESERVE → AUTHORIZED with its AUTHORIZED event; FAIL → the attempt failed (a retryable code lets the
//   user try again); SOFT_DECLINE → the user's 3-D Secure step, then a second callback with the same
//   authorizationAttemptId; HTTP error, timeout, malformed answer → the payment takes no more attempts.
import { randomBytes, randomUUID } from 'node:crypto';
import { callbackBody, cardBinOf, interpretCallbackAnswer, paysWithPan, recordedBody, type CallbackAnswer, type CardCallbackBody, type WalletCard } from '../../domain/epayment/card-callback.ts';
import type { CardType } from '../../domain/epayment/create-request.ts';
import { signRequest } from '../../security/request-signature.ts';
import { unseal } from '../../security/sealed-secrets.ts';
import { applyCallbackResult, beginCallback, setCallbackHeaders, type CallbackChanges, type EpaymentRow } from '../../store/epayments.ts';
import { newPspReference } from './ids.ts';
import { findSealedClientSecret } from '../../store/psps.ts';
import { findEncryptionKey } from '../../store/encryption-keys.ts';
import type { PaymentDeps } from '../payment-deps.ts';

export interface CallbackAttempt {
  payment: EpaymentRow;
  /** The card, and the type it pays as in this payment (domain/epayment/card-callback.ts allowedCards). */
  card: WalletCard & { cardType: CardType };
  phone: string;
  /** 1, or 2 for the callback after 3-D Secure (with the first one's authorizationAttemptId). */
  round: number;
  authorizationAttemptId?: string;
}

export type CallbackOutcome =
  | { sent: false; reason: 'not-claimed' | 'no-secret' | 'no-key' }
  | { sent: true; answer: CallbackAnswer; authorizationAttemptId: string; payment: EpaymentRow };

/** Where the PSP's 3-D Secure page sends the user back to; the app intercepts it. */
export function softDeclineCompletedUrl(deps: PaymentDeps, p: EpaymentRow): string {
  const ref = deps.paymentTokens.softDeclineRef(p.msn, p.reference);
  return `${deps.config.publicUrl}/mobileintercept?transactionId=${encodeURIComponent(ref)}&responsecode=OK`;
}

/** What the PSP's answer changes on the payment. */
function changesFor(answer: CallbackAnswer, body: CardCallbackBody, authorizationAttemptId: string): CallbackChanges {
  switch (answer.kind) {
    case 'reserve':
      return { state: 'AUTHORIZED', authorize: true, cardBin: cardBinOf(body), networkTransactionReference: answer.networkTransactionReference };
    case 'fail':
      return {
        failureMessage: answer.errorMessage ?? 'The card was declined.',
        ...(answer.retryable ? {} : { closedReason: `FAIL${answer.errorCode === null ? '' : ` ${answer.errorCode}`}` }),
      };
    case 'soft-decline':
      return { softDeclineUrl: answer.softDeclineUrl, pendingAttemptId: authorizationAttemptId };
    case 'error':
      return { closedReason: answer.reason.slice(0, 200) };
  }
}

/** What an outbound call failed by a fault rule comes back with (after the rule's delay, within `timeoutMs`). */
export async function faultedAnswer(rule: { delayMs: number; status: number | null; dropConnection: boolean }, timeoutMs: number): Promise<{ status?: number; body?: string; error?: string; latencyMs: number }> {
  const wait = Math.min(rule.delayMs, timeoutMs);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  if (rule.delayMs >= timeoutMs) return { error: `no answer within ${timeoutMs} ms (a fault rule)`, latencyMs: wait };
  if (rule.dropConnection) return { error: 'the connection was dropped by a fault rule', latencyMs: wait };
  return { status: rule.status ?? 500, body: `failed by a fault rule (HTTP ${rule.status})`, latencyMs: wait };
}

/**
 * The PSPs' client secrets, unsealed, by the sealed text they came from. beginCallback returns the
 * sealed text stored now: when a rotation changed it, the signature is made again before sending.
 */
const SECRETS = new Map<string, { sealed: string; secret: string }>();

export function secretOf(deps: PaymentDeps, pspId: string, sealed: string | null | undefined): string | undefined {
  if (!sealed) return undefined;
  const known = SECRETS.get(pspId);
  if (known?.sealed === sealed) return known.secret;
  const secret = unseal(deps.sealKey, sealed);
  if (secret !== undefined) SECRETS.set(pspId, { sealed, secret });
  return secret;
}

/** The PSP's client secret, unsealed (undefined: none that can be read). */
export async function clientSecretOf(deps: PaymentDeps, pspId: string): Promise<string | undefined> {
  return SECRETS.get(pspId)?.secret ?? secretOf(deps, pspId, await findSealedClientSecret(deps.database.db, pspId));
}

/**
 * POSTs a signed card callback (ePayment's or an agreement's), unless a cardCallback fault rule of
 * the test environment holds it back as a slow network would, or fails it as if the PSP had answered
 * the rule's status or the connection had broken.
 */
export async function postCardCallback(deps: PaymentDeps, c: { pspId: string; msn: string; ids: string[]; url: string; text: string; headers: Record<string, string> }): Promise<{ status?: number; body?: string; error?: string; latencyMs: number }> {
  const rule = deps.controls?.has('cardCallback')
    ? await deps.controls.take('cardCallback', { pspId: c.pspId, msn: c.msn, pspTransactionIds: c.ids }).catch(() => undefined)
    : undefined;
  return rule && (rule.status !== null || rule.dropConnection)
    ? faultedAnswer(rule, deps.config.cardCallbackTimeoutMs)
    : deps.callbackClient.sendRaw(c.url, { 'content-type': 'application/json', accept: 'application/json', ...c.headers }, c.text, rule?.delayMs ?? 0);
}

export async function sendCardCallback(deps: PaymentDeps, a: CallbackAttempt): Promise<CallbackOutcome> {
  const p = a.payment;
  let secret = SECRETS.get(p.pspId)?.secret;
  if (secret === undefined) {
    secret = secretOf(deps, p.pspId, await findSealedClientSecret(deps.database.db, p.pspId));
    if (secret === undefined) return { sent: false, reason: 'no-secret' };
  }
  const authorizationAttemptId = a.authorizationAttemptId ?? randomUUID();
  // A standalone Dankort goes as encryptedPan, with the key the payment names (looked up each time:
  // a key removed since the payment was created must no longer be used).
  const withPan = paysWithPan(a.card, a.card.cardType);
  const key = withPan && p.publicEncryptionKeyId !== null ? await findEncryptionKey(deps.database.db, p.pspId, p.publicEncryptionKeyId) : undefined;
  const body = callbackBody({
    pspReference: p.cardPspReference, authorizationAttemptId, msn: p.msn, amount: { currency: p.currency as 'NOK', value: p.amount },
    softDeclineCompletedRedirectUrl: softDeclineCompletedUrl(deps, p), card: a.card, cardType: a.card.cardType, cryptogram: randomBytes(20).toString('base64'),
    issuedIn: p.currency === 'DKK' || a.card.brand.includes('DANKORT') ? 'DK' : p.currency === 'EUR' ? 'FI' : 'NO',
    // The payload's time, like the signature's date, is the wall clock's.
    ...(withPan ? { pan: { publicKeyPem: key?.publicKeyPem, at: new Date() } } : {}),
  });
  const text = JSON.stringify(body);
  await deps.outbound.acquire(p.pspId);
  try {
    // The signature's date is the wall clock's: the PSP checks it against its own, whatever the
    // test environment's time travel did to this server's clock.
    let signature = signRequest(p.cardCallbackUrl, text, secret, new Date());
    const begun = deps.clock.now();
    const lease = new Date(begun.getTime() + deps.config.cardCallbackTimeoutMs + 5000);
    const begin = await beginCallback(deps.database, {
      paymentId: p.paymentId, authorizationAttemptId, round: a.round, url: p.cardCallbackUrl,
      requestHeaders: { ...signature }, requestBody: recordedBody(body), lease, now: begun, phone: a.phone, cardId: a.card.cardId,
    });
    if (begin === undefined) return { sent: false, reason: 'not-claimed' };
    const notSent = async (error: string, changes: CallbackChanges) => {
      await applyCallbackResult(deps.database, {
        callbackId: begin.callbackId, paymentId: p.paymentId, outcome: 'ERROR', responseStatus: null, responseBody: null, latencyMs: 0,
        error: `not sent: ${error}`, now: deps.clock.now(), changes,
      });
    };
    if (withPan && !key) {
      // The key was removed after the payment was created: the attempt fails, and the user may pay
      // with another card.
      await notSent(`the payment's publicEncryptionKeyId ${p.publicEncryptionKeyId ?? ''} is not a registered key of the PSP, so the Dankort's number cannot be encrypted`,
        { failureMessage: 'this card cannot be used for this payment' });
      return { sent: false, reason: 'no-key' };
    }
    const current = secretOf(deps, p.pspId, begin.sealedSecret);
    if (current === undefined) {
      await notSent('the PSP has no client secret to sign with', { closedReason: 'no client secret to sign with' });
      return { sent: false, reason: 'no-secret' };
    }
    if (current !== secret) {
      // Rotated since this process last signed for the PSP: signed again, and the record says so.
      signature = signRequest(p.cardCallbackUrl, text, current, new Date());
      await setCallbackHeaders(deps.database.db, begin.callbackId, { ...signature });
    }
    // Host goes as the URL gives it (the same authority the signature covers).
    const { host: _host, ...headers } = signature;
    const result = await postCardCallback(deps, { pspId: p.pspId, msn: p.msn, ids: [p.reference], url: p.cardCallbackUrl, text, headers });
    const answer = interpretCallbackAnswer(result.status, result.body, result.error, a.round);
    const now = deps.clock.now();
    // The answer recorded, and applied to the payment while it is still CREATED (not expired or
    // cancelled meanwhile) and the record still in flight (not closed as abandoned): one statement.
    const payment = await applyCallbackResult(deps.database, {
      callbackId: begin.callbackId, paymentId: p.paymentId,
      outcome: answer.kind === 'reserve' ? 'RESERVE' : answer.kind === 'fail' ? 'FAIL' : answer.kind === 'soft-decline' ? 'SOFT_DECLINE' : 'ERROR',
      responseStatus: result.status ?? null, responseBody: result.body ?? null, latencyMs: result.latencyMs,
      error: answer.kind === 'error' ? answer.reason : null, now, changes: changesFor(answer, body, authorizationAttemptId),
      ...(answer.kind === 'reserve' ? { authorizedEvent: { pspReference: newPspReference(), amount: p.amount } } : {}),
    }) ?? p;
    deps.log.info({ reference: p.reference, msn: p.msn, pspId: p.pspId, round: a.round, status: result.status, error: result.error, outcome: answer.kind, ms: result.latencyMs }, 'card callback sent');
    if (answer.kind === 'reserve') deps.webhooks?.wake();
    return { sent: true, answer, authorizationAttemptId, payment };
  } finally {
    deps.outbound.release(p.pspId);
  }
}
