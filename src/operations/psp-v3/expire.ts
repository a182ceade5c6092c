// One sweep: attempts and deliveries whose process died are closed (ABANDONED, the payment FAILED),
// payments past their deadline become TIMEOUT with their notification recorded as pending, and the
// notifier is kicked to send what is pending. Rows are claimed with FOR UPDATE SKIP LOCKED, so
// several processes sweep one database without ever expiring a payment twice. The sweep never waits
// for a PSP's answer: one PSP's dead endpoint cannot hold up another's expiries.
import { abandonAttempts } from '../../store/attempts.ts';
import { appendLog, expireDue, failAbandonedDeliveries } from '../../store/payments.ts';
import type { PaymentDeps } from '../payment-deps.ts';

const BATCH = 500;
/** At most this many expiry statements per sweep, so a huge backlog never starves the rest. */
const MAX_ROUNDS = 40;

export async function sweepOnce(deps: PaymentDeps): Promise<{ expired: number; abandoned: number }> {
  const now = deps.clock.now();
  const { deliveries, attempts } = await deps.database.db.transaction(async (tx) => {
    const failed = await failAbandonedDeliveries(tx, now, BATCH);
    await appendLog(tx, failed.map((r) => ({
      paymentId: r.paymentId, operation: 'RESERVED', amount: r.amount, paymentText: r.paymentText, success: false, createdAt: now,
    })), deps.database.detailsCache);
    return { deliveries: failed, attempts: await abandonAttempts(tx, now, BATCH) };
  });
  for (const r of deliveries) deps.log.warn({ pspTransactionId: r.pspTransactionId, pspId: r.pspId }, 'makePayment had no recorded answer; payment FAILED');
  for (const a of attempts) deps.log.warn({ attemptId: a.attemptId, paymentId: a.paymentId, paymentState: a.paymentState }, 'makePayment attempt abandoned: no answer was recorded');

  let expired = 0;
  for (let round = 0; round < MAX_ROUNDS && !deps.shutdown.aborted; round++) {
    const rows = await expireDue(deps.database, now, BATCH);
    expired += rows.length;
    if (rows.length > 0) deps.notifier.kick();
    if (rows.length < BATCH) break;
  }
  deps.notifier.kick();
  return { expired, abandoned: deliveries.length };
}
