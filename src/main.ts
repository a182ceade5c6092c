// Composition root: config → database → services → HTTP app. Nothing else.
import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { ShiftedClock, type Clock } from './clock.ts';
import { Controls } from './operations/controls.ts';
import { migrate, openDatabase, type Database } from './store/db.ts';
import { TokenService } from './security/tokens.ts';
import { PaymentTokens } from './security/payment-tokens.ts';
import { Credentials } from './operations/credentials.ts';
import { Merchants } from './operations/merchants.ts';
import { Users } from './operations/users.ts';
import { resolveAdminToken } from './operations/admin-token.ts';
import { ConsoleCredentials } from './operations/principals.ts';
import { seedDemo } from './operations/seed.ts';
import { buildApp, createLogger, type Services } from './http/app.ts';
import { MakePaymentClient } from './delivery/make-payment-client.ts';
import { sweeper as startSweeper } from './jobs/sweeper.ts';
import { PaymentInserter } from './store/payment-inserter.ts';
import { EpaymentCreator } from './store/epayment-creator.ts';
import { statusBatchScheduler } from './jobs/status-batch-scheduler.ts';
import { idempotencyCleanup } from './jobs/idempotency-cleanup.ts';
import { OutboundLimiter } from './delivery/outbound-limiter.ts';
import { Notifier } from './operations/psp-v3/notify.ts';
import type { PaymentDeps } from './operations/payment-deps.ts';
import { sharedKey } from './store/keys.ts';
import { SEAL_KEY_SETTING } from './security/sealed-secrets.ts';
import { WebhookDeliverer } from './operations/webhooks/deliverer.ts';
import { DELIVERY_TIMEOUT_MS } from './domain/webhooks.ts';
import { ApiError } from './domain/errors.ts';
import { createTracing } from './observability/tracing.ts';
import { Metrics } from './observability/metrics.ts';
import { callObserver } from './observability/outbound.ts';
import { databaseFigures } from './store/metrics.ts';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  services: Services;
  close(): Promise<void>;
}

/** A free TCP port, so that PORT=0 still gives a PUBLIC_URL that names the real port. */
export async function freePort(host: string): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  clock?: Clock;
  /** Called once the database is open, migrated and seeded, before the server listens. */
  onDatabaseReady?: () => void;
  /**
   * With DATA_DIR=memory://, the embedded database starts from these files (a gzipped tarball from
   * `Database.dumpImage`) instead of a fresh initdb.
   */
  initialImage?: Blob;
}

export async function startServer(givenConfig: Config, opts: StartOptions = {}): Promise<RunningServer> {
  let config = givenConfig;
  if (config.port === 0 && !config.publicUrlExplicit) {
    const port = await freePort(config.host);
    config = { ...config, port, publicUrl: `http://localhost:${port}` };
  }
  // The test environment's time travel moves this clock for every process on the database (operations/controls.ts).
  const clock = new ShiftedClock(opts.clock);
  const logger = createLogger(config.logLevel, config.logFormat);
  const database: Database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize, log: logger, initialImage: opts.initialImage });
  const controls = new Controls({ database, clock, enabled: config.vippsEnv === 'test', log: logger });
  try {
    await migrate(database);
    if (config.vippsEnv === 'test') await seedDemo(database);
    await controls.start();
    opts.onDatabaseReady?.();
    const tracing = await createTracing({
      tracesUrl: config.otlpTracesUrl, protocol: config.otlpProtocol, serviceName: config.otelServiceName, scheduleDelayMs: config.otelScheduleDelayMs,
    });
    const metrics = config.metrics
      ? new Metrics({
        database: () => databaseFigures(database, clock.now()),
        ...(database.poolStats ? { pool: database.poolStats } : {}),
        clustered: config.workers > 1 && cluster.isWorker,
      })
      : undefined;
    if (metrics) database.onConflictRetried = () => metrics.databaseError('conflict_retried');
    const client = new MakePaymentClient({ timeoutMs: config.makePaymentTimeoutMs, allowPrivate: config.allowPrivateCallbacks, observer: callObserver('make_payment', tracing, metrics) });
    const outbound = new OutboundLimiter(config.makePaymentConcurrencyPerPsp, config.makePaymentConcurrency);
    const notifier = new Notifier({ database, clock, client, outbound, log: logger, makePaymentTimeoutMs: config.makePaymentTimeoutMs, controls });
    const shutdown = new AbortController();
    const payments: PaymentDeps = {
      config, clock, database, client, log: logger, inserter: new PaymentInserter(database), outbound, notifier, shutdown: shutdown.signal,
      paymentTokens: await PaymentTokens.load(database), controls,
      callbackClient: new MakePaymentClient({ timeoutMs: config.cardCallbackTimeoutMs, allowPrivate: config.allowPrivateCallbacks, observer: callObserver('card_callback', tracing, metrics) }),
      sealKey: await sharedKey(database.db, SEAL_KEY_SETTING),
      epaymentCreator: new EpaymentCreator(database),
    };
    const webhooks = new WebhookDeliverer({
      database, clock, log: logger, sealKey: payments.sealKey,
      faults: async (d) => {
        if (!controls.has('webhook')) return undefined;
        const p = d.payload as { msn?: string; reference?: string; agreementId?: string; chargeId?: string };
        const ids = [p.reference, p.agreementId, p.chargeId].filter((x): x is string => typeof x === 'string');
        return controls.take('webhook', { pspId: d.pspId, msn: p.msn, pspTransactionIds: ids });
      },
      client: new MakePaymentClient({ timeoutMs: DELIVERY_TIMEOUT_MS, allowPrivate: config.allowPrivateCallbacks, observer: callObserver('webhook', tracing, metrics) }),
    });
    payments.webhooks = webhooks;
    const tokens = await TokenService.create(database, { issuer: config.publicUrl, ttlSeconds: config.accessTokenTtlSeconds, clock });
    const services: Services = {
      config,
      database,
      tokens,
      credentials: await Credentials.load(database, { clock, rememberSeconds: config.accessTokenTtlSeconds }),
      merchants: new Merchants(database, undefined, clock),
      users: new Users(database),
      adminToken: { ...await resolveAdminToken(config, database), consoleCredentials: new ConsoleCredentials(database) },
      payments,
      controls,
      tracing,
      ...(metrics ? { metrics } : {}),
    };
    const app = buildApp(services, logger);
    await app.listen({ port: config.port, host: config.host });
    const sweeper = startSweeper(payments);
    webhooks.start();
    const keyCleanup = idempotencyCleanup(payments);
    const scheduler = config.statusBatchMode === 'nightly' ? statusBatchScheduler(payments) : undefined;
    sweeper.reportOutagesTo(logger, 'expiry sweep');
    keyCleanup.reportOutagesTo(logger, 'idempotency key cleanup');
    scheduler?.reportOutagesTo(logger, 'status batch schedule');
    // A clock moved by time travel: deadlines and the batch schedule are looked at again now; an
    // advance is answered once this process's expiry sweep after it is over.
    controls.onClockChange(() => {
      scheduler?.wake();
      webhooks.wake();
      return sweeper.runSoon();
    });
    // A reset's payments are never answered from the details read model.
    controls.onReset(() => database.detailsCache?.clear());
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    let closed = false;
    return {
      app,
      url: `http://127.0.0.1:${port}`,
      services,
      async close() {
        if (closed) return;
        closed = true;
        // Long work stops at its next safe point (a batch run after its current chunk), so that
        // closing the HTTP server does not wait for it to the end. No new notification is claimed
        // (pending ones wait for the next process), and a makePayment still waiting for a free
        // connection to its PSP is not started: its request answers 503 and its payment is unchanged.
        shutdown.abort();
        const notified = notifier.stop();
        const delivered = webhooks.stop();
        outbound.close(new ApiError(503, '503', 'The server is shutting down; retry on another instance or in a moment.'));
        try {
          await controls.stop();
          await app.close();
          // Handlers whose clients have gone away are still running (an immediate-mode batch run
          // finishes its current chunk and records itself interrupted): the database stays open for them.
          await app.handlersIdle();
          await sweeper.stop();
          await keyCleanup.stop();
          await scheduler?.stop();
          // Notifications in flight are answered (bounded by MAKE_PAYMENT_TIMEOUT_MS) and recorded.
          await notified;
          // Webhook sends in flight are answered (within 10 s) and recorded.
          await delivered;
          await client.close();
          await payments.callbackClient.close();
          // The last spans are sent (bounded by the exporter's own timeout).
          await tracing.shutdown().catch(() => {});
        } finally {
          await database.close();
        }
      },
    };
  } catch (err) {
    await controls.stop().catch(() => {});
    await database.close().catch(() => {});
    throw err;
  }
}
