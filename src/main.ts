// Composition root: config → database → services → HTTP app. Nothing else.
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Config } from './config.ts';
import { systemClock, type Clock } from './clock.ts';
import { migrate, openDatabase, type Database } from './store/db.ts';
import { TokenService } from './security/tokens.ts';
import { Credentials } from './operations/credentials.ts';
import { Merchants } from './operations/merchants.ts';
import { Users } from './operations/users.ts';
import { resolveAdminToken } from './operations/admin-token.ts';
import { seedDemo } from './operations/seed.ts';
import { buildApp, type Services } from './http/app.ts';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  services: Services;
  close(): Promise<void>;
}

export async function startServer(config: Config, opts: { clock?: Clock; logger?: FastifyServerOptions['logger'] } = {}): Promise<RunningServer> {
  const clock = opts.clock ?? systemClock;
  const database: Database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize });
  try {
    await migrate(database);
    if (config.vippsEnv === 'test') await seedDemo(database);
    const tokens = await TokenService.create(database, { issuer: config.publicUrl, ttlSeconds: config.accessTokenTtlSeconds, clock });
    const services: Services = {
      config,
      database,
      tokens,
      credentials: new Credentials(database),
      merchants: new Merchants(database),
      users: new Users(database),
      adminToken: await resolveAdminToken(config, database),
    };
    const app = buildApp(services, { logger: opts.logger });
    await app.listen({ port: config.port, host: config.host });
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
        await database.close();
      },
    };
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
}
