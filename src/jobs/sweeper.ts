// Runs the expiry sweep every SWEEP_INTERVAL_MS in each process. Safe with several processes on one
// database (the sweep claims rows with SKIP LOCKED).
import { sweepOnce } from '../operations/psp-v3/expire.ts';
import { expireEpayments } from '../operations/epayment/expire.ts';
import { sweepRecurring } from '../operations/recurring/agreements.ts';
import type { PaymentDeps } from '../operations/payment-deps.ts';
import { JobLoop } from './loop.ts';

export function sweeper(deps: PaymentDeps): JobLoop {
  const interval = deps.config.sweepIntervalMs;
  const loop = new JobLoop(async () => {
    await sweepOnce(deps);
    await expireEpayments(deps);
    await sweepRecurring(deps);
    return interval;
  }, (err) => deps.log.error({ err }, 'expiry sweep failed'), interval);
  loop.start(Math.min(interval, 200));
  return loop;
}
