// The only source of "now". Tests may pass their own clock.
//
// In the test environment the server's clock can be moved forward ("time travel", see
// operations/controls.ts): every process adds one offset, stored in the database, to its own time.
// Everything that reads the business time (deadlines, expiry, token lifetimes, the batch schedule,
// the timestamps of logs and details) reads it from here; SQL that compares with such times is
// given this time as a parameter, never the database's own now().

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock running `offsetMs` ahead of its base clock. The offset is this process's cached copy. */
export class ShiftedClock implements Clock {
  private readonly base: Clock;
  private offset = 0;

  constructor(base: Clock = systemClock) {
    this.base = base;
  }

  now(): Date {
    return this.offset === 0 ? this.base.now() : new Date(this.base.now().getTime() + this.offset);
  }

  /** The time of the base clock, without the offset. */
  baseNow(): Date {
    return this.base.now();
  }

  get offsetMs(): number {
    return this.offset;
  }

  setOffset(ms: number): void {
    this.offset = ms;
  }
}
