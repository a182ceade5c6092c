// Tells a database that cannot be reached (down, restarting, refusing connections, a connection that
// broke) from every other failure. Such an error is not a bug: a request answers 503 and may be
// retried, a background job waits and tries again, and the process carries on.

/** Socket and DNS errors of a connection to the database server. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN',
  'ENETUNREACH', 'ENETDOWN', 'ENETRESET', 'ENOTCONN', 'ENOTFOUND', 'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that is going away or not letting us in: class 08 (connection exception) is
 * matched by prefix; 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting
 * up, in recovery), 57P05 idle session timeout, 53300 too many connections.
 */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '57P05', '53300']);

/** The messages pg and pg-pool give a lost or impossible connection (they carry no code). */
const MESSAGES = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'timeout expired',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
]);

function connectionFailure(err: unknown): Error | undefined {
  const seen = new Set<unknown>();
  const pending: unknown[] = [err];
  while (pending.length > 0 && seen.size < 20) {
    const e = pending.shift();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const { code, message, cause, errors } = e as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return e as Error;
    if (typeof message === 'string' && MESSAGES.has(message)) return e as Error;
    // Drizzle wraps the driver's error in `cause`; a connect to several addresses fails with an AggregateError.
    pending.push(cause);
    if (Array.isArray(errors)) pending.push(...errors);
  }
  return undefined;
}

/** Whether `err` (or what it wraps) means that the database cannot be reached right now. */
export function isDatabaseUnavailable(err: unknown): boolean {
  return connectionFailure(err) !== undefined;
}

/** The connection failure inside `err`, as log fields: the code and the driver's message, no query, no stack. */
export function databaseFailure(err: unknown): { code?: string; reason: string } {
  const found = connectionFailure(err) ?? (err as Error | undefined);
  const code = (found as { code?: unknown } | undefined)?.code;
  return { code: typeof code === 'string' ? code : undefined, reason: found instanceof Error ? found.message : String(found) };
}

/** A unique index refused a row (SQLSTATE 23505), wherever the driver or Drizzle put the code. */
export function isUniqueViolation(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === '23505') return true;
  }
  return false;
}

/**
 * PostgreSQL ended the statement to break a deadlock (SQLSTATE 40P01), or a serializable transaction
 * could not be ordered (40001): nothing of it was written, and the same statement may run again.
 */
export function isRetryableConflict(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code === '40P01' || e.code === '40001') return true;
  }
  return false;
}
