// Webhooks API registrations and the delivery outbox (schema.ts webhooks, webhookDeliveries; the
// outbox is filled by the trigger of migration 0010).
import { and, asc, desc, eq, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { Database, Db, Tx } from './db.ts';
import { rows } from './db.ts';
import { Batcher } from './batcher.ts';
import { psps, webhookDeliveries, webhooks } from './schema.ts';

export type WebhookRow = typeof webhooks.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** `msn` null: the registrations of the PSP itself (for every sales unit). */
function scopeOf(pspId: string, msn: string | null): SQL {
  return and(eq(webhooks.pspId, pspId), msn === null ? isNull(webhooks.msn) : eq(webhooks.msn, msn))!;
}

/**
 * Stores a registration unless one of its event types already has `limit` registrations in its scope
 * (the PSP's row is locked first, so two registrations of the moment are counted one after the other).
 * Returns the event types that are full instead, if any.
 */
export async function insertWebhook(db: Db, w: typeof webhooks.$inferInsert, limit: number): Promise<{ full: string[] }> {
  return db.transaction(async (tx) => {
    await tx.select({ pspId: psps.pspId }).from(psps).where(eq(psps.pspId, w.pspId)).for('update');
    const counts = await rows<{ event: string; n: number | string }>(tx, sql`
      select e as event, count(*) as n from webhooks, unnest(events) e
      where psp_id = ${w.pspId} and ${w.msn == null ? sql`msn is null` : sql`msn = ${w.msn}`}
        and e in (select jsonb_array_elements_text(${JSON.stringify(w.events)}::jsonb))
      group by e`);
    const full = counts.filter((c) => Number(c.n) >= limit).map((c) => c.event);
    if (full.length === 0) await tx.insert(webhooks).values(w);
    return { full };
  });
}

export async function listWebhooks(db: Db | Tx, pspId: string, msn: string | null): Promise<WebhookRow[]> {
  return db.select().from(webhooks).where(scopeOf(pspId, msn)).orderBy(asc(webhooks.createdAt), asc(webhooks.webhookId));
}

/** Every registration of a PSP, of both scopes (operator API). */
export async function webhooksOfPsp(db: Db | Tx, pspId?: string): Promise<WebhookRow[]> {
  const q = db.select().from(webhooks);
  return (pspId === undefined ? q : q.where(eq(webhooks.pspId, pspId))).orderBy(asc(webhooks.createdAt), asc(webhooks.webhookId));
}

export interface WebhookWithCounts {
  webhookId: string;
  pspId: string;
  msn: string | null;
  url: string;
  events: string[];
  createdAt: Date;
  pending: number;
  delivered: number;
  failed: number;
}

/** The registrations (of one PSP, or all), each with how many of its deliveries are pending, delivered and given up. */
export async function webhooksWithCounts(db: Db | Tx, pspId?: string): Promise<WebhookWithCounts[]> {
  const found = await rows<Record<string, unknown>>(db, sql`
    select w.webhook_id, w.psp_id, w.msn, w.url, w.events, w.created_at,
      count(*) filter (where d.status = 'PENDING') as pending, count(*) filter (where d.status = 'DELIVERED') as delivered,
      count(*) filter (where d.status = 'FAILED') as failed
    from webhooks w left join webhook_deliveries d on d.webhook_id = w.webhook_id
    where ${pspId === undefined ? sql`true` : sql`w.psp_id = ${pspId}`}
    group by w.webhook_id order by w.psp_id, w.msn nulls first, w.created_at, w.webhook_id`);
  return found.map((w) => ({
    webhookId: w.webhook_id as string, pspId: w.psp_id as string, msn: (w.msn as string | null) ?? null, url: w.url as string,
    events: w.events as string[], createdAt: new Date(w.created_at as string), pending: Number(w.pending), delivered: Number(w.delivered), failed: Number(w.failed),
  }));
}

export async function findWebhook(db: Db | Tx, webhookId: string): Promise<WebhookRow | undefined> {
  const [row] = await db.select().from(webhooks).where(eq(webhooks.webhookId, webhookId));
  return row;
}

/** Deletes a registration of the scope (and its deliveries); whether there was one. */
export async function deleteWebhook(db: Db | Tx, pspId: string, msn: string | null, webhookId: string): Promise<boolean> {
  const gone = await db.delete(webhooks).where(and(scopeOf(pspId, msn), eq(webhooks.webhookId, webhookId))).returning({ id: webhooks.webhookId });
  return gone.length > 0;
}

/** A delivery claimed for sending, with what it takes to send it. */
export interface ClaimedDelivery {
  deliveryId: number;
  webhookId: string;
  pspId: string;
  url: string;
  secretSealed: string;
  payload: unknown;
  attempts: number;
  eventAt: Date;
  lease: Date;
}

/**
 * Claims due deliveries for this process until `lease`: of each registration, up to `perWebhook`
 * less those this process has in flight for it (`busy`), and `limit` in all,
 * each PENDING, due at `now` (the shared clock's), not in flight elsewhere (leases are on the wall
 * clock, `wallNow`, so that time travel never makes a delivery in flight look abandoned), and the
 * oldest PENDING delivery of its registration and payment, so that order is kept. Each registration's
 * due deliveries are read from its own part of the index: a registration with a long backlog (a dead
 * receiver) costs the others nothing. Rows another process is claiming are skipped, not waited for.
 */
const CLAIM = `
  with due as (
    select c.delivery_id from webhooks w
    left join unnest($3::uuid[], $7::int[]) as f(webhook_id, n) on f.webhook_id = w.webhook_id
    cross join lateral (
      select d.delivery_id, d.next_attempt_at from webhook_deliveries d
      where d.webhook_id = w.webhook_id and d.status = 'PENDING' and d.next_attempt_at <= $1::timestamptz
        and (d.lease_until is null or d.lease_until < $5::timestamptz)
        -- A scalar subquery, not NOT EXISTS: it is always a probe of the order index by registration
        -- and payment, where an anti join may be planned (on a young table's statistics) as a scan of
        -- all the registration's pending deliveries for each candidate.
        and (select min(e.delivery_id) from webhook_deliveries e
             where e.webhook_id = d.webhook_id and e.payment_id = d.payment_id and e.status = 'PENDING') = d.delivery_id
      order by d.next_attempt_at, d.delivery_id
      limit greatest(0, $6::int - coalesce(f.n, 0))
      for update of d skip locked
    ) c
    order by c.next_attempt_at, c.delivery_id
    limit $2
  )
  update webhook_deliveries d set lease_until = $4::timestamptz
  from due, webhooks w
  where d.delivery_id = due.delivery_id and w.webhook_id = d.webhook_id
  returning d.delivery_id, d.webhook_id, w.psp_id, w.url, w.secret_sealed, d.payload, d.attempts, d.created_at`;

export async function claimDeliveries(
  database: Database, now: Date, limit: number, perWebhook: number, busy: ReadonlyMap<string, number>, lease: Date, wallNow: Date,
): Promise<ClaimedDelivery[]> {
  const found = await database.query<Record<string, unknown>>('webhook_claim', CLAIM, [
    now.toISOString(), limit, [...busy.keys()], lease.toISOString(), wallNow.toISOString(), perWebhook, [...busy.values()],
  ]);
  return found.map((r) => ({
    deliveryId: Number(r.delivery_id), webhookId: r.webhook_id as string, pspId: r.psp_id as string, url: r.url as string, secretSealed: r.secret_sealed as string,
    payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload, attempts: Number(r.attempts),
    eventAt: new Date(r.created_at as string), lease,
  }));
}

export interface DeliveryOutcome {
  deliveryId: number;
  lease: Date;
  status: 'PENDING' | 'DELIVERED' | 'FAILED';
  nextAttemptAt: Date;
  headers: Record<string, string>;
  responseStatus: number | null;
  response: string | null;
  error: string | null;
  latencyMs: number;
  at: Date;
}

/**
 * The outcomes of the moment, in one statement; each only if its lease is still the one it was claimed
 * with. Arrays, not a JSON record set: the planner takes an array parameter for a few rows and probes
 * the primary key, where a record set's default estimate (100 rows) against a young table's
 * statistics made it scan the whole outbox for each batch.
 */
const COMPLETE = `
  update webhook_deliveries d set status = x.status, attempts = d.attempts + 1, next_attempt_at = x.next_at, lease_until = null,
    last_request_headers = x.headers::jsonb, last_status = x.response_status, last_response = x.response, last_error = x.error,
    last_latency_ms = x.latency, last_attempt_at = x.at, delivered_at = case when x.status = 'DELIVERED' then x.at else d.delivered_at end
  from unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::timestamptz[], $5::text[], $6::int[], $7::text[], $8::text[], $9::int[], $10::timestamptz[])
    as x(delivery_id, lease, status, next_at, headers, response_status, response, error, latency, at)
  where d.delivery_id = x.delivery_id and d.lease_until = x.lease`;

const COMPLETERS = new WeakMap<Database, Batcher<DeliveryOutcome, void>>();

export function completeDelivery(database: Database, o: DeliveryOutcome): Promise<void> {
  let b = COMPLETERS.get(database);
  if (!b) {
    b = new Batcher(async (items) => {
      await database.query('webhook_complete', COMPLETE, [
        items.map((o) => o.deliveryId), items.map((o) => o.lease.toISOString()), items.map((o) => o.status),
        items.map((o) => o.nextAttemptAt.toISOString()), items.map((o) => JSON.stringify(o.headers)), items.map((o) => o.responseStatus),
        items.map((o) => o.response), items.map((o) => o.error), items.map((o) => o.latencyMs), items.map((o) => o.at.toISOString()),
      ]);
      return items.map(() => undefined);
    }, 500);
    COMPLETERS.set(database, b);
  }
  return b.call(o);
}

/** A delivery made due now again (a re-send: DELIVERED or FAILED ones too); whether there is one. */
export async function resendDelivery(db: Db, deliveryId: number, now: Date): Promise<boolean> {
  const done = await db.update(webhookDeliveries).set({ status: 'PENDING', nextAttemptAt: now, leaseUntil: null })
    .where(eq(webhookDeliveries.deliveryId, deliveryId)).returning({ id: webhookDeliveries.deliveryId });
  return done.length > 0;
}

export async function deliveriesOfWebhook(db: Db | Tx, webhookId: string, limit: number, before?: number): Promise<DeliveryRow[]> {
  const where = before === undefined ? eq(webhookDeliveries.webhookId, webhookId) : and(eq(webhookDeliveries.webhookId, webhookId), lt(webhookDeliveries.deliveryId, before));
  return db.select().from(webhookDeliveries).where(where).orderBy(desc(webhookDeliveries.deliveryId)).limit(limit);
}

export async function deliveriesOfPayment(db: Db | Tx, paymentId: string): Promise<DeliveryRow[]> {
  return db.select().from(webhookDeliveries).where(eq(webhookDeliveries.paymentId, paymentId)).orderBy(asc(webhookDeliveries.deliveryId));
}

/** The PSP whose registration a delivery belongs to (undefined: no such delivery). */
export async function pspOfDelivery(tx: Tx, deliveryId: number): Promise<string | undefined> {
  const [row] = await tx.select({ pspId: webhooks.pspId }).from(webhookDeliveries)
    .innerJoin(webhooks, eq(webhooks.webhookId, webhookDeliveries.webhookId)).where(eq(webhookDeliveries.deliveryId, deliveryId));
  return row?.pspId;
}
