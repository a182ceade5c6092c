// The Fastify application: parsers, logging, error shapes and every route family.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import type { Config } from '../config.ts';
import type { Database } from '../store/db.ts';
import type { TokenService } from '../security/tokens.ts';
import type { Credentials } from '../operations/credentials.ts';
import type { Merchants } from '../operations/merchants.ts';
import type { Users } from '../operations/users.ts';
import type { AdminToken } from '../operations/admin-token.ts';
import { registerErrorHandling } from './plugins/errors.ts';
import { jsonLimitExceeded, registerInputChecks } from './plugins/input.ts';
import { connectionOptions, registerConnectionLimits } from './plugins/connections.ts';
import { registerProtocolRules } from './plugins/protocol.ts';
import { trackHandlers } from './plugins/in-flight.ts';
import { registerAccessTokenRoutes } from './api/access-token.ts';
import { registerSignupRoutes } from './api/psp-v3/signup.ts';
import { registerAdminRoutes } from './admin/routes.ts';
import { registerPaymentRoutes } from './api/psp-v3/payments.ts';
import { registerEpaymentRoutes } from './api/epayment/payments.ts';
import { registerWebhookRoutes } from './api/webhooks/routes.ts';
import { registerRecurringRoutes } from './api/recurring/routes.ts';
import { registerAdminPaymentRoutes } from './admin/payments.ts';
import { registerAdminEpaymentRoutes } from './admin/epayments.ts';
import { registerAdminRecurringRoutes } from './admin/recurring.ts';
import { registerAdminWebhookRoutes } from './admin/webhooks.ts';
import { registerAdminStatusBatchRoutes } from './admin/status-batch.ts';
import { registerAdminPspRoutes } from './admin/psps.ts';
import { registerWebRoutes } from './web/routes.ts';
import { registerApiDocs } from './docs/routes.ts';
import { registerConsole } from './console/index.ts';
import { apiErrorEvents } from './plugins/error-events.ts';
import type { PaymentDeps } from '../operations/payment-deps.ts';
import type { Controls } from '../operations/controls.ts';
import { registerFaultInjection } from './plugins/faults.ts';
import { registerControlRoutes } from './admin/control.ts';
import { registerObservability } from './plugins/observability.ts';
import { registerAudit } from './plugins/audit.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Tracing } from '../observability/tracing.ts';

export interface Services {
  config: Config;
  database: Database;
  tokens: TokenService;
  credentials: Credentials;
  merchants: Merchants;
  users: Users;
  adminToken: AdminToken;
  payments: PaymentDeps;
  controls: Controls;
  tracing: Tracing;
  /** Absent with METRICS=false. */
  metrics?: Metrics;
}

/** Headers whose values never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.client_secret',
  'req.headers["client_secret"]',
  'req.headers["ocp-apim-subscription-key"]',
  'headers.authorization',
  'headers.client_secret',
  'headers["ocp-apim-subscription-key"]',
  'headers.cookie',
  'access_token',
  'clientSecret',
  'subscriptionKey',
  'makePaymentToken',
  'networkToken',
];

/**
 * Errors as pino writes them, except a failed query's: Drizzle puts the query's parameter values (a
 * makePaymentToken, a credential hash) into its message, stack and `params`, so only the query text
 * and the driver's code and message are kept (not the driver's `detail`, which can quote the row).
 */
export function serializeError(err: unknown): unknown {
  if (err instanceof DrizzleQueryError) {
    const cause = err.cause as (Error & { code?: string }) | undefined;
    const frames = (err.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line)).join('\n');
    return {
      type: 'DrizzleQueryError',
      message: `Failed query: ${err.query}${cause ? `: ${cause.message}` : ''}`,
      query: err.query,
      code: cause?.code,
      stack: `DrizzleQueryError: ${cause?.message ?? 'query failed'}\n${frames}`,
    };
  }
  return pino.stdSerializers.err(err as Error);
}

/**
 * The process's pino logger, secrets redacted: JSON lines, or with `pretty` (`auto` and stdout a
 * terminal) human-readable lines. Redaction and serializers apply before either format is written.
 */
export function createLogger(level: string, format: 'json' | 'pretty' | 'auto' = 'json'): Logger {
  const options = {
    level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { service: 'vipps-psp' }, serializers: { err: serializeError },
  };
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!pretty) return pino(options);
  // Loaded only for a terminal: the JSON path is exactly what it was.
  const prettyStream = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pino(options, prettyStream({
    colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', sync: true,
    // A request is one line: "GET /ready 200 1.2 ms request"; the other fields follow below it.
    messageFormat: '{if method}{method} {path} {statusCode} {end}{if ms}{ms} ms {end}{msg}', ignore: 'pid,hostname,service,method,path,statusCode,ms',
  }));
}

export function buildApp(services: Services, logger: Logger): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    ...connectionOptions(services.config, logger as FastifyBaseLogger),
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true },
    ajv: { customOptions: { coerceTypes: false, allErrors: true, removeAdditional: false, useDefaults: true } },
  });

  registerConnectionLimits(app, services.config);
  // Before any route, so that every handler is tracked.
  trackHandlers(app);
  registerAudit(app, services.database);
  registerObservability(app, { tracing: services.tracing, metrics: services.metrics, metricsToken: services.config.metricsToken, adminToken: services.adminToken });

  // JSON bodies: an empty body is "no body" (curl --data '' with a JSON content type), not an error.
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    // Depth, entries and names are checked on the raw text, so a hostile shape never reaches JSON.parse.
    const tooLarge = jsonLimitExceeded(text);
    if (tooLarge) return done(tooLarge, undefined);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      const error = Object.assign(new Error('Invalid JSON body'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' });
      return done(error, undefined);
    }
    done(null, value);
  });
  // Any other Content-Type (the token endpoint gets x-www-form-urlencoded): kept as text; JSON if it
  // parses (and is within the limits of any API body).
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    if (jsonLimitExceeded(text)) return done(null, text);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(null, text);
    }
  });

  registerErrorHandling(app, {
    onPspError: apiErrorEvents(services.database, (err) => logger.debug({ err }, 'an api.error event could not be recorded')),
  });
  registerInputChecks(app);
  // Before any route: 405/415 and the specs' media types need every route as it is registered.
  registerProtocolRules(app);

  const logHeaders = logger.isLevelEnabled('debug');
  app.addHook('onResponse', async (request, reply) => {
    const h = request.headers;
    request.log.info({
      method: request.method,
      path: request.url.split('?')[0],
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      pspId: request.psp?.pspId,
      msn: request.msn,
      traceId: request.span?.traceId,
      vippsSystem: h['vipps-system-name'] || h['vipps-system-version'] || h['vipps-system-plugin-name'] || h['vipps-system-plugin-version']
        ? {
            name: h['vipps-system-name'],
            version: h['vipps-system-version'],
            pluginName: h['vipps-system-plugin-name'],
            pluginVersion: h['vipps-system-plugin-version'],
          }
        : undefined,
      // LOG_LEVEL=debug: what the client sent, secrets redacted (REDACTED_PATHS).
      headers: logHeaders ? h : undefined,
    }, 'request');
  });

  // Graceful shutdown: once close() has begun, the answers to requests still in flight close their
  // connection. Otherwise close() waits for each client's keep-alive connection to time out (Fastify's
  // keepAliveTimeout is 72 s) before the process can exit.
  let closing = false;
  app.addHook('preClose', async () => { closing = true; });

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (request, reply) => {
    try {
      await services.database.ping();
      return { status: 'ready', database: services.database.kind };
    } catch (err) {
      request.log.warn({ err }, 'database not reachable');
      return reply.code(503).send({ status: 'unavailable', database: services.database.kind });
    }
  });

  const auth = { credentials: services.credentials, tokens: services.tokens, merchants: services.merchants };
  // Before the operator routes: their schemas make the operator API's document as they are registered.
  registerApiDocs(app, services);
  // Before the routes it applies to are registered.
  registerFaultInjection(app, services);
  registerAccessTokenRoutes(app, services);
  registerSignupRoutes(app, auth);
  registerAdminRoutes(app, services);
  registerPaymentRoutes(app, auth, services.payments);
  registerEpaymentRoutes(app, auth, services.payments);
  registerWebhookRoutes(app, auth, services.payments);
  registerRecurringRoutes(app, auth, services.payments);
  registerAdminPaymentRoutes(app, services);
  registerAdminEpaymentRoutes(app, services);
  registerAdminRecurringRoutes(app, services);
  registerAdminWebhookRoutes(app, services);
  registerAdminStatusBatchRoutes(app, services);
  registerAdminPspRoutes(app, services);
  registerControlRoutes(app, services);
  registerWebRoutes(app, services);
  registerConsole(app, services);

  return app;
}
