// POST /psp/v3/psppayments/updatestatus: validate the whole payload, store every update in one
// transaction, and only then answer 200. In STATUS_BATCH_MODE=immediate the batch runs right after.
// Idempotent on Idempotency-Key / Request-Id: a retry is answered with the first answer and stores nothing.
import { ApiError } from '../../domain/errors.ts';
import { validateStatusPayload } from '../../domain/psp-v3/status-payload.ts';
import { insertUpdates } from '../../store/status-updates.ts';
import { sha256 } from '../../security/secrets.ts';
import { canonicalJson } from '../merchants.ts';
import { idempotent } from '../idempotency.ts';
import { runStatusBatch } from './status-batch.ts';
import type { PaymentDeps } from '../payment-deps.ts';

export const STATUS_OK = { responseInfo: { responseCode: '9000', responseMessage: 'SUCCESS' } } as const;

export async function ingestStatusUpdates(
  deps: PaymentDeps, pspId: string, msn: string, body: unknown, idempotencyKey?: string,
): Promise<typeof STATUS_OK> {
  const checked = validateStatusPayload(body);
  if (!checked.ok) throw new ApiError(400, 'validation_error', 'Invalid request', { details: checked.problems });
  let stored = false;
  // Like init, the key covers the Merchant-Serial-Number header and the body (in any key order). It
  // is hashed before the transaction, which then holds its connection only for the writes.
  const requestHash = idempotencyKey === undefined ? '' : sha256(canonicalJson({ msn, body }));
  const answer = await deps.database.db.transaction(async (tx) => {
    const store = async (): Promise<typeof STATUS_OK> => {
      await insertUpdates(tx, pspId, checked.updates, deps.clock.now());
      stored = true;
      return STATUS_OK;
    };
    if (idempotencyKey === undefined) return store();
    return idempotent(tx, {
      pspId, scope: 'updatestatus', key: idempotencyKey, requestHash,
      now: deps.clock.now(),
      retentionHours: deps.config.idempotencyRetentionHours,
    }, store);
  });
  // A replayed request stored nothing, so it sets nothing off either.
  if (stored && deps.config.statusBatchMode === 'immediate' && checked.updates.length > 0) {
    // The updates are stored: the answer is 9000 whatever the run does. A run that fails leaves
    // them pending for the next run (the next request's, or an operator's).
    await runStatusBatch(deps, 'immediate').catch((err: unknown) => {
      deps.log.error({ err }, 'immediate status batch run failed; the updates stay pending');
    });
  }
  return answer;
}
