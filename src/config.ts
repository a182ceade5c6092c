// Every setting of the server, read from the environment and validated once at start.
// A bad value is reported with one clear line per variable; nothing starts with a bad config.
import { availableParallelism } from 'node:os';
import { CronExpressionParser } from 'cron-parser';

export type VippsEnv = 'test' | 'production';

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  /** Whether PUBLIC_URL was given; otherwise it follows the port actually bound. */
  publicUrlExplicit: boolean;
  databaseUrl: string | undefined;
  dataDir: string;
  vippsEnv: VippsEnv;
  adminToken: string | undefined;
  logLevel: string;
  /** `auto`: human-readable lines when stdout is a terminal, JSON lines otherwise. */
  logFormat: 'json' | 'pretty' | 'auto';
  accessTokenTtlSeconds: number;
  dbPoolSize: number;
  landingTimeoutSeconds: number;
  appTimeoutSeconds: number;
  makePaymentTimeoutMs: number;
  cardCallbackTimeoutMs: number;
  makePaymentConcurrencyPerPsp: number;
  makePaymentConcurrency: number;
  allowPrivateCallbacks: boolean;
  sweepIntervalMs: number;
  statusBatchCron: string;
  statusBatchTz: string;
  statusBatchMode: 'nightly' | 'immediate';
  statusBatchChunkSize: number;
  idempotencyRetentionHours: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  /** Server processes sharing the port (PostgreSQL only). */
  workers: number;
  authFailureLimitPerClient: number;
  authFailureLimitPerAddress: number;
  authFailureWindowSeconds: number;
  consoleIdleTimeoutSeconds: number;
  appLoginFailureLimitPerNumber: number;
  /** Whether /metrics is served and requests are counted. */
  metrics: boolean;
  metricsToken: string | undefined;
  /** OTLP/HTTP traces URL; undefined: spans are not exported. */
  otlpTracesUrl: string | undefined;
  otlpProtocol: 'http/protobuf' | 'http/json';
  otelServiceName: string;
  otelScheduleDelayMs: number;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The documented settings: name, default and meaning. The configuration guide's table (docs/configuration.md) and `--help` follow it. */
export const SETTINGS: ReadonlyArray<{ name: string; default: string; description: string }> = [
  { name: 'PORT', default: '8080', description: 'TCP port to listen on (0 picks a free one).' },
  { name: 'HOST', default: '0.0.0.0', description: 'Interface to bind.' },
  { name: 'PUBLIC_URL', default: 'http://localhost:$PORT', description: 'Base URL clients and users reach this server at; used in issued tokens and redirect URLs.' },
  { name: 'DATABASE_URL', default: '(unset)', description: 'PostgreSQL connection string. Unset: embedded PGlite under DATA_DIR.' },
  { name: 'DATA_DIR', default: './.vipps-psp', description: 'Where the embedded database lives when DATABASE_URL is unset.' },
  { name: 'VIPPS_ENV', default: 'test', description: '`test` (seeds demo data, enables test-only endpoints) or `production`.' },
  { name: 'ADMIN_TOKEN', default: '(generated in test)', description: 'Bearer token for /admin/*. In test, generated, stored and printed once when unset; in production the operator API is off without it.' },
  { name: 'LOG_LEVEL', default: 'info', description: 'fatal, error, warn, info, debug, trace or silent.' },
  { name: 'LOG_FORMAT', default: 'json (pretty on a terminal)', description: '`json` (one JSON object a line) or `pretty` (human-readable lines). Unset: pretty when stdout is a terminal, JSON otherwise.' },
  { name: 'ACCESS_TOKEN_TTL_SECONDS', default: '3600 (test) / 86400 (production)', description: 'Lifetime of access tokens from /accessToken/get.' },
  { name: 'WORKERS', default: '1', description: 'Server processes sharing the port (`auto`: one per core). More than one needs DATABASE_URL: the embedded database serves one process.' },
  { name: 'DB_POOL_SIZE', default: '20', description: 'Connections in the PostgreSQL pool (DATABASE_URL only).' },
  { name: 'LANDING_TIMEOUT_SECONDS', default: '300', description: 'Time the user has to get past the landing page or deeplink before the payment times out.' },
  { name: 'APP_TIMEOUT_SECONDS', default: '300', description: 'Time the user then has to approve or reject in the app.' },
  { name: 'MAKE_PAYMENT_TIMEOUT_MS', default: '15000', description: 'How long a makePayment call to the PSP may take before the payment is FAILED.' },
  { name: 'CARD_CALLBACK_TIMEOUT_MS', default: '20000', description: 'How long an ePayment card callback to the PSP may take; no answer within it fails the attempt (the user cannot retry).' },
  { name: 'MAKE_PAYMENT_CONCURRENCY_PER_PSP', default: '32', description: 'makePayment calls in flight at once to one PSP (per process); more wait their turn, so one PSP\'s slow endpoint never delays the others.' },
  { name: 'MAKE_PAYMENT_CONCURRENCY', default: '256', description: 'makePayment calls in flight at once in all (per process).' },
  { name: 'ALLOW_PRIVATE_CALLBACKS', default: 'true (test) / false (production)', description: 'Allow http and loopback/private makePaymentUrl hosts. When false, only public https callbacks are accepted and called.' },
  { name: 'STATUS_BATCH_CRON', default: '0 2 * * *', description: 'When the nightly status batch runs (cron: minute hour day month weekday; a sixth, leading field gives seconds).' },
  { name: 'STATUS_BATCH_TZ', default: 'Europe/Oslo', description: 'Time zone of STATUS_BATCH_CRON.' },
  { name: 'STATUS_BATCH_MODE', default: 'nightly', description: '`nightly` (apply status updates on the schedule or on demand) or `immediate` (apply each request right after it is stored).' },
  { name: 'STATUS_BATCH_CHUNK_SIZE', default: '20000', description: 'Status updates applied per transaction by the batch.' },
  { name: 'IDEMPOTENCY_RETENTION_HOURS', default: '24', description: 'How long an Idempotency-Key (or Request-Id) is remembered: a retry within it gets the first answer; after it the key counts as new and is deleted.' },
  { name: 'SWEEP_INTERVAL_MS', default: '1000', description: 'How often each process looks for expired payments and abandoned deliveries.' },
  { name: 'HEADERS_TIMEOUT_MS', default: '10000', description: 'Time a client has to send a request\'s headers (from connecting, or from the start of its next request on a kept-alive connection); then it is answered 408 and disconnected. Never more than REQUEST_TIMEOUT_MS (the default when that is lower).' },
  { name: 'REQUEST_TIMEOUT_MS', default: '30000', description: 'Time a client has to send a whole request, body included; then it is answered 408 and disconnected. A 32 MiB updatestatus body needs about 9 Mbit/s to arrive in 30 s: raise it for slower links.' },
  { name: 'KEEP_ALIVE_TIMEOUT_MS', default: '72000', description: 'A kept-alive connection idle this long is closed. Keep it above the idle timeout of a load balancer in front (often 60 s).' },
  { name: 'MAX_CONNECTIONS', default: '512', description: 'Open client connections (idle kept-alive ones included) at once; more are closed as soon as they are accepted. Keep it well below the file descriptor limit (`ulimit -n`) less DB_POOL_SIZE and MAKE_PAYMENT_CONCURRENCY.' },
  { name: 'AUTH_FAILURE_LIMIT_PER_CLIENT', default: '10', description: 'Failed /accessToken/get attempts allowed per client_id in AUTH_FAILURE_WINDOW_SECONDS (per process), counted only when the subscription key was that PSP\'s own. Over it the client_id is not locked out: its secrets are still checked, two at a time, and a wrong one is answered 429 with Retry-After. 0 turns the limit off.' },
  { name: 'AUTH_FAILURE_LIMIT_PER_ADDRESS', default: '30', description: 'Failed /accessToken/get attempts allowed per client address (IPv6: per /64) in AUTH_FAILURE_WINDOW_SECONDS (per process), whatever the client_id; more are answered 429 with Retry-After without checking the secret (credentials verified before, for as long as their token lives, still pass). 0 turns the limit off.' },
  { name: 'AUTH_FAILURE_WINDOW_SECONDS', default: '60', description: 'The window of the failed-attempt limits; it starts at the first failure, and Retry-After says when it ends.' },
  { name: 'APP_LOGIN_FAILURE_LIMIT_PER_NUMBER', default: '5', description: 'Failed app simulator logins allowed per phone number in AUTH_FAILURE_WINDOW_SECONDS (per process). Over it the number is not locked out: its PINs are still checked, two at a time, and a wrong one is answered 429 with Retry-After. Per client address the logins have AUTH_FAILURE_LIMIT_PER_ADDRESS, counted apart from /accessToken/get. 0 turns the limit off.' },
  { name: 'METRICS', default: 'true', description: 'Serve Prometheus metrics at GET /metrics (and count requests and calls for them). `false` turns both off.' },
  { name: 'METRICS_TOKEN', default: '(unset)', description: 'Bearer token that may read /metrics (at least 16 characters); the operator token (ADMIN_TOKEN) may always read it.' },
  { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', default: '(unset)', description: 'OpenTelemetry collector base URL (OTLP over HTTP): spans go to $OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces. Unset: traceparent is still read and sent, but no span is recorded.' },
  { name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', default: '(unset)', description: 'The full traces URL, instead of the one made from OTEL_EXPORTER_OTLP_ENDPOINT.' },
  { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', default: 'http/protobuf', description: '`http/protobuf` or `http/json` (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL overrides it). gRPC is not supported.' },
  { name: 'OTEL_SERVICE_NAME', default: 'vipps-psp', description: 'The service.name of the exported spans.' },
  { name: 'OTEL_BSP_SCHEDULE_DELAY', default: '5000', description: 'Milliseconds spans wait in their batch before they are exported.' },
  { name: 'CONSOLE_IDLE_TIMEOUT_SECONDS', default: '1800', description: 'A console session unused this long ends (every session also ends 12 hours after sign-in, at sign-out, and when ADMIN_TOKEN changes). Real time: moving the test clock does not end sessions.' },
];

type Env = Record<string, string | undefined>;

function intSetting(env: Env, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) {
    problems.push(`${name} must be a whole number between ${min} and ${max}, got "${raw}"`);
    return fallback;
  }
  const value = Number(raw.trim());
  if (value < min || value > max) {
    problems.push(`${name} must be between ${min} and ${max}, got ${value}`);
    return fallback;
  }
  return value;
}

function boolSetting(env: Env, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  problems.push(`${name} must be true or false, got "${env[name]}"`);
  return fallback;
}

function nonEmpty(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];

  const rawEnv = nonEmpty(env, 'VIPPS_ENV') ?? 'test';
  let vippsEnv: VippsEnv = 'test';
  if (rawEnv === 'test' || rawEnv === 'production') vippsEnv = rawEnv;
  else problems.push(`VIPPS_ENV must be "test" or "production", got "${rawEnv}"`);

  const port = intSetting(env, 'PORT', 8080, 0, 65535, problems);
  const host = nonEmpty(env, 'HOST') ?? '0.0.0.0';

  const publicUrlExplicit = nonEmpty(env, 'PUBLIC_URL') !== undefined;
  let publicUrl = nonEmpty(env, 'PUBLIC_URL') ?? `http://localhost:${port}`;
  try {
    const u = new URL(publicUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    publicUrl = publicUrl.replace(/\/+$/, '');
  } catch {
    problems.push(`PUBLIC_URL must be an absolute http(s) URL, got "${publicUrl}"`);
  }

  const databaseUrl = nonEmpty(env, 'DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must start with postgres:// or postgresql://');
  }

  const dataDir = nonEmpty(env, 'DATA_DIR') ?? './.vipps-psp';

  const adminToken = nonEmpty(env, 'ADMIN_TOKEN');
  if (adminToken !== undefined && adminToken.length < 16) {
    problems.push('ADMIN_TOKEN must be at least 16 characters long');
  }

  const logLevel = nonEmpty(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }

  const rawFormat = nonEmpty(env, 'LOG_FORMAT')?.toLowerCase();
  if (rawFormat !== undefined && rawFormat !== 'json' && rawFormat !== 'pretty') {
    problems.push(`LOG_FORMAT must be "json" or "pretty", got "${env.LOG_FORMAT?.trim()}"`);
  }
  const logFormat = rawFormat === 'json' || rawFormat === 'pretty' ? rawFormat : 'auto';

  const accessTokenTtlSeconds = intSetting(
    env, 'ACCESS_TOKEN_TTL_SECONDS', vippsEnv === 'production' ? 86400 : 3600, 60, 31 * 86400, problems,
  );
  const dbPoolSize = intSetting(env, 'DB_POOL_SIZE', 20, 1, 500, problems);

  const landingTimeoutSeconds = intSetting(env, 'LANDING_TIMEOUT_SECONDS', 300, 1, 86400, problems);
  const appTimeoutSeconds = intSetting(env, 'APP_TIMEOUT_SECONDS', 300, 1, 86400, problems);
  const makePaymentTimeoutMs = intSetting(env, 'MAKE_PAYMENT_TIMEOUT_MS', 15000, 100, 120000, problems);
  const cardCallbackTimeoutMs = intSetting(env, 'CARD_CALLBACK_TIMEOUT_MS', 20000, 100, 120000, problems);
  const makePaymentConcurrencyPerPsp = intSetting(env, 'MAKE_PAYMENT_CONCURRENCY_PER_PSP', 32, 1, 10000, problems);
  const makePaymentConcurrency = intSetting(env, 'MAKE_PAYMENT_CONCURRENCY', 256, 1, 10000, problems);
  const allowPrivateCallbacks = boolSetting(env, 'ALLOW_PRIVATE_CALLBACKS', vippsEnv === 'test', problems);
  const sweepIntervalMs = intSetting(env, 'SWEEP_INTERVAL_MS', 1000, 50, 600000, problems);

  const statusBatchTz = nonEmpty(env, 'STATUS_BATCH_TZ') ?? 'Europe/Oslo';
  try {
    new Intl.DateTimeFormat('en', { timeZone: statusBatchTz });
  } catch {
    problems.push(`STATUS_BATCH_TZ must be an IANA time zone such as Europe/Oslo, got "${statusBatchTz}"`);
  }
  const statusBatchCron = nonEmpty(env, 'STATUS_BATCH_CRON') ?? '0 2 * * *';
  try {
    CronExpressionParser.parse(statusBatchCron, { tz: 'UTC', strict: false });
    const fields = statusBatchCron.split(/\s+/).length;
    if (fields !== 5 && fields !== 6) throw new Error('fields');
  } catch {
    problems.push(`STATUS_BATCH_CRON must be a cron expression such as "0 2 * * *" (five fields, or six with seconds first), got "${statusBatchCron}"`);
  }
  const rawMode = nonEmpty(env, 'STATUS_BATCH_MODE') ?? 'nightly';
  if (rawMode !== 'nightly' && rawMode !== 'immediate') problems.push(`STATUS_BATCH_MODE must be "nightly" or "immediate", got "${rawMode}"`);
  const statusBatchMode = rawMode === 'immediate' ? 'immediate' : 'nightly';
  const statusBatchChunkSize = intSetting(env, 'STATUS_BATCH_CHUNK_SIZE', 20000, 1, 100000, problems);
  const idempotencyRetentionHours = intSetting(env, 'IDEMPOTENCY_RETENTION_HOURS', 24, 1, 8760, problems);
  const requestTimeoutMs = intSetting(env, 'REQUEST_TIMEOUT_MS', 30000, 100, 3_600_000, problems);
  const headersTimeoutMs = intSetting(env, 'HEADERS_TIMEOUT_MS', Math.min(10000, requestTimeoutMs), 100, 3_600_000, problems);
  if (headersTimeoutMs > requestTimeoutMs) problems.push(`HEADERS_TIMEOUT_MS must be at most REQUEST_TIMEOUT_MS (${requestTimeoutMs}), got ${headersTimeoutMs}`);
  const keepAliveTimeoutMs = intSetting(env, 'KEEP_ALIVE_TIMEOUT_MS', 72000, 100, 3_600_000, problems);
  const maxConnections = intSetting(env, 'MAX_CONNECTIONS', 512, 1, 1_000_000, problems);
  const workers = nonEmpty(env, 'WORKERS')?.toLowerCase() === 'auto' ? availableParallelism() : intSetting(env, 'WORKERS', 1, 1, 256, problems);
  if (workers > 1 && databaseUrl === undefined) {
    problems.push(`WORKERS=${env.WORKERS?.trim()} needs DATABASE_URL: the embedded database serves one process (set WORKERS=1, or use PostgreSQL)`);
  }
  const authFailureLimitPerClient = intSetting(env, 'AUTH_FAILURE_LIMIT_PER_CLIENT', 10, 0, 1_000_000, problems);
  const authFailureLimitPerAddress = intSetting(env, 'AUTH_FAILURE_LIMIT_PER_ADDRESS', 30, 0, 1_000_000, problems);
  const authFailureWindowSeconds = intSetting(env, 'AUTH_FAILURE_WINDOW_SECONDS', 60, 1, 86400, problems);
  const appLoginFailureLimitPerNumber = intSetting(env, 'APP_LOGIN_FAILURE_LIMIT_PER_NUMBER', 5, 0, 1_000_000, problems);
  const consoleIdleTimeoutSeconds = intSetting(env, 'CONSOLE_IDLE_TIMEOUT_SECONDS', 1800, 1, 12 * 3600, problems);

  const metrics = boolSetting(env, 'METRICS', true, problems);
  const metricsToken = nonEmpty(env, 'METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 16) problems.push('METRICS_TOKEN must be at least 16 characters long');
  let otlpTracesUrl = nonEmpty(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
    ?? (nonEmpty(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') === undefined ? undefined : `${nonEmpty(env, 'OTEL_EXPORTER_OTLP_ENDPOINT')!.replace(/\/+$/, '')}/v1/traces`);
  if (otlpTracesUrl !== undefined) {
    try {
      const u = new URL(otlpTracesUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      problems.push(`OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) must be an absolute http(s) URL, got "${otlpTracesUrl}"`);
      otlpTracesUrl = undefined;
    }
  }
  const rawProtocol = nonEmpty(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? nonEmpty(env, 'OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf';
  if (rawProtocol !== 'http/protobuf' && rawProtocol !== 'http/json') problems.push(`OTEL_EXPORTER_OTLP_PROTOCOL must be "http/protobuf" or "http/json" (gRPC is not supported), got "${rawProtocol}"`);
  const otlpProtocol = rawProtocol === 'http/json' ? 'http/json' : 'http/protobuf';
  const otelServiceName = nonEmpty(env, 'OTEL_SERVICE_NAME') ?? 'vipps-psp';
  const otelScheduleDelayMs = intSetting(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, 1, 600_000, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    metrics, metricsToken, otlpTracesUrl, otlpProtocol, otelServiceName, otelScheduleDelayMs,
    statusBatchCron, statusBatchTz, statusBatchMode, statusBatchChunkSize, idempotencyRetentionHours,
    headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections, workers,
    authFailureLimitPerClient, authFailureLimitPerAddress, authFailureWindowSeconds, appLoginFailureLimitPerNumber, consoleIdleTimeoutSeconds,
    port, host, publicUrl, publicUrlExplicit, databaseUrl, dataDir, vippsEnv, adminToken, logLevel, logFormat, accessTokenTtlSeconds, dbPoolSize,
    landingTimeoutSeconds, appTimeoutSeconds, makePaymentTimeoutMs, cardCallbackTimeoutMs, makePaymentConcurrencyPerPsp, makePaymentConcurrency, allowPrivateCallbacks, sweepIntervalMs,
  };
}
