// Charges of Recurring PSP agreements: the v4 batch (RECURRING charges due on a date, UNSCHEDULED
// ones with their card data at once), payment-info, the PSP's result, and the v3 get, list, capture,
// refund and cancel. Every change is one transaction, under its Idempotency-Key (epayment/keyed.ts).
import { randomBytes } from 'node:crypto';
import { callbackBody, paysWithPan, type WalletCard } from '../../domain/epayment/card-callback.ts';
import type { CardType } from '../../domain/epayment/create-request.ts';
import type { FieldProblem } from '../../domain/errors.ts';
import { badRequest, conflict, idempotencyConflict, notFound, recurringSchemaError } from '../../domain/recurring/errors.ts';
import {
  cancel, capture, CHARGE_STATUSES, checkItem, checkResult, isDueAt, MAX_BATCH, osloDate, osloStartOf, refund, retryUntilOf, succeededStatus, type BatchItem, type ChargeResult,
} from '../../domain/recurring/charges.ts';
import { requestHashOf, keyed } from '../epayment/keyed.ts';
import { findEncryptionKey } from '../../store/encryption-keys.ts';
import {
  addChargeEvent, chargesByIds, chargesOfAgreement, findAgreement, historyOf, insertCharges, lockCharge, openAttempt, readAgreement, readCharge, readHistory,
  shareAgreements, updateCharge, type AgreementRow, type ChargeEventRow, type ChargeRow, type NewCharge,
} from '../../store/recurring.ts';
import type { CardRow } from '../../store/users.ts';
import type { Db, Tx } from '../../store/db.ts';
import { findCard } from '../../store/users.ts';
import type { PaymentDeps } from '../payment-deps.ts';
import { agreementSoftDeclineUrl } from './sign-up.ts';
import { newTransactionId } from './agreements.ts';

interface ItemOutcome { agreementId: string | null; chargeId: string | null; [k: string]: unknown }

export interface BatchAnswer {
  successfulCharges: ItemOutcome[];
  failedCharges: ItemOutcome[];
  retryableCharges: ItemOutcome[];
}

function failed(agreementId: string | null, chargeId: string | null, code: string, message: string, extraDetails: FieldProblem[] = []): ItemOutcome {
  return { agreementId, chargeId, error: { code, message, ...(extraDetails.length ? { extraDetails } : {}) } };
}

/** The card data of a charge: the agreement's card, as the card callback carries it (a fresh cryptogram each time). */
async function cardInfoFor(deps: PaymentDeps, db: Db | Tx, a: AgreementRow, amount: number, cards?: Map<string, CardRow | undefined>): Promise<Record<string, unknown> | undefined> {
  if (!a.cardId || !a.cardType) return undefined;
  let card = cards?.get(a.cardId);
  if (card === undefined) {
    card = await findCard(db as Tx, a.cardId);
    cards?.set(a.cardId, card);
  }
  if (!card) return undefined;
  const wallet: WalletCard = { cardId: card.cardId, brand: card.brand, last4: card.last4, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear };
  const cardType = a.cardType as CardType;
  const withPan = paysWithPan(wallet, cardType);
  const key = withPan && a.publicEncryptionKeyId ? await findEncryptionKey(db as Tx, a.pspId, a.publicEncryptionKeyId) : undefined;
  const body = callbackBody({
    pspReference: a.cardPspReference, authorizationAttemptId: '', msn: a.msn, amount: { currency: a.currency as 'NOK', value: amount },
    softDeclineCompletedRedirectUrl: agreementSoftDeclineUrl(deps, a.agreementId), card: wallet, cardType, cryptogram: randomBytes(20).toString('base64'),
    issuedIn: a.currency === 'DKK' || card.brand.includes('DANKORT') ? 'DK' : a.currency === 'EUR' ? 'FI' : 'NO',
    ...(withPan ? { pan: { publicKeyPem: key?.publicKeyPem, at: new Date() } } : {}),
  });
  return body.cardInfo as unknown as Record<string, unknown>;
}

/**
 * POST /recurring/v4/agreements/charges: a batch of 1 to 50 charges. The call succeeds (200) when the
 * batch is an array of 1–50; each charge then lands in one of the three lists (open-questions G1, G2):
 *   successful: created (an UNSCHEDULED one with its cardInfo), or the same charge sent again;
 *   failed: invalid, or refused by its agreement (not found, not ACTIVE, above a VARIABLE agreement's
 *     maxAmount), or its chargeId already used with another charge; do not send it again as it is;
 *   retryable: its agreement's card is being changed at this moment; send it again, with the same
 *     agreementId and chargeId.
 */
export async function createCharges(deps: PaymentDeps, pspId: string, msn: string, body: unknown, idempotencyKey: string): Promise<BatchAnswer> {
  if (!Array.isArray(body) || body.length < 1 || body.length > MAX_BATCH) {
    throw recurringSchemaError([{ name: 'body', reason: `The body must be a JSON array of 1 to ${MAX_BATCH} charges.` }]);
  }
  return keyed(deps, { pspId, scope: `recurring:charges:${msn}`, key: idempotencyKey, request: body, conflict: idempotencyConflict }, async (tx) => {
    const now = deps.clock.now();
    const today = osloDate(now);
    // Set-based: the batch's agreements (share-locked) and its charges already there, one statement
    // each; the new charges and their CREATEs in one more.
    const slots: Array<{ list: keyof BatchAnswer; outcome: ItemOutcome } | { item: BatchItem; hash: string }> = [];
    const seen = new Set<string>();
    for (let i = 0; i < body.length; i++) {
      const checked = checkItem(body[i], i);
      if ('problems' in checked) {
        slots.push({ list: 'failedCharges', outcome: failed(checked.agreementId, checked.chargeId, 'invalid_charge', 'The charge is invalid: see extraDetails.', checked.problems) });
      } else if (seen.has(checked.item.chargeId)) {
        slots.push({ list: 'failedCharges', outcome: failed(checked.item.agreementId, checked.item.chargeId, 'duplicate_charge_id', `The chargeId ${checked.item.chargeId} is in this batch more than once.`) });
      } else {
        seen.add(checked.item.chargeId);
        slots.push({ item: checked.item, hash: requestHashOf(checked.item) });
      }
    }
    const items = slots.filter((x): x is { item: BatchItem; hash: string } => 'item' in x);
    const agreements = await shareAgreements(tx, msn, [...new Set(items.map((x) => x.item.agreementId))]);
    const existing = await chargesByIds(tx, msn, items.map((x) => x.item.chargeId));
    const cards = new Map<string, CardRow | undefined>();
    const fresh: NewCharge[] = [];
    const decided = new Map<string, { list: keyof BatchAnswer; outcome?: ItemOutcome; row?: ChargeRow; a?: AgreementRow }>();
    for (const { item, hash } of items) {
      const a = agreements.get(item.agreementId);
      const found = existing.get(item.chargeId);
      const no = (code: string, message: string, details: FieldProblem[] = [], list: keyof BatchAnswer = 'failedCharges') =>
        decided.set(item.chargeId, { list, outcome: failed(item.agreementId, item.chargeId, code, message, details) });
      if (!a) { no('agreement_not_found', `No agreement ${item.agreementId} in sales unit ${msn}.`); continue; }
      if (found) {
        if (found.requestHash !== hash) no('charge_id_used', `The chargeId ${item.chargeId} is already a charge of this sales unit, with other details.`);
        else decided.set(item.chargeId, { list: 'successfulCharges', row: found, a });
        continue;
      }
      if (a.status !== 'ACTIVE') { no('agreement_not_active', `The agreement is ${a.status}: only an ACTIVE agreement takes charges.`); continue; }
      if (a.callbackLeaseUntil !== null && a.callbackLeaseUntil > now) {
        no('card_change_in_progress', 'The user is changing the agreement\'s card at this moment: send the charge again shortly.', [], 'retryableCharges');
        continue;
      }
      if (item.type === 'RECURRING' && item.due! < today) {
        no('invalid_due_date', `The due date ${item.due} has passed (today is ${today} in Norway).`, [{ name: 'due', reason: 'Must be today or later.' }]);
        continue;
      }
      const maxAmount = a.pricingType === 'VARIABLE' ? a.maxAmount ?? a.suggestedMaxAmount : null;
      if (maxAmount !== null && item.amount > maxAmount) {
        no('charge_amount_too_high', `The amount ${item.amount} is above the ${maxAmount} the user accepted for this VARIABLE agreement.`);
        continue;
      }
      const row: NewCharge = {
        msn, chargeId: item.chargeId, agreementId: a.agreementId, pspId, type: item.type, transactionType: item.transactionType, amount: item.amount,
        currency: a.currency, description: item.description ?? a.productName, due: item.due, retryDays: item.retryDays,
        retryUntil: item.due ? retryUntilOf(item.due, item.retryDays) : null,
        status: item.type === 'UNSCHEDULED' ? 'PROCESSING' : 'DUE', externalId: item.externalId, requestHash: hash, transactionId: newTransactionId(),
        createdAt: now, updatedAt: now,
      };
      fresh.push(row);
      decided.set(item.chargeId, { list: 'successfulCharges', row: row as ChargeRow, a });
    }
    const inserted = await insertCharges(tx, fresh, idempotencyKey, now);
    if (inserted.size < fresh.length) {
      // Another batch inserted some of these chargeIds meanwhile: answered as a repeat, or refused.
      const raced = await chargesByIds(tx, msn, fresh.filter((r) => !inserted.has(r.chargeId)).map((r) => r.chargeId));
      for (const r of fresh.filter((x) => !inserted.has(x.chargeId))) {
        const other = raced.get(r.chargeId);
        if (other && other.requestHash === r.requestHash) decided.set(r.chargeId, { list: 'successfulCharges', row: other, a: decided.get(r.chargeId)!.a });
        else decided.set(r.chargeId, { list: 'failedCharges', outcome: failed(r.agreementId, r.chargeId, 'charge_id_used', `The chargeId ${r.chargeId} is already a charge of this sales unit, with other details.`) });
      }
    }
    const answer: BatchAnswer = { successfulCharges: [], failedCharges: [], retryableCharges: [] };
    for (const slot of slots) {
      if (!('item' in slot)) { answer[slot.list].push(slot.outcome); continue; }
      const d = decided.get(slot.item.chargeId)!;
      answer[d.list].push(d.outcome ?? await successOf(deps, tx, d.a!, d.row!, cards));
    }
    return answer;
  });
}

async function successOf(deps: PaymentDeps, tx: Tx, a: AgreementRow, c: ChargeRow, cards?: Map<string, CardRow | undefined>): Promise<ItemOutcome> {
  const out: ItemOutcome = { agreementId: c.agreementId, chargeId: c.chargeId, type: c.type, status: c.status, amount: c.amount, currency: c.currency };
  if (c.due) out.due = c.due;
  if (c.type === 'UNSCHEDULED') out.cardInfo = await cardInfoFor(deps, tx, a, c.amount, cards);
  return out;
}

async function chargeOf(deps: PaymentDeps, msn: string, agreementId: string, chargeId: string): Promise<{ a: AgreementRow; c: ChargeRow }> {
  const [a, c] = await Promise.all([readAgreement(deps.database, msn, agreementId), readCharge(deps.database, msn, chargeId)]);
  if (!a) throw notFound(`No agreement ${agreementId} in sales unit ${msn}.`);
  if (!c || c.agreementId !== agreementId) throw notFound(`No charge ${chargeId} of agreement ${agreementId}.`);
  return { a, c };
}

/**
 * GET …/charges/{chargeId}/payment-info: the card data of a RECURRING charge, on or after its due
 * date (open-questions G4). The charge is PROCESSING from then until the PSP reports its result; a
 * retry after a retryable failure fetches it again (a fresh cryptogram).
 */
export async function paymentInfo(deps: PaymentDeps, msn: string, agreementId: string, chargeId: string): Promise<Record<string, unknown>> {
  const { a, c } = await chargeOf(deps, msn, agreementId, chargeId);
  if (c.type !== 'RECURRING') throw conflict(`The charge is ${c.type}: only a RECURRING charge's card data is fetched with payment-info${c.type === 'UNSCHEDULED' ? ' (an UNSCHEDULED one had it in the batch answer)' : ''}.`);
  if (c.status !== 'DUE' && c.status !== 'PROCESSING') throw conflict(`The charge is ${c.status}: it takes no more payment attempts.`);
  const now = deps.clock.now();
  if (!isDueAt(c.due!, now)) throw conflict(`The charge is not due yet: it is due on ${c.due} (today is ${osloDate(now)} in Norway).`);
  if (a.status !== 'ACTIVE') throw conflict(`The agreement is ${a.status}: its charges take no payment attempts.`);
  const cardInfo = await cardInfoFor(deps, deps.database.db, a, c.amount);
  if (!cardInfo) throw conflict('The agreement has no card to pay with.');
  // The attempt opened in one statement (DUE or PROCESSING → PROCESSING, with PAYMENT_INFO).
  if (!(await openAttempt(deps.database, msn, chargeId, now, { cardType: a.cardType }))) throw conflict('The charge changed meanwhile: get it again.');
  return { agreementId, chargeId, amount: c.amount, currency: c.currency, cardInfo };
}

/**
 * POST …/charges/{chargeId}/result: the PSP's outcome (open-questions G5, and the README's decisions).
 * A RECURRING charge takes a result only after payment-info (else 409); a result repeated as it was
 * answers 204 again, another after a final one is a 409.
 */
export async function reportResult(deps: PaymentDeps, pspId: string, msn: string, agreementId: string, chargeId: string, body: unknown, idempotencyKey: string): Promise<void> {
  const checked = checkResult(body);
  if ('problems' in checked) throw recurringSchemaError(checked.problems);
  const r = checked.result;
  await keyed(deps, { pspId, scope: `recurring:result:${msn}:${chargeId}`, key: idempotencyKey, request: body, conflict: idempotencyConflict }, async (tx) => {
    const c = await lockCharge(tx, msn, chargeId);
    if (!c || c.agreementId !== agreementId) throw notFound(`No charge ${chargeId} of agreement ${agreementId}.`);
    const now = deps.clock.now();
    if (c.status !== 'PROCESSING') {
      if (c.result && sameResult(c.result, r)) return null;
      if (c.status === 'DUE') throw conflict('No payment attempt is open for this charge: fetch its payment-info first, then report the result.');
      throw conflict(`The charge is ${c.status}: its result was reported already${c.result ? ` (${String(c.result.status)})` : ''}.`);
    }
    if (r.status === 'SUCCESS') {
      const status = succeededStatus(c.transactionType);
      await updateCharge(tx, msn, chargeId, { status, result: r, capturedAmount: status === 'CHARGED' ? c.amount : 0, failureReason: null, failureDescription: null, updatedAt: now });
      await addChargeEvent(tx, { msn, chargeId, event: 'RESERVE', amount: c.amount, idempotencyKey, success: true, createdAt: now });
      if (status === 'CHARGED') await addChargeEvent(tx, { msn, chargeId, event: 'CAPTURE', amount: c.amount, idempotencyKey, success: true, createdAt: now });
      return null;
    }
    const retry = r.error.retry && c.type === 'RECURRING' && c.retryUntil !== null && now < c.retryUntil;
    await updateCharge(tx, msn, chargeId, retry
      ? { status: 'DUE', result: r, failureReason: null, failureDescription: r.error.message, updatedAt: now }
      : { status: 'FAILED', result: r, failureReason: 'non_technical_error', failureDescription: r.error.message ?? `Failed (code ${String(r.error.code ?? 'none')}).`, updatedAt: now });
    await addChargeEvent(tx, { msn, chargeId, event: 'FAIL', amount: c.amount, idempotencyKey, success: !retry, createdAt: now, detail: { code: r.error.code, retry: r.error.retry, message: r.error.message } });
    return null;
  });
}

function sameResult(stored: Record<string, unknown>, r: ChargeResult): boolean {
  return requestHashOf(stored) === requestHashOf(r);
}

/** ChargeResponseV3. */
export function chargeView(c: ChargeRow, history: ChargeEventRow[]): Record<string, unknown> {
  return {
    id: c.chargeId,
    agreementId: c.agreementId,
    amount: c.amount,
    currency: c.currency,
    description: c.description,
    due: c.due ? osloStartOf(c.due).toISOString() : c.createdAt.toISOString(),
    status: c.status,
    type: c.type,
    transactionType: c.transactionType,
    retryDays: c.retryDays,
    externalId: c.externalId ?? c.chargeId,
    transactionId: c.transactionId,
    ...(c.failureReason !== null ? { failureReason: c.failureReason } : {}),
    ...(c.failureDescription !== null ? { failureDescription: c.failureDescription } : {}),
    summary: { captured: c.capturedAmount, refunded: c.refundedAmount, cancelled: c.cancelledAmount },
    history: history.filter((h) => h.event !== 'PAYMENT_INFO').map((h) => ({
      occurred: h.createdAt.toISOString(), event: h.event, amount: h.amount, idempotencyKey: h.idempotencyKey ?? '', success: h.success,
    })),
  };
}

export async function getCharge(deps: PaymentDeps, msn: string, agreementId: string, chargeId: string): Promise<Record<string, unknown>> {
  const { c } = await chargeOf(deps, msn, agreementId, chargeId);
  return chargeView(c, await readHistory(deps.database, msn, [chargeId]));
}

export async function getChargeById(deps: PaymentDeps, msn: string, chargeId: string): Promise<Record<string, unknown>> {
  const c = await readCharge(deps.database, msn, chargeId);
  if (!c) throw notFound(`No charge ${chargeId} in sales unit ${msn}.`);
  return chargeView(c, await readHistory(deps.database, msn, [chargeId]));
}

export async function listCharges(deps: PaymentDeps, msn: string, agreementId: string, status: string | undefined): Promise<Record<string, unknown>[]> {
  if (status !== undefined && !(CHARGE_STATUSES as readonly string[]).includes(status)) {
    throw recurringSchemaError([{ name: 'status', reason: `The status must be one of ${CHARGE_STATUSES.join(', ')}.` }]);
  }
  const a = await findAgreement(deps.database.db, msn, agreementId);
  if (!a) throw notFound(`No agreement ${agreementId} in sales unit ${msn}.`);
  const charges = await chargesOfAgreement(deps.database.db, agreementId, status);
  const history = await historyOf(deps.database.db, msn, charges.map((c) => c.chargeId));
  const byCharge = new Map<string, ChargeEventRow[]>();
  for (const h of history) (byCharge.get(h.chargeId) ?? byCharge.set(h.chargeId, []).get(h.chargeId)!).push(h);
  return charges.map((c) => chargeView(c, byCharge.get(c.chargeId) ?? []));
}

/** The body of capture and refund: {amount, description} (CaptureRequestV3, RefundRequest). */
function amountBody(body: unknown): { amount: number; description: string } {
  const b = body as Record<string, unknown> | null | undefined;
  const problems: FieldProblem[] = [];
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw recurringSchemaError([{ name: 'body', reason: 'The body must be {"amount": 1000, "description": "…"}.' }]);
  if (typeof b.amount !== 'number' || !Number.isInteger(b.amount) || b.amount < 1) problems.push({ name: 'amount', reason: 'The amount is required: a positive integer (minor units).' });
  if (typeof b.description !== 'string' || b.description.length < 1 || b.description.length > 100) problems.push({ name: 'description', reason: 'The description is required: 1 to 100 characters.' });
  if (problems.length) throw recurringSchemaError(problems);
  return { amount: b.amount as number, description: b.description as string };
}

/** Capture, refund or cancel (DELETE) of a charge: 204, or 400 naming the rule it breaks. */
export async function adjustCharge(deps: PaymentDeps, kind: 'capture' | 'refund' | 'cancel', pspId: string, msn: string, agreementId: string, chargeId: string, body: unknown, idempotencyKey: string): Promise<void> {
  const wanted = kind === 'cancel' ? undefined : amountBody(body);
  await keyed(deps, { pspId, scope: `recurring:${kind}:${msn}:${chargeId}`, key: idempotencyKey, request: body ?? null, conflict: idempotencyConflict }, async (tx) => {
    const c = await lockCharge(tx, msn, chargeId);
    if (!c || c.agreementId !== agreementId) throw notFound(`No charge ${chargeId} of agreement ${agreementId}.`);
    const now = deps.clock.now();
    if (kind === 'capture') {
      const r = capture(c, wanted!.amount);
      if ('refused' in r) throw badRequest(r.refused);
      await updateCharge(tx, msn, chargeId, { status: r.status, capturedAmount: r.capturedAmount, updatedAt: now });
      await addChargeEvent(tx, { msn, chargeId, event: 'CAPTURE', amount: wanted!.amount, idempotencyKey, success: true, createdAt: now });
    } else if (kind === 'refund') {
      const r = refund(c, wanted!.amount);
      if ('refused' in r) throw badRequest(r.refused);
      await updateCharge(tx, msn, chargeId, { status: r.status, refundedAmount: r.refundedAmount, updatedAt: now });
      await addChargeEvent(tx, { msn, chargeId, event: 'REFUND', amount: wanted!.amount, idempotencyKey, success: true, createdAt: now });
    } else {
      const r = cancel(c);
      if ('refused' in r) throw badRequest(r.refused);
      await updateCharge(tx, msn, chargeId, { status: r.status, cancelledAmount: r.cancelledAmount, updatedAt: now });
      await addChargeEvent(tx, { msn, chargeId, event: 'CANCEL', amount: r.cancelledAmount, idempotencyKey, success: true, createdAt: now });
    }
    return null;
  });
}
