// The ePayment API's Idempotency-Key: the first request with a key runs; a retry with the same body
// gets the first answer — its error too (a 4xx stays bound to its key) — and the same key with another
// body is a 409 with the operation's code. The claim, the work and the stored answer are one
// transaction, so a concurrent retry waits on the claim and then replays the answer. An error of the
// work rolls its transaction back; a second one claims the key again and stores the error.
import { ApiError, type FieldProblem } from '../../domain/errors.ts';
import { epaymentError, type EpaymentCode } from '../../domain/epayment/errors.ts';
import type { Tx } from '../../store/db.ts';
import { claimKey, storeResponse } from '../../store/idempotency.ts';
import { events } from '../../store/schema.ts';
import { canonicalJson } from '../merchants.ts';
import { sha256 } from '../../security/secrets.ts';
import type { PaymentDeps } from '../payment-deps.ts';

export interface Keyed {
  pspId: string;
  /** Where the key is unique: the operation, the MSN and (for adjustments) the reference. */
  scope: string;
  key: string | undefined;
  /** What makes two requests the same request. */
  request: unknown;
  /** The code of a reused key with another body (an ePayment code, or the error of another API). */
  conflict: EpaymentCode | (() => ApiError);
}

interface StoredError {
  error: { status: number; code: string; title: string; detail: string; details: FieldProblem[] };
}

/** Whether an error answer is bound to its key: client errors, not locks or limits (retry them). */
function bindable(err: ApiError): boolean {
  return err.status >= 400 && err.status < 500 && err.status !== 423 && err.status !== 429;
}

/** What makes two requests with one key the same request. */
export function requestHashOf(request: unknown): string {
  return sha256(canonicalJson(request));
}

export async function keyed<T>(deps: PaymentDeps, k: Keyed, work: (tx: Tx) => Promise<T>): Promise<T> {
  const requestHash = requestHashOf(k.request);
  const conflictError = (): ApiError => typeof k.conflict === 'function'
    ? k.conflict()
    : epaymentError(k.conflict, 'The Idempotency-Key was already used with a different request. Use a new key for a new request.');
  const now = deps.clock.now();
  let replayed = false;
  const replay = (earlier: { requestHash: string; responseBody: unknown }): { value: T } | { error: ApiError } => {
    if (earlier.requestHash !== requestHash) throw conflictError();
    replayed = true;
    const stored = earlier.responseBody as T | StoredError;
    if (isStoredError(stored)) {
      const e = stored.error;
      return { error: new ApiError(e.status, e.code, e.detail, { title: e.title, details: e.details }) };
    }
    return { value: stored };
  };
  let outcome: { value: T } | { error: ApiError };
  try {
    outcome = await deps.database.db.transaction(async (tx): Promise<{ value: T } | { error: ApiError }> => {
      if (k.key !== undefined) {
        const earlier = await claimKey(tx, k.pspId, k.scope, k.key, requestHash, now, deps.config.idempotencyRetentionHours);
        if (earlier) return replay(earlier);
      }
      const value = await work(tx);
      if (k.key !== undefined) await storeResponse(tx, k.pspId, k.scope, k.key, 200, value);
      return { value };
    });
  } catch (err) {
    if (k.key === undefined || !(err instanceof ApiError) || !bindable(err) || err.code === conflictError().code) throw err;
    // The work's error rolled its transaction back (nothing it wrote stays); the key is claimed again
    // to keep the error, unless a concurrent request with the key got there first: its answer counts.
    const key = k.key;
    const stored: StoredError = { error: { status: err.status, code: err.code, title: err.title, detail: err.message, details: err.details } };
    outcome = await deps.database.db.transaction(async (tx): Promise<{ value: T } | { error: ApiError }> => {
      const earlier = await claimKey(tx, k.pspId, k.scope, key, requestHash, now, deps.config.idempotencyRetentionHours);
      if (earlier) return replay(earlier);
      await storeResponse(tx, k.pspId, k.scope, key, err.status, stored);
      return { error: err };
    });
  }
  if (replayed && k.scope.startsWith('epayment:')) recordReplay(deps, k, now);
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

/** A retry answered from its key, for the go-live checklist: best effort, never in the answer's way. */
function recordReplay(deps: PaymentDeps, k: Keyed, now: Date): void {
  const [, operation, msn, reference] = k.scope.split(':');
  const body = k.request as { reference?: unknown } | null;
  const ref = reference ?? (typeof body?.reference === 'string' ? body.reference.slice(0, 64) : undefined);
  deps.database.db.insert(events).values({
    pspId: k.pspId, paymentId: null, kind: 'epayment.replay', createdAt: now,
    data: { operation, msn, ...(ref ? { reference: ref } : {}), key: k.key },
  }).catch(() => {});
}

function isStoredError(value: unknown): value is StoredError {
  return typeof value === 'object' && value !== null && 'error' in value && typeof (value as StoredError).error?.status === 'number';
}
