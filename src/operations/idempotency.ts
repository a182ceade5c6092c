// Idempotent use cases: the first request with a key runs; a retry with the same body gets the first
// answer; the same key with another body is a 409. The claim and the stored answer are written in the
// use case's own transaction, so a concurrent retry waits on the claim and then replays the answer.
// A key older than its retention (IDEMPOTENCY_RETENTION_HOURS) counts as never used.
import { errors } from '../domain/errors.ts';
import type { Tx } from '../store/db.ts';
import { claimKey, storeResponse } from '../store/idempotency.ts';

export interface IdempotencyKey {
  pspId: string;
  scope: string;
  key: string;
  requestHash: string;
  /** The server's time (clock.ts): the key's age is measured in it. */
  now: Date;
  /** How long the key holds; the store's default when not given. */
  retentionHours?: number;
}

export async function idempotent<T>(tx: Tx, key: IdempotencyKey, run: () => Promise<T>): Promise<T> {
  const earlier = await claimKey(tx, key.pspId, key.scope, key.key, key.requestHash, key.now, key.retentionHours);
  if (earlier) {
    if (earlier.requestHash !== key.requestHash) throw errors.idempotencyConflict();
    return earlier.responseBody as T;
  }
  const response = await run();
  await storeResponse(tx, key.pspId, key.scope, key.key, 200, response);
  return response;
}
