// Idempotent use cases: the first request with a key runs; a retry with the same body gets the first
// answer; the same key with another body is a 409. The claim and the stored answer are written in the
// use case's own transaction, so a concurrent retry waits on the claim and then replays the answer.
import { errors } from '../domain/errors.ts';
import type { Tx } from '../store/db.ts';
import { claimKey, storeResponse } from '../store/idempotency.ts';

export async function idempotent<T>(
  tx: Tx, key: { pspId: string; scope: string; key: string; requestHash: string }, run: () => Promise<T>,
): Promise<T> {
  const earlier = await claimKey(tx, key.pspId, key.scope, key.key, key.requestHash);
  if (earlier) {
    if (earlier.requestHash !== key.requestHash) throw errors.idempotencyConflict();
    return earlier.responseBody as T;
  }
  const response = await run();
  await storeResponse(tx, key.pspId, key.scope, key.key, 200, response);
  return response;
}
