// Recurring agreements with card passthrough: draft, get, list, update and stop (the PSP's), expiry
// (the sweeper's). Each change is one transaction, under the Idempotency-Key when it has one
// (epayment/keyed.ts: a retry gets the first answer, another body with the key is a 409).
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { AGREEMENT_EXPIRY_MS, AGREEMENT_STATUSES, intervalText, validateDraft, validatePatch, type Draft } from '../../domain/recurring/agreement.ts';
import { badRequest, conflict, idempotencyConflict, notFound, recurringSchemaError } from '../../domain/recurring/errors.ts';
import { isUniqueViolation } from '../../store/db-errors.ts';
import { findEncryptionKey } from '../../store/encryption-keys.ts';
import {
  expireAgreements as expireDue, failOverdueCharges, insertAgreement, readAgreement, listAgreements as listOf, lockAgreement, stopAgreement, updateAgreement,
  type AgreementRow, type NewAgreement,
} from '../../store/recurring.ts';
import { keyed } from '../epayment/keyed.ts';
import type { PaymentDeps } from '../payment-deps.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function base62(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** An agreement's id, in the published form ("agr_5kSeqz"), with room for many. */
export const newAgreementId = (): string => `agr_${base62(10)}`;
/** A wallet-made charge id (the initial charge's): "chr-" and 11 characters, at most the v3 id's 15. */
export const newChargeId = (): string => `chr-${base62(11)}`;
/** A charge's transactionId: digits, as ChargeResponseV3's pattern has it. */
export const newTransactionId = (): string => `${randomInt(1, 10)}${Array.from({ length: 9 }, () => randomInt(10)).join('')}${randomBytes(2).readUInt16BE(0) % 10}`;

/** The page size of the agreement list (a server addition: `pageSize`, 1–1000). */
const DEFAULT_PAGE = 1000;

export interface DraftAnswer {
  agreementId: string;
  uuid: string;
  vippsConfirmationUrl: string;
  chargeId: string | null;
}

/** Where the user confirms an agreement: the landing page of the app simulator. */
export function confirmationUrlOf(deps: PaymentDeps, agreementId: string): string {
  return `${deps.config.publicUrl}/recurring/confirm?agreement=${encodeURIComponent(agreementId)}&token=${deps.paymentTokens.agreementToken(agreementId)}`;
}

export async function draftAgreement(deps: PaymentDeps, pspId: string, msn: string, body: unknown, idempotencyKey: string): Promise<DraftAnswer> {
  const draft = validateDraft(body, { allowHttp: deps.config.allowPrivateCallbacks });
  if (draft.cardPassthrough.publicEncryptionKeyId !== null && !(await findEncryptionKey(deps.database.db, pspId, draft.cardPassthrough.publicEncryptionKeyId))) {
    throw badRequest(`The publicEncryptionKeyId ${draft.cardPassthrough.publicEncryptionKeyId} is not a registered encryption key of this PSP.`, [{ name: 'cardPassthrough.publicEncryptionKeyId', reason: 'Not a key of this PSP.' }]);
  }
  for (let attempt = 0; ; attempt++) {
    try {
      return await keyed(deps, { pspId, scope: `recurring:draft:${msn}`, key: idempotencyKey, request: body, conflict: idempotencyConflict }, async (tx) => {
        const now = deps.clock.now();
        const agreementId = newAgreementId();
        const uuid = randomUUID();
        const initialChargeId = draft.initialCharge ? draft.initialCharge.orderId ?? newChargeId() : null;
        await insertAgreement(tx, agreementRowOf(draft, { agreementId, uuid, pspId, msn, now, initialChargeId }), draft.initialCharge && initialChargeId ? {
          msn, chargeId: initialChargeId, agreementId, pspId, type: 'INITIAL', transactionType: draft.initialCharge.transactionType,
          amount: draft.initialCharge.amount, currency: draft.pricing.currency, description: draft.initialCharge.description,
          status: 'PENDING', externalId: draft.initialCharge.externalId, transactionId: newTransactionId(), createdAt: now, updatedAt: now,
        } : undefined, now, idempotencyKey);
        return { agreementId, uuid, vippsConfirmationUrl: confirmationUrlOf(deps, agreementId), chargeId: initialChargeId };
      });
    } catch (err) {
      // An initial charge's orderId already used in this sales unit; an id drawn twice is drawn again.
      if (isUniqueViolation(err) && draft.initialCharge?.orderId) {
        throw conflict(`The initialCharge.orderId ${draft.initialCharge.orderId} is already a charge of this sales unit.`);
      }
      if (isUniqueViolation(err) && attempt < 3) continue;
      throw err;
    }
  }
}

function agreementRowOf(d: Draft, a: { agreementId: string; uuid: string; pspId: string; msn: string; now: Date; initialChargeId: string | null }): NewAgreement {
  return {
    agreementId: a.agreementId, uuid: a.uuid, pspId: a.pspId, msn: a.msn, status: 'PENDING',
    pricingType: d.pricing.type, currency: d.pricing.currency, amount: d.pricing.amount, suggestedMaxAmount: d.pricing.suggestedMaxAmount,
    intervalUnit: d.interval?.unit ?? null, intervalCount: d.interval?.count ?? null, campaign: d.campaign,
    productName: d.productName, productDescription: d.productDescription, merchantAgreementUrl: d.merchantAgreementUrl, merchantRedirectUrl: d.merchantRedirectUrl,
    externalId: d.externalId, countryCode: d.countryCode, draftPhone: d.phoneNumber, extra: d.extra,
    cardPspReference: d.cardPassthrough.pspReference, cardCallbackUrl: d.cardPassthrough.cardCallbackUrl, allowedCardTypes: d.cardPassthrough.allowedCardTypes,
    preferVisaPartOfVisaDankort: d.cardPassthrough.preferVisaPartOfVisaDankort, publicEncryptionKeyId: d.cardPassthrough.publicEncryptionKeyId,
    initialChargeId: a.initialChargeId, expiresAt: new Date(a.now.getTime() + AGREEMENT_EXPIRY_MS), createdAt: a.now, updatedAt: a.now,
  };
}

/** AgreementResponseV3, and the card passthrough the PSP drafted it with. */
export function agreementView(deps: PaymentDeps, a: AgreementRow): Record<string, unknown> {
  const interval = a.intervalUnit ? { unit: a.intervalUnit, count: a.intervalCount!, text: intervalText({ unit: a.intervalUnit, count: a.intervalCount! }) } : null;
  const pricing = a.pricingType === 'VARIABLE'
    ? { type: 'VARIABLE', currency: a.currency, suggestedMaxAmount: a.suggestedMaxAmount, maxAmount: a.maxAmount ?? a.suggestedMaxAmount }
    : a.pricingType === 'FLEXIBLE' ? { type: 'FLEXIBLE', currency: a.currency } : { type: 'LEGACY', currency: a.currency, amount: a.amount };
  return {
    id: a.agreementId,
    uuid: a.uuid,
    status: a.status,
    productName: a.productName,
    ...(a.productDescription !== null ? { productDescription: a.productDescription } : {}),
    pricing,
    // Left out rather than null where there is none (the published schemas do not allow null).
    ...(interval ? { interval } : {}),
    ...(a.campaign ? { campaign: a.campaign } : {}),
    created: a.createdAt.toISOString(),
    start: a.startedAt?.toISOString() ?? null,
    stop: a.stoppedAt?.toISOString() ?? null,
    merchantAgreementUrl: a.merchantAgreementUrl,
    merchantRedirectUrl: a.merchantRedirectUrl,
    ...(a.externalId !== null ? { externalId: a.externalId } : {}),
    countryCode: a.countryCode,
    sub: null,
    userinfoUrl: null,
    ...(a.status === 'PENDING' ? { vippsConfirmationUrl: confirmationUrlOf(deps, a.agreementId) } : {}),
    cardPassthrough: {
      pspReference: a.cardPspReference, cardCallbackUrl: a.cardCallbackUrl, allowedCardTypes: a.allowedCardTypes,
      preferVisaPartOfVisaDankort: a.preferVisaPartOfVisaDankort, ...(a.publicEncryptionKeyId ? { publicEncryptionKeyId: a.publicEncryptionKeyId } : {}),
      ...(a.cardType ? { cardType: a.cardType } : {}),
    },
  };
}

export async function getAgreement(deps: PaymentDeps, msn: string, agreementId: string): Promise<Record<string, unknown>> {
  const a = await readAgreement(deps.database, msn, agreementId);
  if (!a) throw notFound(`No agreement ${agreementId} in sales unit ${msn}.`);
  return agreementView(deps, a);
}

export async function listAgreements(deps: PaymentDeps, msn: string, query: Record<string, string | undefined>, continuation: string | undefined): Promise<{ items: Record<string, unknown>[]; next?: string }> {
  const status = query.status;
  if (status !== undefined && !(AGREEMENT_STATUSES as readonly string[]).includes(status)) {
    throw recurringSchemaError([{ name: 'status', reason: `The status must be one of ${AGREEMENT_STATUSES.join(', ')}.` }]);
  }
  let createdAfter: Date | undefined;
  if (query.createdAfter !== undefined) {
    if (!/^\d{1,15}$/.test(query.createdAfter)) throw recurringSchemaError([{ name: 'createdAfter', reason: 'The createdAfter must be a time in milliseconds since 1970.' }]);
    createdAfter = new Date(Number(query.createdAfter));
  }
  let size = DEFAULT_PAGE;
  if (query.pageSize !== undefined) {
    if (!/^\d{1,4}$/.test(query.pageSize) || Number(query.pageSize) < 1 || Number(query.pageSize) > DEFAULT_PAGE) {
      throw recurringSchemaError([{ name: 'pageSize', reason: `The pageSize must be from 1 to ${DEFAULT_PAGE}.` }]);
    }
    size = Number(query.pageSize);
  }
  let offset = 0;
  if (continuation !== undefined) {
    const m = /^o(\d{1,9})$/.exec(Buffer.from(continuation, 'base64url').toString('utf8'));
    if (!m) throw recurringSchemaError([{ name: 'Continuation-Token', reason: 'The Continuation-Token is not one this server gave.' }]);
    offset = Number(m[1]);
  }
  const found = await listOf(deps.database.db, msn, status, createdAfter, size + 1, offset);
  const items = found.slice(0, size).map((a) => agreementView(deps, a));
  return found.length > size ? { items, next: Buffer.from(`o${offset + size}`).toString('base64url') } : { items };
}

/** PATCH: the changes of PatchAgreementV3, or the stop. A STOPPED or EXPIRED agreement takes none. */
export async function patchAgreement(deps: PaymentDeps, pspId: string, msn: string, agreementId: string, body: unknown, idempotencyKey: string): Promise<void> {
  const patch = validatePatch(body, { allowHttp: deps.config.allowPrivateCallbacks });
  await keyed(deps, { pspId, scope: `recurring:patch:${msn}:${agreementId}`, key: idempotencyKey, request: body, conflict: idempotencyConflict }, async (tx) => {
    const a = await lockAgreement(tx, msn, agreementId);
    if (!a) throw notFound(`No agreement ${agreementId} in sales unit ${msn}.`);
    if (a.status === 'STOPPED' || a.status === 'EXPIRED') {
      throw badRequest(`The agreement is ${a.status}: it cannot be changed.`);
    }
    const now = deps.clock.now();
    const set: Partial<NewAgreement> = { updatedAt: now };
    if (patch.productName !== undefined) set.productName = patch.productName;
    if (patch.productDescription !== undefined) set.productDescription = patch.productDescription;
    if (patch.merchantAgreementUrl !== undefined) set.merchantAgreementUrl = patch.merchantAgreementUrl;
    if (patch.externalId !== undefined) set.externalId = patch.externalId;
    if (patch.amount !== undefined) {
      if (a.pricingType !== 'LEGACY') throw badRequest(`pricing.amount is for LEGACY agreements; this one is ${a.pricingType}.`, [{ name: 'pricing.amount', reason: 'Not for this pricing type.' }]);
      set.amount = patch.amount;
    }
    if (patch.suggestedMaxAmount !== undefined) {
      if (a.pricingType !== 'VARIABLE') throw badRequest(`pricing.suggestedMaxAmount is for VARIABLE agreements; this one is ${a.pricingType}.`, [{ name: 'pricing.suggestedMaxAmount', reason: 'Not for this pricing type.' }]);
      set.suggestedMaxAmount = patch.suggestedMaxAmount;
    }
    if (patch.interval !== undefined) { set.intervalUnit = patch.interval.unit; set.intervalCount = patch.interval.count; }
    if (Object.keys(set).length > 1) await updateAgreement(tx, agreementId, set);
    if (patch.status === 'STOPPED') await stopAgreement(tx, a, 'MERCHANT', now, idempotencyKey);
    return null;
  });
}

/** The sweeper's part: agreements not accepted in time expire; charges past their retry days fail. */
export async function sweepRecurring(deps: PaymentDeps): Promise<void> {
  const now = deps.clock.now();
  while ((await expireDue(deps.database.db, now, 1000)) === 1000) { /* more are due */ }
  while ((await failOverdueCharges(deps.database.db, now, 1000)) === 1000) { /* more are due */ }
}
