// POST /psp/v3/psppayments/init: validate, store the payment (unique constraints settle duplicates,
// also concurrent ones), and answer with the vippsRedirectUrl. Idempotent on Idempotency-Key / Request-Id.
import { ApiError, errors } from '../../domain/errors.ts';
import { validateInit, type InitRequest } from '../../domain/psp-v3/init-request.ts';
import { findMerchant } from '../../store/merchants.ts';
import { insertPayment, type NewPayment } from '../../store/payments.ts';
import { findUser } from '../../store/users.ts';
import { randomToken, sha256 } from '../../security/secrets.ts';
import { resolvesToPrivate } from '../../delivery/make-payment-client.ts';
import { canonicalJson } from '../merchants.ts';
import { idempotent } from '../idempotency.ts';
import type { PaymentDeps } from '../payment-deps.ts';

export interface InitResponse {
  pspTransactionId: string;
  merchantOrderId: string;
  vippsRedirectUrl: string;
}

function invalid(problems: Array<{ name: string; reason: string }>): ApiError {
  return new ApiError(400, 'validation_error', 'Invalid request', { details: problems });
}

/** The vippsRedirectUrl up to its token, which always comes last. */
function redirectUrlBeforeToken(deps: PaymentDeps, isApp: boolean): string {
  if (isApp) return `${deps.config.vippsEnv === 'test' ? 'vippsMT' : 'vipps'}://?token=`;
  return `${deps.config.publicUrl}/landing?token=`;
}

export function redirectUrlFor(deps: PaymentDeps, token: string, isApp: boolean): string {
  return `${redirectUrlBeforeToken(deps, isApp)}${token}`;
}

/**
 * What the idempotency store keeps of a keyed init's answer: everything but the landing token, which
 * is derived again from (pspId, pspTransactionId) on a replay, so the store holds no usable token.
 */
interface StoredInitAnswer {
  pspTransactionId: string;
  merchantOrderId: string;
  vippsRedirectUrlBeforeToken: string;
}

function replayed(deps: PaymentDeps, pspId: string, stored: StoredInitAnswer | InitResponse): InitResponse {
  // An answer stored before the token was left out is replayed as it is, until its key expires.
  if ('vippsRedirectUrl' in stored) return stored;
  return {
    pspTransactionId: stored.pspTransactionId,
    merchantOrderId: stored.merchantOrderId,
    vippsRedirectUrl: `${stored.vippsRedirectUrlBeforeToken}${deps.paymentTokens.landingToken(pspId, stored.pspTransactionId)}`,
  };
}

export async function initiate(
  deps: PaymentDeps, pspId: string, msn: string, body: unknown, idempotencyKey: string | undefined,
  initHeaders?: Record<string, string>,
): Promise<InitResponse> {
  const checked = validateInit(body, { allowPrivateCallbacks: deps.config.allowPrivateCallbacks });
  if (!checked.ok) throw invalid(checked.problems);
  const request = checked.value;
  if (!deps.config.allowPrivateCallbacks) {
    const bad = await resolvesToPrivate(request.makePaymentUrl);
    if (bad) throw invalid([{ name: 'makePaymentUrl', reason: `Invalid makePaymentUrl: the host resolves to ${bad}, which is not a public address` }]);
  }
  const now = deps.clock.now();
  // A keyed init's token is derived, so that a retry can be answered with it without storing it. An
  // unkeyed one is random: the batched insert tells its rows apart by their token hashes, and two
  // concurrent inits of one pspTransactionId must not share one.
  const token = idempotencyKey === undefined ? randomToken(24) : deps.paymentTokens.landingToken(pspId, request.pspTransactionId);
  const row = paymentRow(deps, pspId, msn, request, token, now);
  // Written by the same INSERT: who sent the init costs no round trip of its own.
  row.initHeaders = initHeaders ?? null;
  const response: InitResponse = {
    pspTransactionId: request.pspTransactionId,
    merchantOrderId: request.merchantOrderId,
    vippsRedirectUrl: redirectUrlFor(deps, token, request.isApp),
  };

  // The common case is one prepared INSERT; the unique indexes settle duplicates, also concurrent ones.
  if (idempotencyKey === undefined && !request.skipLandingPage) {
    const result = await deps.inserter.insert(row);
    if ('duplicate' in result) throw duplicate(result.duplicate);
    return response;
  }

  return deps.database.db.transaction(async (tx) => {
    const insert = async () => {
      await checkSkipLandingPage(tx, msn, request);
      const inserted = await insertPayment(tx, row);
      if ('duplicate' in inserted) throw duplicate(inserted.duplicate);
    };
    if (idempotencyKey === undefined) {
      await insert();
      return response;
    }
    const stored = await idempotent<StoredInitAnswer | InitResponse>(tx, {
      pspId, scope: 'init', key: idempotencyKey, requestHash: sha256(canonicalJson({ msn, body })),
      now: deps.clock.now(),
      retentionHours: deps.config.idempotencyRetentionHours,
    }, async () => {
      await insert();
      return {
        pspTransactionId: response.pspTransactionId,
        merchantOrderId: response.merchantOrderId,
        vippsRedirectUrlBeforeToken: redirectUrlBeforeToken(deps, request.isApp),
      };
    });
    return replayed(deps, pspId, stored);
  });
}

function duplicate(which: 'pspTransactionId' | 'merchantOrderId'): ApiError {
  return which === 'pspTransactionId'
    ? invalid([{ name: '44', reason: 'PSP Transaction ID already exists' }])
    : invalid([{ name: '99', reason: 'OrderId already exists' }]);
}

function paymentRow(deps: PaymentDeps, pspId: string, msn: string, request: InitRequest, token: string, now: Date): NewPayment {
  // With skipLandingPage the request is pushed straight to the user's app.
  const skip = request.skipLandingPage;
  const deadlineSeconds = skip ? deps.config.appTimeoutSeconds : deps.config.landingTimeoutSeconds;
  return {
    pspId,
    pspTransactionId: request.pspTransactionId,
    msn,
    merchantOrderId: request.merchantOrderId,
    amount: request.amount,
    currency: request.currency,
    customerMobileNumber: request.customerMobileNumber,
    pspRedirectUrl: request.pspRedirectUrl,
    makePaymentUrl: request.makePaymentUrl,
    makePaymentToken: request.makePaymentToken,
    paymentText: request.paymentText,
    isApp: request.isApp,
    skipLandingPage: skip,
    merchantAgreementUrl: request.merchantAgreementUrl,
    tokenHash: sha256(token),
    threeDsRef: sha256(deps.paymentTokens.threeDsRef(pspId, request.pspTransactionId)),
    state: skip ? 'AWAITING_USER' : 'INITIATED',
    phone: skip ? request.customerMobileNumber : null,
    expiresAt: new Date(now.getTime() + deadlineSeconds * 1000),
    createdAt: now,
    updatedAt: now,
  };
}

async function checkSkipLandingPage(tx: Parameters<typeof findMerchant>[0], msn: string, request: InitRequest): Promise<void> {
  if (!request.skipLandingPage) return;
  const merchant = await findMerchant(tx, msn);
  if (!merchant?.skipLandingPage) {
    throw invalid([{ name: '51', reason: `Invalid request: skipLandingPage is only available for whitelisted sales units, and ${msn} is not whitelisted` }]);
  }
  if (!request.customerMobileNumber) {
    throw invalid([{ name: '51', reason: 'Invalid request: skipLandingPage requires customerMobileNumber' }]);
  }
  if (!(await findUser(tx, request.customerMobileNumber))) {
    throw invalid([{ name: '51', reason: `Invalid request: skipLandingPage requires a known Vipps user; ${request.customerMobileNumber} is not one` }]);
  }
}
