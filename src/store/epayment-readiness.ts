// The facts of a PSP's ePayment go-live checklist (domain/epayment/readiness.ts). Every statement is
// bounded however many payments the PSP has: it looks at the PSP's newest payments only (through
// epayments_psp_created_idx) and stops at the few examples it shows.
import { sql, type SQL } from 'drizzle-orm';
import { rows, type Tx } from './db.ts';
import type { EpaymentReadinessFacts, EpaymentRef } from '../domain/epayment/readiness.ts';

/** How many of a PSP's newest payments a search looks at. */
const DEPTH = 20_000;
/** How many of the newest payments the callback and header checks look at. */
const RECENT = 2_000;
const EXAMPLES = 3;
const PROBLEMS = 10;

interface Row { payment_id: string | null; reference: string; msn: string; at: string | Date; detail?: string | null }

function ref(r: Row): EpaymentRef {
  return { paymentId: r.payment_id, reference: r.reference, msn: r.msn, at: new Date(r.at), ...(r.detail ? { detail: r.detail } : {}) };
}

const newest = (pspId: string, depth: number) => sql`(
  select payment_id, reference, msn, authorized_amount, captured_amount, extra, created_at from epayments
  where psp_id = ${pspId} order by created_at desc, payment_id desc limit ${depth})`;

/** Payments of the PSP with an event `name` that meets `where`, newest event first. */
async function withEvent(tx: Tx, pspId: string, name: string, where: SQL): Promise<EpaymentRef[]> {
  const found = await rows<Row>(tx, sql`
    select p.payment_id, p.reference, p.msn, max(e.created_at) as at
    from ${newest(pspId, DEPTH)} p join epayment_events e on e.payment_id = p.payment_id and e.name = ${name}
    where ${where}
    group by p.payment_id, p.reference, p.msn order by at desc limit ${EXAMPLES}`);
  return found.map(ref);
}

/** Payments of the PSP with a card callback that meets `where`. */
async function withCallback(tx: Tx, pspId: string, where: SQL, limit: number, depth = DEPTH): Promise<EpaymentRef[]> {
  const found = await rows<Row>(tx, sql`
    select p.payment_id, p.reference, p.msn, c.created_at as at,
      coalesce(c.error, case when c.response_status is not null then 'HTTP ' || c.response_status || ': ' || left(coalesce(c.response_body, ''), 120) end) as detail
    from ${newest(pspId, depth)} p join card_callbacks c on c.payment_id = p.payment_id
    where ${where}
    order by c.created_at desc limit ${limit}`);
  return found.map(ref);
}

export async function epaymentReadinessFacts(tx: Tx, pspId: string): Promise<EpaymentReadinessFacts> {
  const [callbackCount] = await rows<{ n: string | number }>(tx, sql`
    select count(*) as n from ${newest(pspId, RECENT)} p join card_callbacks c on c.payment_id = p.payment_id where c.error is null or c.error not like 'not sent:%'`);
  const [registrations] = await rows<{ n: string | number }>(tx, sql`select count(*) as n from webhooks where psp_id = ${pspId}`);
  const deliveries = (where: SQL, limit: number) => rows<Row>(tx, sql`
    select d.payment_id, d.payload->>'reference' as reference, d.payload->>'msn' as msn, coalesce(d.last_attempt_at, d.created_at) as at,
      d.event_type || case when d.last_error is not null then ': ' || d.last_error else '' end as detail
    from webhooks w join lateral (
      select * from webhook_deliveries d where d.webhook_id = w.webhook_id and ${where} order by d.delivery_id desc limit ${limit}) d on true
    where w.psp_id = ${pspId}
    order by at desc limit ${limit}`);
  const replays = await rows<Row>(tx, sql`
    select payment_id, coalesce(data->>'reference', '') as reference, coalesce(data->>'msn', '') as msn, created_at as at,
      (data->>'operation') || ' retried with Idempotency-Key ' || (data->>'key') as detail
    from events where psp_id = ${pspId} and kind = 'epayment.replay' order by event_id desc limit ${EXAMPLES}`);
  const headers = await rows<Row & { with_headers: boolean; total: string | number; with_count: string | number }>(tx, sql`
    with recent as (select * from ${newest(pspId, RECENT)} p),
      judged as (select payment_id, reference, msn, created_at as at,
        (extra->'headers'->>'vipps-system-name') is not null and (extra->'headers'->>'vipps-system-version') is not null as with_headers from recent)
    select payment_id, reference, msn, at, with_headers, count(*) over () as total, count(*) filter (where with_headers) over () as with_count
    from judged order by with_headers, at desc limit ${PROBLEMS + EXAMPLES}`);
  const creates = Number(headers[0]?.total ?? 0);
  return {
    fullyCaptured: await withEvent(tx, pspId, 'CAPTURED', sql`p.authorized_amount > 0 and p.captured_amount = p.authorized_amount`),
    partiallyCaptured: await withEvent(tx, pspId, 'CAPTURED', sql`e.amount < p.authorized_amount`),
    refunded: await withEvent(tx, pspId, 'REFUNDED', sql`true`),
    cancelledBeforeAuthorization: await withEvent(tx, pspId, 'TERMINATED', sql`true`),
    cancelledAfterAuthorization: await withEvent(tx, pspId, 'CANCELLED', sql`true`),
    softDeclineCompleted: await withCallback(tx, pspId, sql`c.round = 2 and c.outcome = 'RESERVE'`, EXAMPLES),
    failAnswers: await withCallback(tx, pspId, sql`c.outcome = 'FAIL'`, EXAMPLES),
    callbacks: {
      count: Number(callbackCount?.n ?? 0),
      problems: await withCallback(tx, pspId, sql`c.outcome in ('ERROR', 'ABANDONED') and (c.error is null or c.error not like 'not sent:%')`, PROBLEMS, RECENT),
    },
    webhooks: {
      registrations: Number(registrations?.n ?? 0),
      delivered: (await deliveries(sql`d.status = 'DELIVERED'`, EXAMPLES)).map(ref),
      problems: (await deliveries(sql`(d.status = 'FAILED' or (d.status = 'PENDING' and d.attempts > 0))`, PROBLEMS)).map(ref),
    },
    replays: replays.map(ref),
    createHeaders: {
      creates,
      withSystemHeaders: Number(headers[0]?.with_count ?? 0),
      without: headers.filter((h) => !h.with_headers).slice(0, PROBLEMS).map(ref),
      example: headers.filter((h) => h.with_headers).slice(0, EXAMPLES).map(ref),
    },
  };
}
