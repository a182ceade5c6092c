// Limits on failed authentication attempts, per client address and per key (the name the
// credentials claim: a client_id, a phone number, the operator), counted in @fastify/rate-limit's
// in-memory store, so per process. Only failures count. The two limits do different jobs:
//
//   - An address over its limit is answered 429 with Retry-After before any credential is checked:
//     a flood from one address costs at most that many secret checks (scrypt) per window.
//   - A key over its limit is never refused outright, since anyone who knows a client_id could then
//     lock its owner out. Its attempts are still checked, but through a narrow gate (a few checks at a
//     time per limit, a bounded queue), and a wrong one is answered 429: a guesser is slowed and its
//     work bounded, while the holder of the right secret is verified and answered.
//
// A failure counts against a key only when it could have been a guess of that key's credential (the
// check says so; for a token request, only when the subscription key was the PSP's own); every
// failure counts against the address. Attempts still being checked count as well (each distinct
// credential once), so a burst of concurrent wrong secrets cannot slip past a limit before the first
// of them has failed.
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, errors } from '../../domain/errors.ts';

/** What a failed check counts against: the key and the address, or the address alone. */
export type FailureKind = 'key' | 'address';

export interface AuthFailureLimitSettings {
  /** Failures allowed per key in one window; 0 turns the limit per key off. */
  perKey: number;
  /** Failures allowed per client address (IPv6: per /64) in one window; 0 turns it off. */
  perAddress: number;
  windowSeconds: number;
  /** The key an attempt is counted under (a client_id, a user name); undefined: the address only. */
  keyOf(request: FastifyRequest): string | undefined;
  /** What the attempt tries (a secret): identical attempts in flight at once count once. */
  credentialOf?(request: FastifyRequest): string | undefined;
  /**
   * Whether an error thrown by the check is a failed attempt, and against what. Default: an ApiError
   * with status 401 counts against the key and the address.
   */
  failureOf?(error: unknown): FailureKind | undefined;
}

export interface AuthFailureLimit {
  /**
   * Runs `check` (which verifies the request's credentials and throws when they are wrong). Over the
   * address's limit it throws a 429 ApiError (with Retry-After set) without running `check`; over the
   * key's limit `check` waits for the gate, and a failure of it becomes that 429. A failure is counted
   * and rethrown.
   */
  attempt<T>(request: FastifyRequest, reply: FastifyReply, check: () => Promise<T>): Promise<T>;
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

interface Counter {
  limiter: Limiter;
  /** The counter's key of a request; undefined when the request is not counted here. */
  keyOf(request: FastifyRequest): string | undefined;
  /** key → credential → attempts in flight. */
  inFlight: Map<string, Map<string, number>>;
}

/** Checks of keys over their limit that run at once, per limit. */
export const OVER_LIMIT_CHECKS = 2;
/** Checks of keys over their limit that may wait for the gate, per limit; more are answered 429 at once. */
export const OVER_LIMIT_QUEUE = 256;

const defaultFailureOf = (error: unknown): FailureKind | undefined => (error instanceof ApiError && error.status === 401 ? 'key' : undefined);

/**
 * Registers @fastify/rate-limit in `scope` (on no route) and returns a failed-attempt limit. Call it
 * from the plugin that registers the routes it guards; each call keeps its own counts.
 */
export async function authFailureLimit(scope: FastifyInstance, settings: AuthFailureLimitSettings): Promise<AuthFailureLimit> {
  if (!scope.hasDecorator('createRateLimit')) await scope.register(rateLimit, { global: false });
  const timeWindow = settings.windowSeconds * 1000;
  const failureOf = settings.failureOf ?? defaultFailureOf;
  // Keys and credentials are held as HMACs with a key of this limit: fixed-length, never a
  // client-chosen string of any length, and nothing a secret could be guessed against offline.
  const hmacKey = createSecretKey(randomBytes(32));
  const digest = (value: string): string => createHmac('sha256', hmacKey).update(value).digest('base64url');
  const counter = (max: number, keyOf: (request: FastifyRequest) => string | undefined): Counter | undefined => {
    if (max <= 0) return undefined;
    const limiter = scope.createRateLimit({ max, timeWindow, keyGenerator: (request) => keyOf(request) ?? '' });
    return { limiter, keyOf, inFlight: new Map() };
  };
  const byAddress = counter(settings.perAddress, (request) => `address:${normalizeIP(request.ip, 64)}`);
  const byKey = counter(settings.perKey, (request) => {
    const key = settings.keyOf(request);
    return key === undefined || key === '' ? undefined : `key:${digest(key)}`;
  });
  const gate = new Gate(OVER_LIMIT_CHECKS, OVER_LIMIT_QUEUE);

  /** Seconds to wait when the counter is over its limit for this request (0: not over). */
  async function overLimit(c: Counter, key: string, request: FastifyRequest): Promise<number> {
    const status = await c.limiter(request, { increment: false });
    if (status.isAllowed) return 0;
    const failures = status.max - status.remaining;
    const inFlight = c.inFlight.get(key)?.size ?? 0;
    if (failures + inFlight <= status.max) return 0;
    return failures >= status.max ? Math.max(1, status.ttlInSeconds) : 1;
  }

  function refuse(reply: FastifyReply, retryAfter: number): ApiError {
    reply.header('retry-after', String(retryAfter));
    return errors.tooManyFailedAttempts(retryAfter);
  }

  return {
    async attempt<T>(request: FastifyRequest, reply: FastifyReply, check: () => Promise<T>): Promise<T> {
      const credential = digest(settings.credentialOf?.(request) ?? '');
      const counted: Array<{ c: Counter; key: string }> = [];
      const addressKey = byAddress?.keyOf(request);
      const keyKey = byKey?.keyOf(request);
      // In flight from here on, before the counts are read: two attempts arriving together see each other.
      if (byAddress && addressKey !== undefined) counted.push({ c: byAddress, key: addressKey });
      if (byKey && keyKey !== undefined) counted.push({ c: byKey, key: keyKey });
      for (const { c, key } of counted) begin(c.inFlight, key, credential);
      try {
        const addressWait = byAddress && addressKey !== undefined ? await overLimit(byAddress, addressKey, request) : 0;
        if (addressWait > 0) throw refuse(reply, addressWait);
        const keyWait = byKey && keyKey !== undefined ? await overLimit(byKey, keyKey, request) : 0;
        if (keyWait > 0 && !gate.hasRoom()) throw refuse(reply, 1);
        try {
          return keyWait > 0 ? await gate.run(check) : await check();
        } catch (error) {
          const kind = failureOf(error);
          if (kind === undefined) throw error;
          if (byAddress && addressKey !== undefined) await byAddress.limiter(request);
          if (kind === 'key' && byKey && keyKey !== undefined) await byKey.limiter(request);
          if (keyWait > 0) throw refuse(reply, keyWait);
          throw error;
        }
      } finally {
        for (const { c, key } of counted) end(c.inFlight, key, credential);
      }
    },
  };
}

/** At most `concurrency` tasks at a time, the rest waiting in order, at most `queue` of them. */
export class Gate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly concurrency: number;
  private readonly queue: number;

  constructor(concurrency: number, queue: number) {
    this.concurrency = concurrency;
    this.queue = queue;
  }

  hasRoom(): boolean {
    return this.running < this.concurrency || this.waiting.length < this.queue;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter, so a newcomer never overtakes the queue.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}

function begin(inFlight: Map<string, Map<string, number>>, key: string, credential: string): void {
  let pending = inFlight.get(key);
  if (!pending) inFlight.set(key, (pending = new Map()));
  pending.set(credential, (pending.get(credential) ?? 0) + 1);
}

function end(inFlight: Map<string, Map<string, number>>, key: string, credential: string): void {
  const pending = inFlight.get(key);
  if (!pending) return;
  const left = (pending.get(credential) ?? 1) - 1;
  if (left > 0) pending.set(credential, left);
  else pending.delete(credential);
  if (pending.size === 0) inFlight.delete(key);
}
