// The only source of "now". Tests may pass their own clock.

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
