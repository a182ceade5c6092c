// Composition root: config → database → services → HTTP app. Nothing else.
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { systemClock, type Clock } from './clock.ts';
import { migrate, openDatabase, type Database } from './store/db.ts';
import { TokenService } from './security/tokens.ts';
import { Credentials } from './operations/credentials.ts';
import { Merchants } from './operations/merchants.ts';
import { Users } from './operations/users.ts';
import { resolveAdminToken } from './operations/admin-token.ts';
import { seedDemo } from './operations/seed.ts';
import { buildApp, createLogger, type Services } from './http/app.ts';
import { MakePaymentClient } from './delivery/make-payment-client.ts';
import { sweeper as startSweeper } from './jobs/sweeper.ts';
import { PaymentInserter } from './store/payment-inserter.ts';
import { statusBatchScheduler } from './jobs/status-batch-scheduler.ts';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  services: Services;
  close(): Promise<void>;
}

/** A free TCP port, so that PORT=0 still gives a PUBLIC_URL that names the real port. */
async function freePort(host: string): Promise<number> {
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

export async function startServer(givenConfig: Config, opts: { clock?: Clock } = {}): Promise<RunningServer> {
  let config = givenConfig;
  if (config.port === 0 && !config.publicUrlExplicit) {
    const port = await freePort(config.host);
    config = { ...config, port, publicUrl: `http://localhost:${port}` };
  }
  const clock = opts.clock ?? systemClock;
  const database: Database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize });
  try {
    await migrate(database);
    if (config.vippsEnv === 'test') await seedDemo(database);
    const logger = createLogger(config.logLevel);
    const client = new MakePaymentClient({ timeoutMs: config.makePaymentTimeoutMs, allowPrivate: config.allowPrivateCallbacks });
    const payments = { config, clock, database, client, log: logger, inserter: new PaymentInserter(database) };
    const tokens = await TokenService.create(database, { issuer: config.publicUrl, ttlSeconds: config.accessTokenTtlSeconds, clock });
    const services: Services = {
      config,
      database,
      tokens,
      credentials: new Credentials(database),
      merchants: new Merchants(database),
      users: new Users(database),
      adminToken: await resolveAdminToken(config, database),
      payments,
    };
    const app = buildApp(services, logger);
    await app.listen({ port: config.port, host: config.host });
    const sweeper = startSweeper(payments);
    const scheduler = config.statusBatchMode === 'nightly' ? statusBatchScheduler(payments) : undefined;
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
        await app.close();
        await sweeper.stop();
        await scheduler?.stop();
        await client.close();
        await database.close();
      },
    };
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
}
