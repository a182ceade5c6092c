// A background job that runs a step, waits the delay the step returns, and runs it again, until
// stopped. stop() waits for a step in progress. A failing step is logged and the loop goes on.
export class JobLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  private readonly step: () => Promise<number>;
  private readonly onError: (err: unknown) => void;
  private readonly retryMs: number;

  constructor(step: () => Promise<number>, onError: (err: unknown) => void, retryMs: number) {
    this.step = step;
    this.onError = onError;
    this.retryMs = retryMs;
  }

  start(firstDelayMs: number): void {
    this.schedule(firstDelayMs);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      let next = this.retryMs;
      this.running = this.step()
        .then((ms) => { next = ms; }, this.onError)
        .finally(() => {
          this.running = undefined;
          this.schedule(next);
        });
    }, Math.max(0, delayMs));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
