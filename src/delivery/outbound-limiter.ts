// Bounds the makePayment calls in flight: per PSP and in all. One PSP whose endpoint hangs holds at
// most its own share, so every other PSP's calls go out at once.

export class OutboundLimiter {
  readonly perPsp: number;
  readonly total: number;
  private readonly active = new Map<string, number>();
  private activeTotal = 0;
  private readonly waiters: Array<{ pspId: string; resolve: () => void; reject: (err: Error) => void }> = [];
  private closedWith: Error | undefined;
  private readonly listeners: Array<() => void> = [];

  constructor(perPsp: number, total: number) {
    this.perPsp = perPsp;
    this.total = total;
  }

  /** Free slots for one PSP right now. */
  available(pspId: string): number {
    return Math.max(0, Math.min(this.perPsp - (this.active.get(pspId) ?? 0), this.total - this.activeTotal));
  }

  /** Free slots in all right now. */
  availableTotal(): number {
    return Math.max(0, this.total - this.activeTotal);
  }

  /** The PSPs that have calls in flight, with their free slots (every other PSP has `perPsp`). */
  busy(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const pspId of this.active.keys()) out[pspId] = this.available(pspId);
    return out;
  }

  /** Waits for a slot of this PSP (first come, first served among its waiters). Rejects once closed. */
  acquire(pspId: string): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.available(pspId) > 0 && !this.waiters.some((w) => w.pspId === pspId)) {
      this.take(pspId);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.waiters.push({ pspId, resolve, reject }));
  }

  /** On shutdown: calls still waiting for a slot fail with `reason` (they have not started). */
  close(reason: Error): void {
    this.closedWith = reason;
    for (const w of this.waiters.splice(0)) w.reject(reason);
  }

  /** Takes a slot without waiting: for work already claimed against `available()`. */
  take(pspId: string): void {
    this.active.set(pspId, (this.active.get(pspId) ?? 0) + 1);
    this.activeTotal += 1;
  }

  release(pspId: string): void {
    const n = (this.active.get(pspId) ?? 1) - 1;
    if (n <= 0) this.active.delete(pspId);
    else this.active.set(pspId, n);
    this.activeTotal = Math.max(0, this.activeTotal - 1);
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i];
      if (this.available(w.pspId) === 0) continue;
      this.waiters.splice(i, 1);
      this.take(w.pspId);
      w.resolve();
      i -= 1;
    }
    for (const listener of this.listeners) listener();
  }

  /** Called after every release (the notifier sends what was waiting for a slot). */
  onRelease(listener: () => void): void {
    this.listeners.push(listener);
  }
}
