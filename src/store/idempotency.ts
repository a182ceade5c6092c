// Idempotency keys: the first response to a keyed request, replayed to retries.
import { and, eq } from 'drizzle-orm';
import type { Tx } from './db.ts';
import { idempotencyKeys } from './schema.ts';

export interface StoredResponse {
  requestHash: string;
  statusCode: number | null;
  responseBody: unknown;
}

/**
 * Claims a key inside the caller's transaction. A concurrent claim of the same key waits on the
 * primary key until this transaction ends, so two retries never both run the operation.
 * Returns undefined when this call claimed it, or what the earlier request stored.
 */
export async function claimKey(tx: Tx, pspId: string, scope: string, key: string, requestHash: string): Promise<StoredResponse | undefined> {
  const inserted = await tx.insert(idempotencyKeys).values({ pspId, scope, key, requestHash })
    .onConflictDoNothing().returning({ key: idempotencyKeys.key });
  if (inserted.length > 0) return undefined;
  const [row] = await tx.select({
    requestHash: idempotencyKeys.requestHash,
    statusCode: idempotencyKeys.statusCode,
    responseBody: idempotencyKeys.responseBody,
  }).from(idempotencyKeys).where(and(eq(idempotencyKeys.pspId, pspId), eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
  return row;
}

export async function storeResponse(tx: Tx, pspId: string, scope: string, key: string, statusCode: number, body: unknown): Promise<void> {
  await tx.update(idempotencyKeys).set({ statusCode, responseBody: body })
    .where(and(eq(idempotencyKeys.pspId, pspId), eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
}
