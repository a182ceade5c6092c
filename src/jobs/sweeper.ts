// Runs the expiry sweep every SWEEP_INTERVAL_MS in each process. Safe with several processes on one
// database (the sweep claims rows with SKIP LOCKED); stop() waits for a sweep in progress.
import { sweepOnce } from '../operations/expire.ts';
import type { PaymentDeps } from '../operations/payment-deps.ts';

export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  private readonly deps: PaymentDeps;

  constructor(deps: PaymentDeps) {
    this.deps = deps;
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = sweepOnce(this.deps)
        .catch((err: unknown) => this.deps.log.error({ err }, 'expiry sweep failed'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, this.deps.config.sweepIntervalMs);
        });
    };
    this.timer = setTimeout(tick, Math.min(this.deps.config.sweepIntervalMs, 200));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
