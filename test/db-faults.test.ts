// Database faults are request failures, not process deaths: with PostgreSQL cut off (a TCP proxy
// between the server and the database resets every connection) or its backends terminated, requests
// answer 503 in their family's error shape, /ready answers 503, nothing acknowledged is lost, and the
// server serves again by itself once the database is back. Also the classifier and the background
// jobs' backoff.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { adminHeaders, DEMO, freshPostgresDatabase, pspHeaders, startTestServer, type TestServer } from './support/server.ts';
import { PspStub } from './support/psp-stub.ts';
import { initBody, tokenOf, uniqueId } from './support/payments.ts';
import { TcpProxy } from './support/tcp-proxy.ts';
import { isDatabaseUnavailable } from '../src/store/db-errors.ts';
import { guardPoolClients, openDatabase } from '../src/store/db.ts';
import { JobLoop } from '../src/jobs/loop.ts';
import { ApiError } from '../src/domain/errors.ts';

const DATABASE_URL = process.env.DATABASE_URL;
const NEEDS_POSTGRES = DATABASE_URL
  ? false
  : 'needs PostgreSQL: set DATABASE_URL (these tests cut and kill connections to a PostgreSQL server; PGlite is in-process)';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('isDatabaseUnavailable', () => {
  it('recognises a lost or impossible connection, also wrapped', () => {
    const refused = withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED');
    const cases: unknown[] = [
      refused,
      withCode('read ECONNRESET', 'ECONNRESET'),
      withCode('write EPIPE', 'EPIPE'),
      withCode('connect ETIMEDOUT 10.0.0.1:5432', 'ETIMEDOUT'),
      withCode('connect EHOSTUNREACH 10.0.0.1:5432', 'EHOSTUNREACH'),
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated'),
      new Error('timeout exceeded when trying to connect'),
      new Error('timeout expired'),
      new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated unexpectedly') }),
      new Error('Client has encountered a connection error and is not queryable'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('terminating connection due to crash of another server process', '57P02'),
      withCode('the database system is starting up', '57P03'),
      withCode('sorry, too many clients already', '53300'),
      withCode('connection failure', '08006'),
      withCode('protocol violation', '08P01'),
      new DrizzleQueryError('select 1', [], new Error('Connection terminated unexpectedly') as Error),
      new DrizzleQueryError('insert into payments …', ['secret'], withCode('terminating connection due to administrator command', '57P01')),
      new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED'), refused]),
    ];
    for (const err of cases) assert.equal(isDatabaseUnavailable(err), true, String((err as Error).message));
  });

  it('leaves every other failure alone', () => {
    const loop: Error & { cause?: unknown } = new Error('cyclic');
    loop.cause = loop;
    const cases: unknown[] = [
      new Error('boom'),
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      withCode('duplicate key value violates unique constraint "payments_pkey"', '23505'),
      withCode('syntax error at or near "selec"', '42601'),
      withCode('canceling statement due to statement timeout', '57014'),
      withCode('could not serialize access due to concurrent update', '40001'),
      withCode('no such file', 'ENOENT'),
      new DrizzleQueryError('select 1', [], withCode('division by zero', '22012')),
      new ApiError(404, '404', 'No payment'),
      new Error('wrapper', { cause: new Error('Connection terminated with a twist') }),
      loop,
      undefined,
      null,
      'ECONNREFUSED',
      { code: 1 },
    ];
    for (const err of cases) assert.equal(isDatabaseUnavailable(err), false, String(err instanceof Error ? err.message : err));
  });
});

interface Entry { level: 'warn' | 'info'; obj: Record<string, unknown>; msg: string }
/** A logger that keeps what it is given. */
function recorder(): { entries: Entry[]; log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void } } {
  const entries: Entry[] = [];
  return {
    entries,
    log: {
      warn: (obj, msg) => entries.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
      info: (obj, msg) => entries.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    },
  };
}

describe('JobLoop', () => {
  /** A loop whose step follows `script` (an Error fails, a number succeeds with that delay), then waits long. */
  async function run(script: Array<Error | number>, opts: { retryMs: number; maxBackoffMs: number }) {
    const { entries, log } = recorder();
    const errors: unknown[] = [];
    let i = 0;
    let finished!: () => void;
    const done = new Promise<void>((resolve) => { finished = resolve; });
    const loop = new JobLoop(async () => {
      const next = script[i];
      i += 1;
      if (i >= script.length) finished();
      if (next === undefined) return 60_000;
      if (next instanceof Error) throw next;
      return next;
    }, (err) => errors.push(err), opts.retryMs, { maxBackoffMs: opts.maxBackoffMs }).reportOutagesTo(log, 'test job');
    loop.start(0);
    await done;
    await loop.stop();
    return { entries, errors, steps: i };
  }

  it('a database outage: one warning per try with the attempt count, the wait doubling up to the cap, then the recovery', async () => {
    const down = () => withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED');
    const { entries, errors } = await run([down(), down(), down(), down(), down(), down(), 5, 60_000], { retryMs: 10, maxBackoffMs: 80 });
    assert.deepEqual(errors, [], 'an outage is not reported as an error');
    const warnings = entries.filter((e) => e.level === 'warn');
    assert.deepEqual(warnings.map((e) => e.obj.attempt), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(warnings.map((e) => e.obj.retryInMs), [10, 20, 40, 80, 80, 80]);
    for (const w of warnings) {
      assert.equal(w.obj.job, 'test job');
      assert.equal(w.obj.code, 'ECONNREFUSED');
      assert.equal(w.obj.stack, undefined);
      assert.match(w.msg, /database unavailable/);
    }
    const recovered = entries.filter((e) => e.level === 'info');
    assert.equal(recovered.length, 1);
    assert.equal(recovered[0].obj.attempts, 7);
  });

  it('the wait resets after a success; other errors go to onError, also with backoff', async () => {
    const down = () => withCode('terminating connection due to administrator command', '57P01');
    const bug = new Error('a bug');
    const { entries, errors } = await run([down(), down(), 1, down(), bug, bug, 60_000], { retryMs: 10, maxBackoffMs: 1000 });
    const warnings = entries.filter((e) => e.level === 'warn');
    assert.deepEqual(warnings.map((e) => e.obj.retryInMs), [10, 20, 10], 'back to the retry delay after a success');
    assert.deepEqual(warnings.map((e) => e.obj.attempt), [1, 2, 1]);
    assert.deepEqual(errors, [bug, bug]);
  });

  it('a retry delay above the cap is kept as it is', () => {
    const loop = new JobLoop(async () => 0, () => {}, 60_000);
    assert.deepEqual([1, 2, 3].map((n) => loop.backoffMs(n)), [60_000, 60_000, 60_000]);
    const fast = new JobLoop(async () => 0, () => {}, 1000);
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => fast.backoffMs(n)), [1000, 2000, 4000, 5000, 5000]);
  });
});

// ---- against PostgreSQL ----

interface Answer { status: number; headers: Headers; body: any; text: string }

/** One request with a hard bound: a request that hangs is reported as status 0 ("hung"), not waited for. */
async function request(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown, boundMs = 10_000): Promise<Answer> {
  try {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(boundMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: response.status, headers: response.headers, body: parsed, text };
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') return { status: 0, headers: new Headers(), body: undefined, text: `no answer within ${boundMs} ms` };
    throw err;
  }
}

const initRequest = (base: string, h: Record<string, string>, body: Record<string, unknown>, key?: string) =>
  request(base, 'POST', '/psp/v3/psppayments/init', key ? { ...h, 'idempotency-key': key } : h, body);
const detailsRequest = (base: string, h: Record<string, string>, id: string) =>
  request(base, 'GET', `/psp/v3/psppayments/${id}/details`, h);

/** A 503 of the PSP API: ErrorDetails with one entry and a contextId, and a Retry-After. */
function assertPsp503(answer: Answer, what: string): void {
  assert.equal(answer.status, 503, `${what}: ${answer.text}`);
  assert.ok(Array.isArray(answer.body) && answer.body.length === 1, `${what}: ErrorDetails array, got ${answer.text}`);
  const [detail] = answer.body;
  assert.deepEqual(Object.keys(detail).sort(), ['contextId', 'errorCode', 'errorMessage']);
  assert.equal(detail.errorCode, '503');
  assert.match(detail.errorMessage, /database is unavailable/i);
  assert.match(detail.contextId, UUID);
  assert.ok(Number(answer.headers.get('retry-after')) > 0, `${what}: Retry-After ${answer.headers.get('retry-after')}`);
}

/** A fresh database and a proxy to it the test can cut. */
async function proxiedDatabase() {
  const fresh = await freshPostgresDatabase(DATABASE_URL!);
  const direct = new URL(fresh.url);
  const proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port || 5432) });
  const viaProxy = new URL(fresh.url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  return { url: viaProxy.toString(), proxy, drop: fresh.drop };
}

/** A server whose database connections all go through a proxy the test can cut. */
async function proxiedServer(env: Record<string, string> = {}) {
  const { url, proxy, drop } = await proxiedDatabase();
  const server = await startTestServer(env, { databaseUrl: url });
  return {
    server,
    proxy,
    async close() {
      await server.close();
      await proxy.close();
      await drop();
    },
  };
}

/** Polls `fn` until `check` passes; fails the test after `ms`. Returns how long it took. */
async function until<T>(what: string, fn: () => Promise<T>, check: (value: T) => boolean, ms = 15_000): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  for (;;) {
    const value = await fn();
    if (check(value)) return { value, ms: Date.now() - started };
    if (Date.now() - started > ms) assert.fail(`${what}: not within ${ms} ms (last: ${JSON.stringify(value).slice(0, 300)})`);
    await sleep(50);
  }
}

describe('a statement PostgreSQL ends to break a deadlock', { skip: NEEDS_POSTGRES }, () => {
  it('runs again, and gets its rows once the other transaction is done', async () => {
    const fresh = await freshPostgresDatabase(DATABASE_URL!);
    const database = await openDatabase({ databaseUrl: fresh.url, dataDir: '', poolSize: 2 });
    const other = new pg.Client({ connectionString: fresh.url });
    try {
      await other.connect();
      await other.query('create table t (id int primary key, v int not null); insert into t values (1, 0), (2, 0)');
      // The other transaction holds row 2; the statement locks row 1, then waits for row 2; the other
      // then wants row 1: a deadlock, which PostgreSQL breaks by ending the statement (it waited first).
      await other.query('begin');
      await other.query('update t set v = v + 1 where id = 2');
      const statement = database.query<{ id: number }>('lock_both', 'select id from t where id = any($1::int[]) order by id for update', [[1, 2]]);
      const settled = statement.then(() => 'done', (err: unknown) => err);
      await sleep(200);
      await other.query('update t set v = v + 1 where id = 1');
      await other.query('commit');
      const outcome = await settled;
      assert.equal(outcome, 'done', `the statement ran again instead of failing: ${String(outcome)}`);
      assert.deepEqual((await statement).map((r) => r.id), [1, 2]);
    } finally {
      await other.end().catch(() => undefined);
      await database.close();
      await fresh.drop();
    }
  });
});

describe('database faults (PostgreSQL)', { skip: NEEDS_POSTGRES }, () => {
  let stub: PspStub;
  before(async () => { stub = await PspStub.start(); });
  after(async () => { await stub?.close(); });

  it('a checked-out connection that breaks: no crash, one warning, and the pool gets its slot back', async () => {
    const { url, proxy, drop } = await proxiedDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 2000 });
    const { entries, log } = recorder();
    guardPoolClients(pool, log);
    let held: pg.PoolClient | undefined;
    try {
      // A holder that never releases its client after a failure, as a transaction whose BEGIN failed.
      held = await pool.connect();
      await held.query('select 1');
      proxy.cut();
      await assert.rejects(held.query('select 1'), (err: unknown) => isDatabaseUnavailable(err));
      proxy.restore();
      const { rows } = await pool.query<{ two: number }>('select 2 as two');
      assert.equal(rows[0].two, 2, 'the only slot of the pool is usable again');
      held.release();
      await sleep(100);
      const warnings = entries.filter((e) => e.level === 'warn');
      assert.equal(warnings.length, 1, JSON.stringify(entries));
      assert.equal(warnings[0].msg, 'database connection lost');
      assert.equal(typeof warnings[0].obj.reason, 'string');
    } finally {
      try { held?.release(); } catch { /* released already */ }
      await pool.end();
      await proxy.close();
      await drop();
    }
  });

  it('a cut under init + details load: 503 in ErrorDetails, /ready 503, recovery without a restart, nothing acknowledged lost', async (t) => {
    const { server, proxy, close } = await proxiedServer();
    try {
      const base = server.url;
      const h = await pspHeaders(base);

      interface Init { body: Record<string, unknown>; key?: string; answer: Answer; phase: string }
      const inits: Init[] = [];
      const detailsAnswers: Array<{ answer: Answer; phase: string }> = [];
      const acknowledged: string[] = [];
      let phase = 'before';
      let stop = false;
      let sent = 0;
      const BUDGET = 1500;

      const worker = async (w: number) => {
        while (!stop && sent < BUDGET) {
          sent += 2;
          const body = initBody(stub.url, { amount: String(1000 + sent) });
          const key = w % 2 === 0 ? uniqueId('key-') : undefined;
          const at = phase;
          const answer = await initRequest(base, h, body, key);
          inits.push({ body, key, answer, phase: at });
          if (answer.status === 200) acknowledged.push(body.pspTransactionId as string);
          const id = acknowledged.length > 0 ? acknowledged[(sent * 7) % acknowledged.length] : (body.pspTransactionId as string);
          const dPhase = phase;
          detailsAnswers.push({ answer: await detailsRequest(base, h, id), phase: dPhase });
          await sleep(15);
        }
      };
      const load = Promise.all([0, 1, 2, 3, 4, 5].map(worker));
      load.catch(() => {}); // awaited below; if the test fails first, the workers end with the server

      await until('inits before the cut', async () => acknowledged.length, (n) => n >= 40);

      phase = 'cut';
      proxy.cut();
      const cutAt = Date.now();
      // /ready during the outage: a 503, promptly (well within the connection timeout plus a margin).
      const ready = await request(base, 'GET', '/ready', {});
      assert.equal(ready.status, 503, ready.text);
      assert.equal(ready.body.status, 'unavailable');
      // Operator API and a web page during the outage: 503 in their own shapes.
      const admin = await request(base, 'GET', `/admin/payments/${DEMO.psp.pspId}/${acknowledged[0]}`, adminHeaders());
      assert.equal(admin.status, 503, admin.text);
      assert.match(admin.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(admin.body.status, 503);
      assert.match(admin.body.detail, /database is unavailable/i);
      assert.ok(Number(admin.headers.get('retry-after')) > 0);
      const landingToken = tokenOf(inits.find((i) => i.answer.status === 200)!.answer.body.vippsRedirectUrl);
      const page = await request(base, 'GET', `/landing?token=${landingToken}`, {});
      assert.equal(page.status, 503, page.text.slice(0, 300));
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      assert.match(page.text, /cannot reach its database/);
      // The ePayment API during the outage: 503 in its own problem shape, with Retry-After.
      const epayment = await request(base, 'GET', '/epayment/v1/payments/outage-reference-1', h);
      assert.equal(epayment.status, 503, epayment.text);
      assert.match(epayment.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(epayment.body.type, 'https://httpstatuses.io/503');
      assert.equal(epayment.body.instance, '/v1/payments/outage-reference-1');
      assert.match(epayment.body.traceId, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      assert.ok(Number(epayment.headers.get('retry-after')) > 0);
      await until('503s during the cut', async () => inits.filter((i) => i.phase === 'cut' && i.answer.status === 503).length, (n) => n >= 20);
      if (Date.now() - cutAt < 2000) await sleep(2000 - (Date.now() - cutAt));

      phase = 'restored';
      proxy.restore();
      const restoredAt = Date.now();
      const recovered = await until('init and details answered 200 after the restore', async () => {
        const body = initBody(stub.url);
        const i = await initRequest(base, h, body);
        if (i.status === 200) acknowledged.push(body.pspTransactionId as string);
        const d = i.status === 200 ? await detailsRequest(base, h, body.pspTransactionId as string) : undefined;
        return [i.status, d?.status];
      }, ([i, d]) => i === 200 && d === 200, 10_000);
      t.diagnostic(`serving again ${Date.now() - restoredAt} ms after the database came back (cut lasted ${restoredAt - cutAt} ms)`);
      assert.ok(recovered.value);
      const readyAgain = await until('/ready after the restore', () => request(base, 'GET', '/ready', {}), (a) => a.status === 200, 10_000);
      assert.equal(readyAgain.value.body.status, 'ready');

      phase = 'after';
      const settled = acknowledged.length;
      await until('load after the recovery', async () => acknowledged.length, (n) => n >= settled + 40 || sent >= BUDGET);
      stop = true;
      await load;

      // Every answer was a 200 or a 503 in ErrorDetails; none hung, none was a 500.
      const all = [...inits.map((i) => ({ answer: i.answer, what: `init (${i.phase})` })), ...detailsAnswers.map((d) => ({ answer: d.answer, what: `details (${d.phase})` }))];
      for (const { answer, what } of all) {
        if (answer.status === 503) assertPsp503(answer, what);
        else assert.equal(answer.status, 200, `${what}: ${answer.status} ${answer.text.slice(0, 300)}`);
      }
      const failed = inits.filter((i) => i.answer.status === 503);
      assert.ok(failed.length >= 20, `inits answered 503: ${failed.length}`);
      assert.ok(inits.some((i) => i.phase === 'after' && i.answer.status === 200), 'inits answered 200 after the recovery');
      assert.ok(detailsAnswers.some((d) => d.phase === 'cut' && d.answer.status === 503), 'details answered 503 during the cut');
      assert.ok(detailsAnswers.some((d) => d.phase === 'after' && d.answer.status === 200), 'details answered 200 after the recovery');

      // Nothing acknowledged is lost: every init answered 200 reads back with its own amount.
      for (const id of acknowledged) {
        const d = await detailsRequest(base, h, id);
        assert.equal(d.status, 200, `acknowledged ${id}: ${d.text}`);
        assert.equal(d.body.pspTransactionId, id);
      }
      const stored = async (id: string) => {
        const a = await request(base, 'GET', `/admin/payments/${DEMO.psp.pspId}/${id}`, adminHeaders());
        assert.equal(a.status, 200, a.text);
        return a.body;
      };
      for (const i of inits.filter((x) => x.answer.status === 200)) {
        const p = await stored(i.body.pspTransactionId as string);
        assert.equal(p.merchantOrderId, i.body.merchantOrderId);
        assert.equal(p.amount, Number(i.body.amount));
        assert.equal(p.state, 'INITIATED');
      }

      // An init answered 503 left no payment, unless its commit was in doubt: the statement reached the
      // database and the connection broke before the answer came back. Then the payment is exactly the
      // one requested. Either way the retry the 503 asks for settles it: with the same Idempotency-Key it
      // answers 200 (run now, or the stored answer replayed); without a key it answers 200 if nothing was
      // stored and "44 PSP Transaction ID already exists" if the in-doubt commit did happen.
      let inDoubt = 0;
      for (const i of failed) {
        const id = i.body.pspTransactionId as string;
        const before = await detailsRequest(base, h, id);
        assert.ok(before.status === 404 || before.status === 200, `details of a 503 init: ${before.status} ${before.text}`);
        if (before.status === 200) {
          inDoubt += 1;
          const p = await stored(id);
          assert.equal(p.merchantOrderId, i.body.merchantOrderId);
          assert.equal(p.amount, Number(i.body.amount));
        }
        const retry = await initRequest(base, h, i.body, i.key);
        if (i.key !== undefined || before.status === 404) {
          assert.equal(retry.status, 200, `retry of ${id} (key ${i.key}): ${retry.text}`);
          assert.equal(retry.body.pspTransactionId, id);
        } else {
          assert.equal(retry.status, 400, retry.text);
          assert.equal(retry.body[0].errorCode, '44');
        }
        assert.equal((await detailsRequest(base, h, id)).status, 200);
      }
      assert.ok(inDoubt < failed.length, 'not every init answered 503 was stored');
      t.diagnostic(`${inits.length} inits (${failed.length} answered 503, ${inDoubt} of them committed in doubt), ${detailsAnswers.length} details`);
    } finally {
      await close();
    }
  });

  it('pg_terminate_backend of the server\'s connections under a details load: the server survives and recovers', async (t) => {
    const fresh = await freshPostgresDatabase(DATABASE_URL!);
    const dbName = new URL(fresh.url).pathname.slice(1);
    // The sweeper runs a transaction every 50 ms, so connections are also killed inside transactions.
    const server: TestServer = await startTestServer({ SWEEP_INTERVAL_MS: '50' }, { databaseUrl: fresh.url });
    const killer = new pg.Client({ connectionString: DATABASE_URL });
    await killer.connect();
    try {
      const base = server.url;
      const h = await pspHeaders(base);
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const body = initBody(stub.url);
        assert.equal((await initRequest(base, h, body)).status, 200);
        ids.push(body.pspTransactionId as string);
      }

      const answers: Answer[] = [];
      let stop = false;
      let n = 0;
      const load = Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(async () => {
        while (!stop && n < 1500) {
          n += 1;
          answers.push(await detailsRequest(base, h, ids[n % ids.length]));
          await sleep(5);
        }
      }));
      load.catch(() => {}); // awaited below; if the test fails first, the workers end with the server

      let killed = 0;
      for (let round = 0; round < 5; round++) {
        await sleep(150);
        const result = await killer.query(
          'select pg_terminate_backend(pid) as ok from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [dbName]);
        killed += result.rows.filter((r) => r.ok).length;
      }
      assert.ok(killed > 0, 'connections of the server were terminated');
      const recovered = await until('details 200 after the terminations', () => detailsRequest(base, h, ids[0]), (a) => a.status === 200, 10_000);
      t.diagnostic(`${killed} backends terminated; details answered 200 again ${recovered.ms} ms after the last round`);
      await sleep(200);
      stop = true;
      await load;

      for (const a of answers) {
        if (a.status !== 200) assertPsp503(a, 'details during the terminations');
      }
      t.diagnostic(`${answers.length} details: ${answers.filter((a) => a.status === 503).length} answered 503`);

      // The pool has all its connections back: more concurrent requests than connections all succeed.
      const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => detailsRequest(base, h, ids[i % ids.length])));
      assert.deepEqual(burst.map((a) => a.status), burst.map(() => 200));
      const ready = await request(base, 'GET', '/ready', {});
      assert.equal(ready.status, 200, ready.text);
      // A transaction (an init with an Idempotency-Key runs in one) works as well.
      const body = initBody(stub.url);
      const keyed = await initRequest(base, h, body, uniqueId('key-'));
      assert.equal(keyed.status, 200, keyed.text);
    } finally {
      await killer.end();
      await server.close();
      await fresh.drop();
    }
  });

  it('background jobs retry through the outage: a payment that expires during the cut becomes TIMEOUT and its PSP is told after the restore', async () => {
    const { server, proxy, close } = await proxiedServer({ LANDING_TIMEOUT_SECONDS: '1', SWEEP_INTERVAL_MS: '100' });
    try {
      const base = server.url;
      const h = await pspHeaders(base);
      const body = initBody(stub.url);
      const id = body.pspTransactionId as string;
      const init = await initRequest(base, h, body);
      assert.equal(init.status, 200, init.text);

      proxy.cut();
      await sleep(2500);
      assert.equal(stub.callsFor(id).length, 0, 'no TIMEOUT can be recorded while the database is away');
      assertPsp503(await detailsRequest(base, h, id), 'details during the cut');
      proxy.restore();

      const calls = await stub.waitForCalls(id, 1, 15_000);
      assert.equal(calls[0].body.paymentState, 'TIMEOUT');
      const view = await until('the TIMEOUT recorded', () => request(base, 'GET', `/admin/payments/${DEMO.psp.pspId}/${id}`, adminHeaders()),
        (a) => a.status === 200 && a.body.state === 'TIMEOUT' && a.body.deliveries.length === 1);
      assert.equal(view.value.body.deliveries[0].paymentState, 'TIMEOUT');
      await sleep(500);
      assert.equal(stub.callsFor(id).length, 1, 'exactly one TIMEOUT makePayment');
    } finally {
      await close();
    }
  });
});
