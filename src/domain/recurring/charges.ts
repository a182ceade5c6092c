// Charges of a Recurring PSP agreement: the v4 batch items, due dates and retry windows in Norwegian
// time, what a reported result does, and the v3 amount rules of capture, refund and cancel. Pure.
// What the published material leaves open is decided here (open-questions G1–G5, G10) and in the
// README's Recurring decisions.
import type { FieldProblem } from '../errors.ts';
import { CHARGE_ID_PATTERN, MAX_CHARGE_AMOUNT, TRANSACTION_TYPES } from './agreement.ts';

export const CHARGE_STATUSES = ['PENDING', 'DUE', 'PROCESSING', 'RESERVED', 'CHARGED', 'PARTIALLY_CAPTURED', 'FAILED', 'CANCELLED', 'PARTIALLY_REFUNDED', 'REFUNDED'] as const;
export type ChargeStatus = (typeof CHARGE_STATUSES)[number];
export const FAILURE_REASONS = ['user_action_required', 'charge_amount_too_high', 'non_technical_error', 'technical_error'] as const;
/** A v4 batch holds 1 to this many charges. */
export const MAX_BATCH = 50;
/** retryDays of a RECURRING charge: 0 to this (v3's bound). */
export const MAX_RETRY_DAYS = 14;

export interface BatchItem {
  agreementId: string;
  chargeId: string;
  type: 'RECURRING' | 'UNSCHEDULED';
  amount: number;
  transactionType: (typeof TRANSACTION_TYPES)[number];
  description: string | null;
  due: string | null;
  retryDays: number;
  externalId: string | null;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether a YYYY-MM-DD is a real calendar date. */
export function isCalendarDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** A batch item's problems (named by their place in the batch), or the item. */
export function checkItem(value: unknown, index: number): { item: BatchItem } | { problems: FieldProblem[]; agreementId: string | null; chargeId: string | null } {
  const at = (field: string) => `[${index}].${field}`;
  const problems: FieldProblem[] = [];
  if (!isObject(value)) return { problems: [{ name: `[${index}]`, reason: 'Each charge must be an object.' }], agreementId: null, chargeId: null };
  const v = value;
  const agreementId = typeof v.agreementId === 'string' && v.agreementId.length >= 1 && v.agreementId.length <= 36 ? v.agreementId : null;
  if (agreementId === null) problems.push({ name: at('agreementId'), reason: 'The agreementId is required.' });
  const chargeId = typeof v.chargeId === 'string' && CHARGE_ID_PATTERN.test(v.chargeId) ? v.chargeId : null;
  if (chargeId === null) problems.push({ name: at('chargeId'), reason: 'The chargeId is required: 1 to 50 letters, digits and hyphens, your own id of the charge.' });
  if (v.type !== 'RECURRING' && v.type !== 'UNSCHEDULED') problems.push({ name: at('type'), reason: 'The type is required: RECURRING or UNSCHEDULED.' });
  if (typeof v.amount !== 'number' || !Number.isInteger(v.amount) || v.amount < 1 || v.amount > MAX_CHARGE_AMOUNT) {
    problems.push({ name: at('amount'), reason: `The amount is required: an integer from 1 to ${MAX_CHARGE_AMOUNT} (minor units; Recurring amounts are plain integers).` });
  }
  if (typeof v.transactionType !== 'string' || !(TRANSACTION_TYPES as readonly string[]).includes(v.transactionType)) {
    problems.push({ name: at('transactionType'), reason: `The transactionType is required: ${TRANSACTION_TYPES.join(' or ')}.` });
  }
  let description: string | null = null;
  if (v.description !== undefined && v.description !== null) {
    if (typeof v.description !== 'string' || v.description.length < 1 || v.description.length > 45) problems.push({ name: at('description'), reason: 'The description must be 1 to 45 characters.' });
    else description = v.description;
  }
  let externalId: string | null = null;
  if (v.externalId !== undefined && v.externalId !== null) {
    if (typeof v.externalId !== 'string' || v.externalId.length < 1 || v.externalId.length > 64) problems.push({ name: at('externalId'), reason: 'The externalId must be 1 to 64 characters.' });
    else externalId = v.externalId;
  }
  let due: string | null = null;
  let retryDays = 0;
  if (v.type === 'RECURRING') {
    if (typeof v.due !== 'string' || !isCalendarDate(v.due)) problems.push({ name: at('due'), reason: 'The due date is required for a RECURRING charge: YYYY-MM-DD.' });
    else due = v.due;
    if (v.retryDays !== undefined && v.retryDays !== null) {
      if (typeof v.retryDays !== 'number' || !Number.isInteger(v.retryDays) || v.retryDays < 0 || v.retryDays > MAX_RETRY_DAYS) {
        problems.push({ name: at('retryDays'), reason: `The retryDays must be an integer from 0 to ${MAX_RETRY_DAYS}.` });
      } else retryDays = v.retryDays;
    }
  } else if (v.type === 'UNSCHEDULED') {
    for (const f of ['due', 'retryDays'] as const) {
      if (v[f] !== undefined && v[f] !== null) problems.push({ name: at(f), reason: `An UNSCHEDULED charge is processed at once: it has no ${f}.` });
    }
  }
  if (problems.length > 0) return { problems, agreementId, chargeId };
  return {
    item: {
      agreementId: agreementId!, chargeId: chargeId!, type: v.type as BatchItem['type'], amount: v.amount as number,
      transactionType: v.transactionType as BatchItem['transactionType'], description, due, retryDays, externalId,
    },
  };
}

const OSLO = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Oslo', year: 'numeric', month: '2-digit', day: '2-digit' });

/** The date (YYYY-MM-DD) in Norway at `at`: due dates are Norwegian dates. */
export function osloDate(at: Date): string {
  return OSLO.format(at);
}

/** The instant a Norwegian date begins: midnight there is 22:00 or 23:00 UTC the day before (summer or winter time). */
export function osloStartOf(date: string): Date {
  const utcMidnight = Date.parse(`${date}T00:00:00Z`);
  const summer = new Date(utcMidnight - 2 * 3600_000);
  return osloDate(summer) === date ? summer : new Date(utcMidnight - 3600_000);
}

/** A date `days` after another (calendar days). */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The end of a RECURRING charge's retry window: the end of the day `retryDays` after its due date, in Norway. */
export function retryUntilOf(due: string, retryDays: number): Date {
  return osloStartOf(addDays(due, retryDays + 1));
}

/** Whether a charge's due date has come at `now`. */
export function isDueAt(due: string, now: Date): boolean {
  return osloDate(now) >= due;
}

/** The result a PSP reports for a charge (POST …/result). */
export type ChargeResult =
  | { status: 'SUCCESS' }
  | { status: 'FAILED'; error: { code: number | string | null; retry: boolean; message: string | null } };

export function checkResult(body: unknown): { result: ChargeResult } | { problems: FieldProblem[] } {
  if (!isObject(body)) return { problems: [{ name: 'body', reason: 'The body must be {"status": "SUCCESS"} or {"status": "FAILED", "error": {"code", "retry", "message"}}.' }] };
  if (body.status === 'SUCCESS') {
    if (body.error !== undefined && body.error !== null) return { problems: [{ name: 'error', reason: 'A SUCCESS has no error.' }] };
    return { result: { status: 'SUCCESS' } };
  }
  if (body.status !== 'FAILED') return { problems: [{ name: 'status', reason: 'The status is required: SUCCESS or FAILED.' }] };
  const e = body.error;
  if (!isObject(e)) return { problems: [{ name: 'error', reason: 'A FAILED result needs its error: {"code", "retry", "message"}.' }] };
  const problems: FieldProblem[] = [];
  if (typeof e.retry !== 'boolean') problems.push({ name: 'error.retry', reason: 'The retry is required with FAILED: true if the charge may be tried again, else false.' });
  if (e.code !== undefined && e.code !== null && !(typeof e.code === 'number' && Number.isInteger(e.code)) && !(typeof e.code === 'string' && e.code.length <= 50)) {
    problems.push({ name: 'error.code', reason: 'The code must be an integer (or a string of at most 50 characters).' });
  }
  if (e.message !== undefined && e.message !== null && (typeof e.message !== 'string' || e.message.length > 500)) problems.push({ name: 'error.message', reason: 'The message must be a string of at most 500 characters.' });
  if (problems.length > 0) return { problems };
  return { result: { status: 'FAILED', error: { code: (e.code as number | string | undefined) ?? null, retry: e.retry as boolean, message: (e.message as string | undefined) ?? null } } };
}

/** The status a charge takes when its payment succeeds. */
export function succeededStatus(transactionType: string): ChargeStatus {
  return transactionType === 'DIRECT_CAPTURE' ? 'CHARGED' : 'RESERVED';
}

export interface ChargeAmounts { amount: number; status: string; capturedAmount: number; refundedAmount: number; cancelledAmount: number }

/** Whether a charge was paid (reserved, perhaps captured): capture, refund and cancel work on its amounts. */
const PAID = ['RESERVED', 'CHARGED', 'PARTIALLY_CAPTURED', 'PARTIALLY_REFUNDED', 'REFUNDED'];

/** What is still reserved and not captured or cancelled. */
function reservedLeft(c: ChargeAmounts): number {
  return c.amount - c.capturedAmount - c.cancelledAmount;
}

/** The status of a paid charge from its amounts: refunds first, then what is captured. */
function paidStatus(c: ChargeAmounts, captured: number, refunded: number, cancelled: number): ChargeStatus {
  if (refunded > 0) return refunded === captured && reservedLeftAfter(c, captured, cancelled) === 0 ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
  if (captured === 0) return cancelled > 0 ? 'CANCELLED' : 'RESERVED';
  return captured + cancelled === c.amount ? (cancelled > 0 ? 'PARTIALLY_CAPTURED' : 'CHARGED') : 'PARTIALLY_CAPTURED';
}

function reservedLeftAfter(c: ChargeAmounts, captured: number, cancelled: number): number {
  return c.amount - captured - cancelled;
}

/** A capture of `amount`: the new status and captured total, or why not. */
export function capture(c: ChargeAmounts, amount: number): { status: ChargeStatus; capturedAmount: number } | { refused: string } {
  if (!PAID.includes(c.status) || reservedLeft(c) === 0) return { refused: `A ${c.status} charge has nothing reserved to capture.` };
  const left = reservedLeft(c);
  if (amount > left) return { refused: `The amount ${amount} is more than the ${left} left to capture.` };
  const captured = c.capturedAmount + amount;
  return { status: paidStatus(c, captured, c.refundedAmount, c.cancelledAmount), capturedAmount: captured };
}

/** A refund of `amount`: the new status and refunded total, or why not. */
export function refund(c: ChargeAmounts, amount: number): { status: ChargeStatus; refundedAmount: number } | { refused: string } {
  if (!PAID.includes(c.status) || c.capturedAmount === 0) return { refused: `A ${c.status} charge has nothing captured to refund.` };
  const left = c.capturedAmount - c.refundedAmount;
  if (amount > left) return { refused: `The amount ${amount} is more than the ${left} captured and not refunded.` };
  const refunded = c.refundedAmount + amount;
  return { status: paidStatus(c, c.capturedAmount, refunded, c.cancelledAmount), refundedAmount: refunded };
}

/**
 * A cancel: a charge not yet paid (PENDING, DUE, PROCESSING) is CANCELLED; of a paid one, what is
 * still reserved is cancelled (a RESERVED one becomes CANCELLED; where money was taken, the status
 * keeps saying so).
 */
export function cancel(c: ChargeAmounts): { status: ChargeStatus; cancelledAmount: number } | { refused: string } {
  if (['PENDING', 'DUE', 'PROCESSING'].includes(c.status)) return { status: 'CANCELLED', cancelledAmount: c.amount };
  if (!PAID.includes(c.status) || reservedLeft(c) === 0) return { refused: `A ${c.status} charge has nothing left to cancel.` };
  const cancelled = c.amount - c.capturedAmount;
  return { status: paidStatus(c, c.capturedAmount, c.refundedAmount, cancelled), cancelledAmount: cancelled };
}
