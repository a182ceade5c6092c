// POST /psp/v3/psppayments/updatestatus: validate the whole payload, store every update in one
// transaction, and only then answer 200. In STATUS_BATCH_MODE=immediate the batch runs right after.
import { ApiError } from '../domain/errors.ts';
import { validateStatusPayload } from '../domain/status-payload.ts';
import { insertUpdates } from '../store/status-updates.ts';
import { runStatusBatch } from './status-batch.ts';
import type { PaymentDeps } from './payment-deps.ts';

export const STATUS_OK = { responseInfo: { responseCode: '9000', responseMessage: 'SUCCESS' } } as const;

export async function ingestStatusUpdates(deps: PaymentDeps, pspId: string, body: unknown): Promise<typeof STATUS_OK> {
  const checked = validateStatusPayload(body);
  if (!checked.ok) throw new ApiError(400, 'validation_error', 'Invalid request', { details: checked.problems });
  await deps.database.db.transaction((tx) => insertUpdates(tx, pspId, checked.updates, deps.clock.now()));
  if (deps.config.statusBatchMode === 'immediate' && checked.updates.length > 0) {
    await runStatusBatch(deps, 'immediate');
  }
  return STATUS_OK;
}
