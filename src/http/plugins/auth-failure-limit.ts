// Limits on failed authentication attempts: per key (the name the credentials claim, such as a
// client_id) and per client address, counted in @fastify/rate-limit's in-memory store, so per
// process. Only failures count. An attempt over a limit is answered 429 with Retry-After before any
// credential is checked: once over the limit, a flood of wrong secrets costs no password hashing.
//
// The plugin's limiter counts every request it sees; failures only are counted here by peeking at
// the count before the check (`{ increment: false }`) and adding one after a failed check. Attempts
// still being checked count as well (each distinct credential once), so a burst of concurrent wrong
// secrets cannot slip past the limit before the first of them has failed.
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, errors } from '../../domain/errors.ts';

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
  /** Whether an error thrown by the check is a failed attempt. Default: an ApiError with status 401. */
  isFailure?(error: unknown): boolean;
}

export interface AuthFailureLimit {
  /**
   * Runs `check` (which verifies the request's credentials and throws when they are wrong) unless
   * the request's key or address is over its limit, in which case it throws a 429 ApiError and sets
   * Retry-After. A failure of `check` is counted and rethrown.
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

const defaultIsFailure = (error: unknown): boolean => error instanceof ApiError && error.status === 401;

/**
 * Registers @fastify/rate-limit in `scope` (on no route) and returns a failed-attempt limit. Call it
 * from the plugin that registers the routes it guards; each call keeps its own counts.
 */
export async function authFailureLimit(scope: FastifyInstance, settings: AuthFailureLimitSettings): Promise<AuthFailureLimit> {
  if (!scope.hasDecorator('createRateLimit')) await scope.register(rateLimit, { global: false });
  const timeWindow = settings.windowSeconds * 1000;
  const isFailure = settings.isFailure ?? defaultIsFailure;
  const counters: Counter[] = [];
  // Keys and credentials are held as HMACs with a key of this limit: fixed-length, never a
  // client-chosen string of any length, and nothing a secret could be guessed against offline.
  const hmacKey = createSecretKey(randomBytes(32));
  const digest = (value: string): string => createHmac('sha256', hmacKey).update(value).digest('base64url');
  const counter = (max: number, keyOf: (request: FastifyRequest) => string | undefined): void => {
    if (max <= 0) return;
    const limiter = scope.createRateLimit({ max, timeWindow, keyGenerator: (request) => keyOf(request) ?? '' });
    counters.push({ limiter, keyOf, inFlight: new Map() });
  };
  counter(settings.perAddress, (request) => `address:${normalizeIP(request.ip, 64)}`);
  counter(settings.perKey, (request) => {
    const key = settings.keyOf(request);
    return key === undefined || key === '' ? undefined : `key:${digest(key)}`;
  });

  return {
    async attempt<T>(request: FastifyRequest, reply: FastifyReply, check: () => Promise<T>): Promise<T> {
      const credential = digest(settings.credentialOf?.(request) ?? '');
      const counted: Array<{ c: Counter; key: string }> = [];
      for (const c of counters) {
        const key = c.keyOf(request);
        if (key === undefined) continue;
        // In flight from here on, before the counts are read: two attempts arriving together see each other.
        begin(c.inFlight, key, credential);
        counted.push({ c, key });
      }
      try {
        let retryAfter = 0;
        for (const { c, key } of counted) {
          const status = await c.limiter(request, { increment: false });
          if (status.isAllowed) continue;
          const failures = status.max - status.remaining;
          const inFlight = c.inFlight.get(key)?.size ?? 0;
          if (failures + inFlight > status.max) {
            retryAfter = Math.max(retryAfter, failures >= status.max ? Math.max(1, status.ttlInSeconds) : 1);
          }
        }
        if (retryAfter > 0) {
          reply.header('retry-after', String(retryAfter));
          throw errors.tooManyFailedAttempts(retryAfter);
        }
        try {
          return await check();
        } catch (error) {
          if (isFailure(error)) {
            for (const { c } of counted) await c.limiter(request);
          }
          throw error;
        }
      } finally {
        for (const { c, key } of counted) end(c.inFlight, key, credential);
      }
    },
  };
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
