// One sweep: payments past their deadline become TIMEOUT (and the PSP is told), deliveries whose
// lease ran out (their process died) become FAILED. Rows are claimed with FOR UPDATE SKIP LOCKED,
// so several processes sweep one database without ever expiring a payment twice.
import { appendLog, expireDue, failAbandonedDeliveries } from '../store/payments.ts';
import { notifyEnd } from './deliver.ts';
import type { PaymentDeps } from './payment-deps.ts';

const BATCH = 200;

export async function sweepOnce(deps: PaymentDeps): Promise<{ expired: number; abandoned: number }> {
  const now = deps.clock.now();
  const abandoned = await deps.database.db.transaction(async (tx) => {
    const rows = await failAbandonedDeliveries(tx, now, BATCH);
    await appendLog(tx, rows.map((r) => ({
      paymentId: r.paymentId, operation: 'RESERVED', amount: r.amount, paymentText: r.paymentText, success: false, createdAt: now,
    })));
    return rows;
  });
  for (const r of abandoned) deps.log.warn({ pspTransactionId: r.pspTransactionId, pspId: r.pspId }, 'makePayment had no recorded answer; payment FAILED');

  const expired = await deps.database.db.transaction((tx) => expireDue(tx, now, BATCH));
  await Promise.all(expired.map((p) => notifyEnd(deps, p, 'TIMEOUT').catch((err: unknown) => {
    deps.log.error({ err, pspTransactionId: p.pspTransactionId }, 'TIMEOUT notification failed');
  })));
  return { expired: expired.length, abandoned: abandoned.length };
}
