// Idempotency keys: the first response to a keyed request, replayed to retries for a retention period.
// Times are the server clock's (clock.ts), passed in, so the age of a key follows the test environment's
// time travel like every other deadline.
import { and, eq, sql } from 'drizzle-orm';
import { rows, type Tx } from './db.ts';
import { idempotencyKeys } from './schema.ts';

export interface StoredResponse {
  requestHash: string;
  statusCode: number | null;
  responseBody: unknown;
}

/** How long a key is kept when the caller does not say (IDEMPOTENCY_RETENTION_HOURS' default). */
export const DEFAULT_RETENTION_HOURS = 24;

/**
 * Claims a key inside the caller's transaction. A concurrent claim of the same key waits on the
 * primary key until this transaction ends, so two retries never both run the operation. A key older
 * than the retention counts as absent: its row is taken over in the same statement (the row lock
 * makes that atomic, so of two racing requests exactly one takes it over).
 * Returns undefined when this call claimed it, or what the earlier request stored.
 */
export async function claimKey(
  tx: Tx, pspId: string, scope: string, key: string, requestHash: string, now: Date, retentionHours: number = DEFAULT_RETENTION_HOURS,
): Promise<StoredResponse | undefined> {
  // A live row that vanishes between the two statements (removed by the cleanup just as it expired)
  // means the key is free again: claim once more.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const claimed = await rows<{ claimed: number }>(tx, sql`
      insert into idempotency_keys as k (psp_id, scope, key, request_hash, created_at)
      values (${pspId}, ${scope}, ${key}, ${requestHash}, ${now.toISOString()}::timestamptz)
      on conflict (psp_id, scope, key) do update
        set request_hash = excluded.request_hash, status_code = null, response_body = null, created_at = excluded.created_at
        where k.created_at < ${now.toISOString()}::timestamptz - make_interval(hours => ${retentionHours}::int)
      returning 1 as claimed`);
    if (claimed.length > 0) return undefined;
    const [row] = await tx.select({
      requestHash: idempotencyKeys.requestHash,
      statusCode: idempotencyKeys.statusCode,
      responseBody: idempotencyKeys.responseBody,
    }).from(idempotencyKeys).where(and(eq(idempotencyKeys.pspId, pspId), eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
    if (row) return row;
  }
  throw new Error(`idempotency key ${scope}/${key} could neither be claimed nor read`);
}

export async function storeResponse(tx: Tx, pspId: string, scope: string, key: string, statusCode: number, body: unknown): Promise<void> {
  await tx.update(idempotencyKeys).set({ statusCode, responseBody: body })
    .where(and(eq(idempotencyKeys.pspId, pspId), eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
}

/**
 * Deletes up to `limit` keys older than the retention, in one short statement; returns how many.
 * Rows another transaction holds (a claim taking over an expired key) are skipped, not waited for.
 */
export async function deleteExpiredKeys(tx: Tx, retentionHours: number, limit: number, now: Date): Promise<number> {
  const [row] = await rows<{ n: string | number }>(tx, sql`
    with old as (
      select psp_id, scope, key from idempotency_keys
      where created_at < ${now.toISOString()}::timestamptz - make_interval(hours => ${retentionHours}::int)
      limit ${limit}
      for update skip locked
    ), gone as (
      delete from idempotency_keys k using old
      where k.psp_id = old.psp_id and k.scope = old.scope and k.key = old.key
      returning 1
    )
    select count(*) as n from gone`);
  return Number(row?.n ?? 0);
}
