// Opens the database: a real PostgreSQL server through a pool when DATABASE_URL is set,
// otherwise embedded PGlite persisted under DATA_DIR. Both speak PostgreSQL and share one
// Drizzle schema and one migrations folder.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { QueryConfig } from 'pg';
import * as schema from './schema.ts';
import { DetailsCache } from './details-cache.ts';
import { DetailsReader } from './details-reader.ts';
import { EpaymentReader } from './epayment-reader.ts';
import { databaseFailure, isRetryableConflict } from './db-errors.ts';
import { isNewDataDir, lockDataDir } from './data-dir-lock.ts';
import { packagedImage } from './packaged-image.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction or the database itself: store functions accept either. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0] | Db;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Human description for the banner, without credentials. */
  describe: string;
  /**
   * One statement outside any transaction, bypassing the query builder: for the hottest paths.
   * With PostgreSQL a `name` makes it a prepared statement on each pooled connection.
   */
  query<T>(name: string, text: string, params: unknown[]): Promise<T[]>;
  /**
   * The details read model: only on the embedded database, where this process makes every change
   * (DATA_DIR is locked to it). Absent on PostgreSQL, which other processes may change.
   */
  detailsCache?: DetailsCache;
  /** Reads payment details, the requests of one moment in one statement. */
  details: DetailsReader;
  /** Reads ePayment payments for GET, the requests of one moment in one statement. */
  epayments: EpaymentReader;
  ping(): Promise<void>;
  /** PostgreSQL only: the pool's connections (open, idle) and the requests waiting for one. */
  poolStats?(): { total: number; idle: number; waiting: number };
  /** Called each time a statement ended to break a deadlock runs again (metrics). */
  onConflictRetried?: () => void;
  /** The embedded database in memory only: its files as a gzipped tarball, to open a copy with `initialImage`. */
  dumpImage?(): Promise<Blob>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** How many times one statement of `query` runs when PostgreSQL ends it to break a deadlock. */
const QUERY_ATTEMPTS = 3;

/** A fixed advisory-lock key so that several processes starting at once migrate one at a time. */
const MIGRATION_LOCK_KEY = 7_731_001;

/** Where the database reports a lost connection (the process's logger). */
export interface DbLog {
  warn(obj: object, msg: string): void;
}

/**
 * How long a request waits for a PostgreSQL connection (a new one, or a free one of the pool) before it
 * fails: with the server unreachable, requests and /ready answer within this time instead of hanging.
 */
export const CONNECT_TIMEOUT_MS = 5_000;

/**
 * `initialImage` (the embedded database in memory only): the files of a database made before (see
 * `dumpImage`), loaded instead of running initdb, which takes seconds.
 */
export async function openDatabase(opts: { databaseUrl?: string; dataDir: string; poolSize?: number; log?: DbLog; initialImage?: Blob }): Promise<Database> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.poolSize ?? 20, opts.log);
  return openPglite(opts.dataDir, opts.initialImage);
}

async function openPostgres(url: string, poolSize: number, log?: DbLog): Promise<Database> {
  const { default: pg } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // TCP keepalive notices a server that vanished without closing its connections.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  guardPoolClients(pool, log);
  const db = drizzle({ client: pool, schema }) as unknown as Db;
  let described = 'PostgreSQL';
  try {
    const u = new URL(url);
    described = `PostgreSQL ${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch { /* keep the generic description */ }
  const query = async <T>(name: string, text: string, params: unknown[]): Promise<T[]> => {
    // One statement on its own: when PostgreSQL ends it to break a deadlock with another process's
    // statement over the same rows (two batches locking them in different orders), nothing of it was
    // written, and it runs again.
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await pool.query({ name, text, values: params });
        return result.rows as T[];
      } catch (err) {
        if (attempt >= QUERY_ATTEMPTS || !isRetryableConflict(err)) throw err;
        database.onConflictRetried?.();
      }
    }
  };
  const database: Database = {
    db,
    kind: 'postgres',
    describe: described,
    query,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    details: new DetailsReader(query),
    epayments: new EpaymentReader(query),
    async ping() {
      // Bounded also when a connection's peer vanished silently: a ping that gets no answer fails.
      await pool.query({ text: 'select 1', query_timeout: CONNECT_TIMEOUT_MS } as QueryConfig);
    },
    async close() { await pool.end(); },
  };
  return database;
}

/** The parts of a pg pool and its clients that guardPoolClients uses. */
interface GuardedClient {
  on(event: 'error', listener: (err: Error) => void): unknown;
  release(err?: Error | boolean): void;
}
interface GuardedPool {
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'connect' | 'acquire', listener: (client: GuardedClient) => void): unknown;
  on(event: 'release', listener: (err: Error | undefined, client: GuardedClient) => void): unknown;
}

/**
 * Makes a lost connection an error of the queries that used it, never the process's end.
 *
 * pg-pool listens for 'error' only on idle clients (and re-emits it as the pool's 'error'); a client
 * checked out for a query or a transaction has no listener while it is out, so its connection
 * breaking (a server restart, pg_terminate_backend, a network cut) would be an unhandled 'error'
 * event. Every client therefore gets a listener for its whole life. It logs the loss once per
 * connection and, when the client is checked out, hands it back to the pool as broken (the pool
 * discards it): a holder that never releases a client whose query failed (Drizzle does not when its
 * BEGIN fails) cannot shrink the pool for good. The holder's own release afterwards does nothing.
 */
export function guardPoolClients(pool: GuardedPool, log?: DbLog): void {
  const checkedOut = new WeakSet<GuardedClient>();
  pool.on('acquire', (client) => { checkedOut.add(client); });
  pool.on('release', (_err, client) => { checkedOut.delete(client); });
  // An idle client's error: the pool has already dropped the client; its own listener below logs it.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    let reported = false;
    client.on('error', (err) => {
      if (!reported) {
        reported = true;
        log?.warn(databaseFailure(err), 'database connection lost');
      }
      if (!checkedOut.has(client)) return;
      checkedOut.delete(client);
      const release = client.release.bind(client);
      client.release = () => {};
      release(err);
    });
  });
}

/**
 * PGlite's PostgreSQL keeps its buffer pool in WebAssembly memory, which never shrinks: the default
 * 128 MB pool made up a third of the process's memory. 32 MB keeps a working set of a few hundred
 * thousand payments cached (the operating system caches the data files beneath it) at about
 * 130 MiB less resident memory.
 */
const PGLITE_SHARED_BUFFERS = '32MB';

async function openPglite(dataDir: string, initialImage?: Blob): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const options = {
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
  };
  const { drizzle } = await import('drizzle-orm/pglite');
  let client;
  let described: string;
  let lock: { release(): void } | undefined;
  const inMemory = dataDir === 'memory://';
  if (inMemory) {
    client = new PGlite(initialImage ? { ...options, loadDataDir: initialImage } : options);
    described = 'embedded PGlite (in memory)';
  } else {
    const dir = path.resolve(dataDir, 'pgdata');
    // One process per folder (see data-dir-lock.ts): a second opener is refused here, before it
    // touches the database files.
    lock = lockDataDir(dataDir);
    described = `embedded PGlite at ${dir}`;
    try {
      const image = isNewDataDir(dataDir) ? await packagedImage() : undefined;
      mkdirSync(dir, { recursive: true });
      client = new PGlite(dir, image ? { ...options, loadDataDir: image } : options);
      await client.waitReady;
    } catch (err) {
      lock.release();
      throw err;
    }
  }
  await client.waitReady;
  const db = drizzle({ client, schema }) as unknown as Db;
  const query = async <T>(_name: string, text: string, params: unknown[]): Promise<T[]> => (await client.query<T>(text, params)).rows;
  return {
    db,
    kind: 'pglite',
    describe: described,
    detailsCache: new DetailsCache(),
    query,
    details: new DetailsReader(query),
    epayments: new EpaymentReader(query),
    async ping() { await client.query('select 1'); },
    ...(inMemory ? { dumpImage: () => client.dumpDataDir('gzip') as Promise<Blob> } : {}),
    async close() {
      try {
        await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/** Runs pending migrations; with PostgreSQL under an advisory lock so concurrent starts are safe. */
export async function migrate(database: Database): Promise<void> {
  if (database.kind === 'pglite') {
    const { migrate: run } = await import('drizzle-orm/pglite/migrator');
    await run(database.db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    return;
  }
  const { migrate: run } = await import('drizzle-orm/node-postgres/migrator');
  await database.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await run(tx as never, { migrationsFolder: MIGRATIONS_FOLDER });
  });
}

/** Rows of a raw query, the same on both drivers. */
export async function rows<T>(tx: Tx, query: SQL): Promise<T[]> {
  const result = (await tx.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
