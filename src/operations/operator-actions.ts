// What the operator can do to a payment, from the console or the operator API, each recorded as an
// event in the transaction of the change it makes: expire it now (the sweeper's expiry: TIMEOUT and
// its notification to the PSP), reject it as the user would (USER_CANCEL), send a TIMEOUT or
// USER_CANCEL notification again that did not reach the PSP, and approve as the user (test only).
import { ApiError, errors } from '../domain/errors.ts';
import { APPROVABLE, WAITING } from '../domain/psp-v3/payment.ts';
import { rows, type Tx } from '../store/db.ts';
import { approvalContext, findPaymentById, transition, type PaymentRow } from '../store/payments.ts';
import { insertPendingNotification } from '../store/attempts.ts';
import { recordEvent } from '../store/events.ts';
import { sql } from 'drizzle-orm';
import { userCancel } from './psp-v3/cancel.ts';
import { approveLoaded, NotApprovable } from './psp-v3/approve.ts';
import type { PaymentDeps } from './payment-deps.ts';

/** Who acted: the console (events `console.*`) or the operator API (events `admin.*`). */
export type Actor = 'console' | 'admin';

function notPossible(what: string, state: string): ApiError {
  return new ApiError(409, 'not_possible', `The payment is ${state}: ${what}`, { title: 'Not possible in this state' });
}

async function load(deps: PaymentDeps, paymentId: string): Promise<PaymentRow> {
  const payment = await findPaymentById(deps.database.db, paymentId);
  if (!payment) throw errors.notFound('No such payment.');
  return payment;
}

/** What the operator may do to a payment now. */
export interface PossibleActions {
  approve: boolean;
  reject: boolean;
  expire: boolean;
  /** The notification that can be sent again (TIMEOUT or USER_CANCEL), if any. */
  redeliver: string | undefined;
}

export function possibleActions(deps: PaymentDeps, payment: PaymentRow, undelivered: string | undefined): PossibleActions {
  const waiting = (WAITING as readonly string[]).includes(payment.state);
  const test = deps.config.vippsEnv === 'test';
  return {
    approve: test && (APPROVABLE as readonly string[]).includes(payment.state),
    reject: test && waiting,
    expire: waiting,
    redeliver: undelivered,
  };
}

/**
 * The notification of a TIMEOUT or USER_CANCEL payment that can be sent again: its latest one ended
 * NOT_DELIVERED or ABANDONED and none is pending, in flight or delivered since.
 */
export async function undeliveredNotification(tx: Tx, payment: PaymentRow): Promise<string | undefined> {
  if (payment.state !== 'TIMEOUT' && payment.state !== 'USER_CANCEL') return undefined;
  const [latest] = await rows<{ outcome: string }>(tx, sql`select outcome from delivery_attempts
    where payment_id = ${payment.paymentId} and payment_state = ${payment.state} order by attempt_id desc limit 1`);
  return latest && (latest.outcome === 'NOT_DELIVERED' || latest.outcome === 'ABANDONED') ? payment.state : undefined;
}

/** Expires a waiting payment now: TIMEOUT, and its TIMEOUT notification sent to the PSP. */
export async function expireNow(deps: PaymentDeps, paymentId: string, actor: Actor): Promise<PaymentRow> {
  const now = deps.clock.now();
  const done = await deps.database.db.transaction(async (tx) => {
    const row = await transition(tx, paymentId, WAITING, { state: 'TIMEOUT', expiresAt: null, failureReason: 'TIMEOUT' }, now);
    if (!row) return undefined;
    const attemptId = await insertPendingNotification(tx, {
      paymentId, pspTransactionId: row.pspTransactionId, msn: row.msn, url: row.makePaymentUrl, paymentState: 'TIMEOUT',
    }, now);
    await recordEvent(tx, { pspId: row.pspId, paymentId, kind: `${actor}.expire`, data: { from: WAITING.join('|') }, createdAt: now });
    return { row, attemptId };
  });
  if (!done) throw notPossible('only a payment waiting for the user can be expired.', (await load(deps, paymentId)).state);
  await deps.notifier.deliver([done.attemptId]);
  return done.row;
}

/** Rejects a waiting payment as its user would: USER_CANCEL, and its notification. Test environment only. */
export async function rejectAsUser(deps: PaymentDeps, paymentId: string, actor: Actor): Promise<PaymentRow> {
  if (deps.config.vippsEnv !== 'test') throw errors.testOnly();
  try {
    return await userCancel(deps, paymentId, async (tx, row) => {
      await recordEvent(tx, { pspId: row.pspId, paymentId, kind: `${actor}.reject`, data: {}, createdAt: deps.clock.now() });
    });
  } catch (err) {
    if (err instanceof NotApprovable) throw notPossible('only a payment waiting for the user can be rejected.', err.paymentState);
    throw err;
  }
}

/** Sends a TIMEOUT or USER_CANCEL notification again that was not delivered: a new PENDING attempt. */
export async function redeliverNotification(deps: PaymentDeps, paymentId: string, actor: Actor): Promise<PaymentRow> {
  const now = deps.clock.now();
  const done = await deps.database.db.transaction(async (tx) => {
    // The payment's row lock: two operators clicking at once make one new attempt, not two.
    const [locked] = await rows<{ payment_id: string }>(tx, sql`select payment_id from payments where payment_id = ${paymentId} for update`);
    if (!locked) throw errors.notFound('No such payment.');
    const payment = (await findPaymentById(tx, paymentId))!;
    const state = await undeliveredNotification(tx, payment);
    if (!state) return { payment, attemptId: undefined };
    const attemptId = await insertPendingNotification(tx, {
      paymentId, pspTransactionId: payment.pspTransactionId, msn: payment.msn, url: payment.makePaymentUrl, paymentState: state,
    }, now);
    await recordEvent(tx, { pspId: payment.pspId, paymentId, kind: `${actor}.redeliver`, data: { paymentState: state }, createdAt: now });
    return { payment, attemptId };
  });
  if (done.attemptId === undefined) {
    throw notPossible('only a TIMEOUT or USER_CANCEL notification that was not delivered (NOT_DELIVERED or ABANDONED) can be sent again.', done.payment.state);
  }
  await deps.notifier.deliver([done.attemptId]);
  return done.payment;
}

/**
 * Approves as the user with the phone number, as the integration-test approve does (test environment
 * only): the user's first card, the token delivered to the PSP. Answers once the delivery is over.
 */
export async function approveAsUser(deps: PaymentDeps, paymentId: string, phone: string, actor: Actor): Promise<PaymentRow> {
  if (deps.config.vippsEnv !== 'test') throw errors.testOnly();
  if (!/^\d{8}$/.test(phone)) throw new ApiError(400, '51', 'The phone number must be 8 digits.');
  const context = await approvalContext(deps.database.db, { paymentId }, phone);
  if (!context) throw errors.notFound('No such payment.');
  if (!context.userExists) throw new ApiError(400, '51', `${phone} is not a known test user.`);
  let after: PaymentRow | undefined;
  let failure: unknown;
  try {
    after = await approveLoaded(deps, context, phone);
  } catch (err) {
    failure = err;
  }
  const outcome = after ? after.state : failure instanceof Error ? failure.message : 'failed';
  await recordEvent(deps.database.db, { pspId: context.payment.pspId, paymentId, kind: `${actor}.approve`, data: { phone, outcome }, createdAt: deps.clock.now() });
  if (failure instanceof NotApprovable) throw notPossible('only a payment waiting for the user can be approved.', failure.paymentState);
  if (failure) throw failure;
  return after!;
}
