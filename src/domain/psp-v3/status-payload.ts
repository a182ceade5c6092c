// Validation of POST /psp/v3/psppayments/updatestatus bodies (PaymentStatus). A payload valid per
// the schema is accepted whole; the batch applies the business rules later. Amounts may be numeric strings.
import type { FieldProblem } from '../errors.ts';
import { parseAmount } from './init-request.ts';

export interface ParsedUpdate {
  pspTransactionId: string;
  status: 'RESERVED' | 'CAPTURED' | 'CANCELLED' | 'REFUNDED';
  amount: number;
  currency: string;
  paymentText: string | null;
  operationStatus: 'SUCCESS' | 'FAILED';
}

const STATUSES = new Set(['RESERVED', 'CAPTURED', 'CANCELLED', 'REFUNDED']);
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
export const MAX_TRANSACTIONS = 50_000;
/**
 * The largest updatestatus body accepted, in bytes. What MAX_TRANSACTIONS updates need at the documented
 * field limits: pspTransactionId 36 characters, status CANCELLED, amount "-2147483648" as a string,
 * currency 3 letters, operationStatus SUCCESS, and a paymentText of 100 characters (the limit the
 * spec's link for paymentText gives, developer.vippsmobilepay.com/docs/knowledge-base/transactiontext/),
 * each of them a 3-byte UTF-8 character such as "€"; pretty-printed with two-space indentation that
 * is 528 bytes per update, 25 MiB for 50,000 (the spec sets no maximum count; 50,000 is this server's).
 * 32 MiB leaves over a quarter of headroom. Longer paymentTexts (accepted up to 1,000 characters) mean
 * fewer updates per request.
 */
export const MAX_STATUS_BODY_BYTES = 32 * 1024 * 1024;

function problem(index: number, field: string, why: string): FieldProblem {
  return { name: '51', reason: `Invalid request: transactions[${index}].${field} ${why}` };
}

export function validateStatusPayload(body: unknown): { ok: true; updates: ParsedUpdate[] } | { ok: false; problems: FieldProblem[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, problems: [{ name: '51', reason: 'Invalid request: the body must be a JSON object with a transactions array' }] };
  }
  const list = (body as { transactions?: unknown }).transactions;
  if (!Array.isArray(list)) return { ok: false, problems: [{ name: '51', reason: 'Invalid request: transactions must be an array' }] };
  if (list.length > MAX_TRANSACTIONS) {
    return { ok: false, problems: [{ name: '51', reason: `Invalid request: at most ${MAX_TRANSACTIONS} transactions per request` }] };
  }
  const problems: FieldProblem[] = [];
  const updates: ParsedUpdate[] = [];
  list.forEach((item, i) => {
    if (problems.length >= 20) return;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push({ name: '51', reason: `Invalid request: transactions[${i}] must be an object` });
      return;
    }
    const t = item as Record<string, unknown>;
    const before = problems.length;
    if (typeof t.pspTransactionId !== 'string' || t.pspTransactionId.length === 0 || t.pspTransactionId.length > 36) {
      problems.push(problem(i, 'pspTransactionId', 'is required (1-36 characters)'));
    }
    if (typeof t.status !== 'string' || !STATUSES.has(t.status)) problems.push(problem(i, 'status', 'must be RESERVED, CAPTURED, CANCELLED or REFUNDED'));
    const amount = parseAmount(t.amount);
    if (amount === undefined || amount < INT32_MIN || amount > INT32_MAX) problems.push(problem(i, 'amount', 'must be a 32-bit integer, as a number or a string of digits'));
    if (t.currency !== undefined && t.currency !== null && (typeof t.currency !== 'string' || t.currency.length > 3)) problems.push(problem(i, 'currency', 'must be an ISO 4217 code'));
    if (t.paymentText !== undefined && t.paymentText !== null && (typeof t.paymentText !== 'string' || t.paymentText.length > 1000)) {
      problems.push(problem(i, 'paymentText', 'must be a string of at most 1000 characters'));
    }
    if (t.operationStatus !== undefined && t.operationStatus !== null && t.operationStatus !== 'SUCCESS' && t.operationStatus !== 'FAILED') {
      problems.push(problem(i, 'operationStatus', 'must be SUCCESS or FAILED'));
    }
    if (problems.length > before) return;
    updates.push({
      pspTransactionId: t.pspTransactionId as string,
      status: t.status as ParsedUpdate['status'],
      amount: amount as number,
      currency: (t.currency as string | undefined) ?? 'NOK',
      paymentText: (t.paymentText as string | undefined) ?? null,
      operationStatus: (t.operationStatus as ParsedUpdate['operationStatus'] | undefined) ?? 'SUCCESS',
    });
  });
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, updates };
}
