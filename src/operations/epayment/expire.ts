// The ePayment side of the expiry sweep: CREATED payments past their deadline (10 minutes after
// create, or expiresAt) become EXPIRED with their EXPIRED event, on the shared clock, so that time
// travel expires them too. A payment with a card callback in flight waits for its answer (or its lease).
import { expireDueEpayments } from '../../store/epayments.ts';
import type { PaymentDeps } from '../payment-deps.ts';

const BATCH = 500;
const MAX_ROUNDS = 40;

export async function expireEpayments(deps: PaymentDeps): Promise<number> {
  const now = deps.clock.now();
  let expired = 0;
  for (let round = 0; round < MAX_ROUNDS && !deps.shutdown.aborted; round++) {
    const n = await expireDueEpayments(deps.database.db, now, BATCH);
    expired += n;
    if (n < BATCH) break;
  }
  if (expired > 0) deps.webhooks?.wake();
  return expired;
}
