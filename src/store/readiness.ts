// The facts of a PSP's go-live readiness (domain/readiness.ts), gathered set-based. Every statement is
// bounded however many payments a PSP has: each looks at most at the PSP's newest SEARCH_DEPTH
// payments of one state (through payments_psp_state_created_idx), stops at the few examples it
// shows, and counts in SQL; error answers are the newest few per code (events_api_error_code_idx).
import { sql, type SQL } from 'drizzle-orm';
import { rows, type Tx } from './db.ts';
import type { AnswerProblem, AttemptProblem, ErrorCheck, ErrorRef, PaymentRef, ReadinessFacts } from '../domain/readiness.ts';

/** How many of a PSP's newest payments of one state a search looks at. */
export const SEARCH_DEPTH = 20_000;
/** How many of a PSP's newest payments (of a state, for notifications) the makePayment-answer, notification and init-header checks look at; and how many newest error answers are searched for codes that were not first in their answer. */
export const RECENT_PAYMENTS = 5_000;
/** Examples shown per item. */
const EXAMPLES = 3;
/** Problems listed per item. */
const PROBLEMS = 10;

interface PaymentRow {
  payment_id: string;
  psp_transaction_id: string;
  merchant_order_id: string;
  created_at: string | Date;
  detail?: string | null;
}

function ref(r: PaymentRow): PaymentRef {
  return {
    paymentId: r.payment_id, pspTransactionId: r.psp_transaction_id, merchantOrderId: r.merchant_order_id,
    at: new Date(r.created_at), ...(r.detail ? { detail: r.detail } : {}),
  };
}

/** The newest reserved payments of a PSP that match `where` (a condition on the payment's totals). */
async function reserved(tx: Tx, pspId: string, where: SQL, limit: number): Promise<PaymentRef[]> {
  const found = await rows<PaymentRow>(tx, sql`
    select payment_id, psp_transaction_id, merchant_order_id, created_at from (
      select payment_id, psp_transaction_id, merchant_order_id, created_at, reserved_amount, captured_amount,
        cancelled_amount, refunded_amount, delivery_round
      from payments where psp_id = ${pspId} and state = 'RESERVED'
      order by created_at desc, payment_id desc limit ${SEARCH_DEPTH}) p
    where ${where}
    order by created_at desc, payment_id desc limit ${limit}`);
  return found.map(ref);
}

/** Reservations open (nothing captured or cancelled) since before `before`: how many, and the oldest few. */
async function overdue(tx: Tx, pspId: string, before: Date): Promise<{ count: number; list: PaymentRef[] }> {
  const found = await rows<PaymentRow & { total: string | number }>(tx, sql`
    select payment_id, psp_transaction_id, merchant_order_id, created_at, count(*) over () as total from (
      select payment_id, psp_transaction_id, merchant_order_id, created_at, captured_amount, cancelled_amount
      from payments where psp_id = ${pspId} and state = 'RESERVED' and created_at < ${before.toISOString()}::timestamptz
      order by created_at desc, payment_id desc limit ${SEARCH_DEPTH}) p
    where captured_amount = 0 and cancelled_amount = 0
    order by created_at, payment_id limit ${PROBLEMS}`);
  return { count: Number(found[0]?.total ?? 0), list: found.map(ref) };
}

type Notified = Record<'TIMEOUT' | 'USER_CANCEL', { notified: PaymentRef[]; failed: PaymentRef[] }>;

/**
 * One pass over the PSP's newest (RECENT_PAYMENTS of each) payments that ended TIMEOUT or USER_CANCEL, each with the outcome
 * of its latest notification: the newest few answered, and the newest few never answered.
 */
async function notifications(tx: Tx, pspId: string): Promise<Notified> {
  const found = await rows<PaymentRow & { state: 'TIMEOUT' | 'USER_CANCEL'; answered: boolean }>(tx, sql`
    with ended as (
      (select payment_id, psp_transaction_id, merchant_order_id, created_at, state from payments
       where psp_id = ${pspId} and state = 'TIMEOUT' order by created_at desc, payment_id desc limit ${RECENT_PAYMENTS})
      union all
      (select payment_id, psp_transaction_id, merchant_order_id, created_at, state from payments
       where psp_id = ${pspId} and state = 'USER_CANCEL' order by created_at desc, payment_id desc limit ${RECENT_PAYMENTS})),
    latest as (
      select e.*, a.outcome = 'NOTIFIED' as answered,
        coalesce(a.error, case when a.response_status is not null then 'HTTP ' || a.response_status end) as detail
      from ended e
      cross join lateral (
        select outcome, error, response_status from delivery_attempts a
        where a.payment_id = e.payment_id and a.payment_state = e.state
        order by a.attempt_id desc limit 1) a
      where a.outcome in ('NOTIFIED', 'NOT_DELIVERED', 'ABANDONED')),
    ranked as (
      select *, row_number() over (partition by state, answered order by created_at desc, payment_id desc) as rn from latest)
    select payment_id, psp_transaction_id, merchant_order_id, created_at, state, answered, case when answered then null else detail end as detail
    from ranked where rn <= case when answered then ${EXAMPLES}::int else ${PROBLEMS}::int end
    order by state, answered, rn`);
  const out: Notified = { TIMEOUT: { notified: [], failed: [] }, USER_CANCEL: { notified: [], failed: [] } };
  for (const r of found) out[r.state][r.answered ? 'notified' : 'failed'].push(ref(r));
  return out;
}

async function failAnswers(tx: Tx, pspId: string): Promise<ReadinessFacts['failAnswers']> {
  const found = await rows<PaymentRow & { error_id: string; error_text: string | null; n: string | number }>(tx, sql`
    with f as (
      select payment_id, psp_transaction_id, merchant_order_id, created_at, error_id, error_text, failure_reason
      from payments where psp_id = ${pspId} and state = 'FAILED'
      order by created_at desc, payment_id desc limit ${SEARCH_DEPTH}),
    answered as (
      select *, row_number() over (partition by error_id order by created_at desc, payment_id desc) as rn,
        count(*) over (partition by error_id) as n
      from f where failure_reason = 'PSP_FAIL' and error_id is not null)
    select payment_id, psp_transaction_id, merchant_order_id, created_at, error_id, error_text, n
    from answered where rn <= 2 order by error_id, rn limit 100`);
  const byId = new Map<string, ReadinessFacts['failAnswers'][number]>();
  for (const r of found) {
    let entry = byId.get(r.error_id);
    if (!entry) {
      entry = { errorId: r.error_id, errorText: r.error_text, count: Number(r.n), examples: [] };
      byId.set(r.error_id, entry);
    }
    entry.examples.push(ref(r));
  }
  return [...byId.values()];
}

/** The newest error answers of each check, in one statement. */
async function errorAnswers(tx: Tx, pspId: string, checks: readonly ErrorCheck[]): Promise<Record<string, ErrorRef[]>> {
  const list = checks.map((c) => ({ id: c.id, code: c.code, prefix: c.messagePrefix ?? null, exclude: c.excludePrefix ?? null }));
  const found = await rows<{
    check_id: string; event_id: string | number; created_at: string | Date; data: Record<string, unknown>;
    payment_id: string | null; merchant_order_id: string | null; payment_tx: string | null;
  }>(tx, sql`
    with multi as materialized (
      -- The newest answers that carried several codes.
      select event_id, created_at, data, payment_id from (
        select event_id, created_at, data, payment_id from events
        where psp_id = ${pspId} and kind = 'api.error'
        order by event_id desc limit ${RECENT_PAYMENTS}) recent
      where jsonb_typeof(data -> 'errorCodes') = 'array')
    select c.id as check_id, e.event_id, e.created_at, e.data, e.payment_id, e.merchant_order_id, e.payment_tx
    from jsonb_to_recordset(${JSON.stringify(list)}::jsonb) as c(id text, code text, prefix text, exclude text)
    cross join lateral (
      select e.event_id, e.created_at, e.data, e.payment_id, p.merchant_order_id, p.psp_transaction_id as payment_tx
      from (
        -- Answers whose (first) code is this one: through events_api_error_code_idx.
        -- (The newest SEARCH_DEPTH of them, where the message tells two meanings of a code apart.)
        (select event_id, created_at, data, payment_id from (
           select event_id, created_at, data, payment_id from events
           where psp_id = ${pspId} and kind = 'api.error' and data ->> 'errorCode' = c.code
           order by event_id desc limit ${SEARCH_DEPTH}) same
         where (c.prefix is null or left(coalesce(data ->> 'errorMessage', ''), length(c.prefix)) = c.prefix)
           and (c.exclude is null or left(coalesce(data ->> 'errorMessage', ''), length(c.exclude)) <> c.exclude)
         order by event_id desc limit ${EXAMPLES})
        union all
        -- Answers with several codes where this one was not the first: among the newest answers only.
        (select event_id, created_at, data, payment_id from multi
         where c.prefix is null and c.exclude is null and data ->> 'errorCode' <> c.code and data -> 'errorCodes' @> jsonb_build_array(c.code)
         order by event_id desc limit ${EXAMPLES})
      ) e
      left join payments p on p.payment_id = e.payment_id
      order by e.event_id desc limit ${EXAMPLES}) e
    order by c.id, e.event_id desc`);
  const codeOf = new Map(checks.map((c) => [c.id, c.code]));
  const out: Record<string, ErrorRef[]> = {};
  for (const r of found) {
    const d = r.data;
    const text = (k: string) => (typeof d[k] === 'string' ? d[k] as string : null);
    (out[r.check_id] ??= []).push({
      eventId: Number(r.event_id), at: new Date(r.created_at),
      method: text('method') ?? '', route: text('route') ?? '', status: Number(d.status ?? 0),
      // The code this check is about (an answer with several codes names the first in errorCode).
      errorCode: codeOf.get(r.check_id) ?? text('errorCode') ?? '', errorMessage: text('errorCode') === codeOf.get(r.check_id) ? text('errorMessage') : null, contextId: text('contextId'),
      pspTransactionId: text('pspTransactionId') ?? r.payment_tx, paymentId: r.payment_id, merchantOrderId: r.merchant_order_id,
    });
  }
  return out;
}

async function answers(tx: Tx, pspId: string, timeoutMs: number): Promise<ReadinessFacts['answers']> {
  const calls = sql`
    with recent as (
      select payment_id, psp_transaction_id, merchant_order_id from payments where psp_id = ${pspId}
      order by created_at desc, payment_id desc limit ${RECENT_PAYMENTS}),
    calls as materialized (
      select a.attempt_id, a.payment_state, a.created_at, a.error, a.response_status, r.payment_id, r.psp_transaction_id, r.merchant_order_id,
        case
          when a.outcome = 'ABANDONED' then 'ABANDONED'
          when a.outcome like 'LATE%' then 'LATE'
          when a.response_status is null then 'NO_ANSWER'
          when a.response_status <> 200 then 'HTTP_STATUS'
          when coalesce(a.response_body, '') !~ '^\\s*[{[]' then 'NOT_JSON'
          when a.latency_ms > ${timeoutMs} then 'TOO_SLOW'
        end as problem
      from recent r join delivery_attempts a on a.payment_id = r.payment_id
      where a.outcome not in ('PENDING', 'IN_FLIGHT'))`;
  type Listed = { attempt_id: string | number; payment_state: string; created_at: string; payment_id: string;
    psp_transaction_id: string; merchant_order_id: string; problem: AnswerProblem; error: string | null; response_status: number | null };
  const [summary] = await rows<{ payments: string | number; calls: string | number; by_reason: Record<string, number> | null; listed: Listed[] | null }>(tx, sql`
    ${calls}
    select (select count(*) from recent) as payments, (select count(*) from calls) as calls,
      (select jsonb_object_agg(problem, n) from (select problem, count(*) as n from calls where problem is not null group by problem) g) as by_reason,
      (select jsonb_agg(x order by x.attempt_id desc) from (
        select attempt_id, payment_state, created_at, payment_id, psp_transaction_id, merchant_order_id, problem, error, response_status
        from calls where problem is not null order by attempt_id desc limit ${PROBLEMS}) x) as listed`);
  const listed = summary?.listed ?? [];
  const byReason = (summary?.by_reason ?? {}) as Partial<Record<AnswerProblem, number>>;
  return {
    paymentsLookedAt: Number(summary?.payments ?? 0),
    calls: Number(summary?.calls ?? 0),
    problemCount: Object.values(byReason).reduce<number>((a, b) => a + Number(b ?? 0), 0),
    problemsByReason: Object.fromEntries(Object.entries(byReason).map(([k, v]) => [k, Number(v)])),
    problems: listed.map((r): AttemptProblem => ({
      ...ref({ ...r, detail: r.error ?? (r.response_status !== null ? `HTTP ${r.response_status}` : null) }),
      attemptId: Number(r.attempt_id), paymentState: r.payment_state, reason: r.problem,
    })),
    timeoutMs,
  };
}

async function initHeaders(tx: Tx, pspId: string): Promise<ReadinessFacts['initHeaders']> {
  const recent = sql`
    with recent as (
      select payment_id, psp_transaction_id, merchant_order_id, created_at,
        coalesce(init_headers ->> 'idempotency-key', init_headers ->> 'request-id') is not null as has_key,
        (init_headers ->> 'vipps-system-name') is not null and (init_headers ->> 'vipps-system-version') is not null as has_system
      from payments where psp_id = ${pspId}
      order by created_at desc, payment_id desc limit ${RECENT_PAYMENTS})`;
  const [counts] = await rows<{ inits: string | number; with_key: string | number; with_system: string | number }>(tx, sql`
    ${recent}
    select count(*) as inits, count(*) filter (where has_key) as with_key, count(*) filter (where has_system) as with_system from recent`);
  const listed = await rows<PaymentRow & { kind: string }>(tx, sql`
    ${recent}
    (select 'no-key' as kind, payment_id, psp_transaction_id, merchant_order_id, created_at from recent where not has_key
      order by created_at desc limit ${PROBLEMS})
    union all
    (select 'no-system', payment_id, psp_transaction_id, merchant_order_id, created_at from recent where not has_system
      order by created_at desc limit ${PROBLEMS})
    union all
    (select 'example', payment_id, psp_transaction_id, merchant_order_id, created_at from recent where has_key and has_system
      order by created_at desc limit 1)`);
  const of = (kind: string) => listed.filter((r) => r.kind === kind).map(ref);
  return {
    inits: Number(counts?.inits ?? 0),
    withIdempotencyKey: Number(counts?.with_key ?? 0),
    withSystemHeaders: Number(counts?.with_system ?? 0),
    withoutIdempotencyKey: of('no-key'),
    withoutSystemHeaders: of('no-system'),
    example: of('example'),
  };
}

/** Gathers every fact of the readiness report for one PSP, in the given (read-only) transaction. */
export async function readinessFacts(
  tx: Tx, psp: { pspId: string; name: string }, opts: { now: Date; timeoutMs: number; settleWithinHours: number; checks: readonly ErrorCheck[] },
): Promise<ReadinessFacts> {
  const { pspId } = psp;
  const before = new Date(opts.now.getTime() - opts.settleWithinHours * 3600_000);
  const completeOrders = await reserved(tx, pspId, sql`refunded_amount > 0`, EXAMPLES);
  const cancelledOrders = await reserved(tx, pspId, sql`cancelled_amount > 0`, EXAMPLES);
  const settled = await reserved(tx, pspId, sql`(captured_amount > 0 or cancelled_amount > 0)`, EXAMPLES);
  const threeDsCompleted = await reserved(tx, pspId, sql`delivery_round >= 2 and reserved_amount > 0`, EXAMPLES);
  const late = await overdue(tx, pspId, before);
  return {
    pspId,
    pspName: psp.name,
    completeOrders,
    cancelledOrders,
    errorAnswers: await errorAnswers(tx, pspId, opts.checks),
    failAnswers: await failAnswers(tx, pspId),
    threeDsCompleted,
    notifications: await notifications(tx, pspId),
    answers: await answers(tx, pspId, opts.timeoutMs),
    settlement: { settled, overdueCount: late.count, overdue: late.list },
    initHeaders: await initHeaders(tx, pspId),
  };
}
