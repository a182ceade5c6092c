// The `vipps-psp` command, spawned as a child process against a running test server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ADMIN_TOKEN, adminHeaders, call, DEMO, freshPostgresDatabase, startTestServer, type TestServer } from './support/server.ts';
import { persistentStorage, runCli, startChild } from './support/child.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const cli = runCli;

// The two groups run side by side: `migrate` on a fresh embedded database spends ~10 s in initdb.
describe('vipps-psp', { concurrency: true }, () => {
  describe('CLI', { concurrency: 1 }, () => {
    let server: TestServer;
    const remote = () => ['--url', server.url, '--admin-token', ADMIN_TOKEN];

    before(async () => { server = await startTestServer(); });
    after(async () => { await server.close(); });

    describe('help', { concurrency: true }, () => {
      it('--help lists the commands and the environment variables, exit 0', async () => {
        const run = await cli(['--help']);
        assert.equal(run.code, 0, run.stderr);
        for (const text of ['start', 'migrate', 'psp create', 'psp list', 'merchant set', 'user create', 'PORT', 'DATABASE_URL', 'ADMIN_TOKEN', 'VIPPS_ENV']) {
          assert.ok(run.stdout.includes(text), `--help mentions ${text}`);
        }
        assert.equal(run.stderr, '');
      });

      it('--help, help and no command print the same help: every command, the operator options, the main settings', async () => {
        const [flag, word, none] = await Promise.all([cli(['--help']), cli(['help']), cli([])]);
        for (const run of [flag, word, none]) assert.equal(run.code, 0, run.stderr);
        assert.equal(word.stdout, flag.stdout);
        assert.equal(none.stdout, flag.stdout);
        for (const text of ['card add', 'payment show', 'status-batch rejected', 'user set-pin', 'merchant list', '--url URL', '--admin-token TOKEN', '--json',
          'VIPPS_PSP_URL', '--version', 'LOG_FORMAT', 'DATA_DIR', 'vipps-psp start --help']) {
          assert.ok(flag.stdout.includes(text), `--help mentions ${text}`);
        }
        const help = await cli(['help', 'card']);
        assert.equal(help.code, 0, help.stderr);
        assert.match(help.stdout, /vipps-psp card add --phone NUMBER --brand B/);
      });

      it('--version, -v and version print the version of package.json', async () => {
        const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
        const runs = await Promise.all([cli(['--version']), cli(['-v']), cli(['version'])]);
        for (const run of runs) {
          assert.equal(run.code, 0, run.stderr);
          assert.equal(run.stdout, `${version}\n`);
        }
      });

      it('the operations guide\'s "Command line" section shows every command of --help, and no other', async () => {
        const run = await cli(['--help']);
        const block = run.stdout.split('\nCommands:\n')[1].split('\n\n')[0];
        // A command is its words up to the first option or placeholder: "psp create", "payment show", "help".
        const words = (text: string) => {
          const out: string[] = [];
          for (const w of text.trim().split(/\s+/)) {
            if (!/^[a-z][a-z-]*$/.test(w)) break;
            out.push(w);
          }
          return out;
        };
        const commands = block.split('\n').map((line) => words(line.trim().split(/\s{2,}/)[0]).join(' '));
        assert.ok(commands.includes('start') && commands.includes('payment show') && commands.length >= 16, block);
        const guide = await readFile(join(ROOT, 'docs/operations.md'), 'utf8');
        const section = guide.split('\n## Command line\n')[1]?.split('\n## ')[0];
        assert.ok(section, 'the operations guide has a "Command line" section');
        const shown = [...section.matchAll(/^npx vipps-psp ([^\n#`]*)/gm)].map((m) => words(m[1])).filter((w) => w.length > 0);
        const startsWith = (w: string[], command: string) => w.slice(0, command.split(' ').length).join(' ') === command;
        for (const command of commands) {
          assert.ok(shown.some((w) => startsWith(w, command)), `the guide shows an example of vipps-psp ${command}`);
        }
        for (const w of shown) {
          assert.ok(commands.some((c) => startsWith(w, c)), `the guide's "vipps-psp ${w.join(' ')}" is a command of --help`);
        }
      });

      it('migrate --help and psp create --help describe the command, exit 0', async () => {
        const [migrate, psp] = await Promise.all([cli(['migrate', '--help']), cli(['psp', 'create', '--help'])]);
        assert.equal(migrate.code, 0, migrate.stderr);
        assert.match(migrate.stdout, /Usage: vipps-psp migrate/);
        assert.match(migrate.stdout, /DATABASE_URL/);
        assert.equal(psp.code, 0, psp.stderr);
        assert.match(psp.stdout, /Usage: vipps-psp psp create/);
        assert.match(psp.stdout, /--name/);
        assert.match(psp.stdout, /--admin-token/);
      });

      it('an unknown command or option is a usage error, exit 2', async () => {
        const [unknown, option] = await Promise.all([cli(['frobnicate']), cli(['user', 'list', '--frob'])]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.stderr, /Unknown command "frobnicate"/);
        assert.equal(option.code, 2);
        assert.match(option.stderr, /Unknown option '--frob'/);
        assert.match(option.stderr, /Usage: vipps-psp user list\n[\s\S]*--admin-token TOKEN/, 'followed by the command\'s help');
        assert.equal(option.stdout, '');
      });
    });

    describe('operator commands against a running server', { concurrency: 1 }, () => {
      it('psp create --json prints the credentials, which work at /accessToken/get', async () => {
        const run = await cli(['psp', 'create', '--name', 'CLI PSP', ...remote(), '--json']);
        assert.equal(run.code, 0, run.stderr);
        const created = JSON.parse(run.stdout);
        assert.equal(created.name, 'CLI PSP');
        assert.equal(typeof created.clientSecret, 'string');
        assert.ok(created.clientSecret.length > 0);
        assert.match(created.pspId, /^[0-9A-F]{32}$/);
        const token = await call(server.url, 'POST', '/accessToken/get', {
          headers: { client_id: created.clientId, client_secret: created.clientSecret, 'Ocp-Apim-Subscription-Key': created.subscriptionKey },
        });
        assert.equal(token.status, 200, token.text);
      });

      it('psp create without --json prints the credentials for a human', async () => {
        const run = await cli(['psp', 'create', '--name', 'Human PSP', ...remote()]);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /Created PSP "Human PSP"/);
        assert.match(run.stdout, /client_secret:\s+\S+/);
        assert.match(run.stdout, /Ocp-Apim-Subscription-Key:\s+[0-9a-f]{32}/);
      });

      it('psp rotate-secret prints a new client_secret; the old one stops working; psp readiness prints the report', async () => {
        const created = JSON.parse((await cli(['psp', 'create', '--name', 'Rotated PSP', ...remote(), '--json'])).stdout);
        const tokenWith = (secret: string) => call(server.url, 'POST', '/accessToken/get', {
          headers: { client_id: created.clientId, client_secret: secret, 'Ocp-Apim-Subscription-Key': created.subscriptionKey },
        });
        assert.equal((await tokenWith(created.clientSecret)).status, 200);
        const run = await cli(['psp', 'rotate-secret', created.pspId, ...remote()]);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /^New client_secret for PSP "Rotated PSP"/);
        const secret = /client_secret: (\S+)/.exec(run.stdout)![1];
        assert.equal((await tokenWith(created.clientSecret)).status, 401);
        assert.equal((await tokenWith(secret)).status, 200);
        const missing = await cli(['psp', 'rotate-secret', ...remote()]);
        assert.equal(missing.code, 2);

        const report = await cli(['psp', 'readiness', created.pspId, ...remote()]);
        assert.equal(report.code, 0, report.stderr);
        assert.match(report.stdout, /^# Go-live readiness: Rotated PSP/);
        assert.match(report.stdout, /0 of 18 items met/);
        const same = await cli(['readiness', created.pspId, ...remote()]);
        assert.equal(same.code, 0, same.stderr);
        assert.equal(same.stdout.replace(/Generated \S+/, ''), report.stdout.replace(/Generated \S+/, ''), 'readiness is psp readiness');
        const json = await cli(['readiness', created.pspId, '--json', ...remote()]);
        assert.equal(JSON.parse(json.stdout).pspId, created.pspId);
        assert.equal((await cli(['readiness', ...remote()])).code, 2);
      });

      it('user create --card VISA --card MASTERCARD prints a human summary; user list shows it', async () => {
        const run = await cli(['user', 'create', '--phone', '41234567', '--card', 'VISA', '--card', 'MASTERCARD', ...remote()]);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /^Created test user 41234567 \(Test user 41234567\) with VISA •••• \d{4}, MASTERCARD •••• \d{4}\n$/);
        const listed = await cli(['user', 'list', ...remote()]);
        assert.equal(listed.code, 0, listed.stderr);
        const lines = listed.stdout.trim().split('\n');
        assert.match(lines[0], /^phone\s+name\s+pin\s+cards$/);
        const row = lines.find((l) => l.startsWith('41234567'));
        assert.ok(row, listed.stdout);
        assert.match(row, /\sno\s+VISA \d{4}, MASTERCARD \d{4}$/);
        assert.ok(lines.some((l) => l.startsWith(DEMO.userPhone)), 'the demo user is listed');
        const users = (await call(server.url, 'GET', '/admin/users', { headers: adminHeaders() })).body.users;
        assert.deepEqual(users.find((u: { phone: string }) => u.phone === '41234567').cards.map((c: { brand: string }) => c.brand), ['VISA', 'MASTERCARD']);
      });

      it('user create --pin sets an app login PIN; user set-pin changes and removes it', async () => {
        const run = await cli(['user', 'create', '--phone', '41234590', '--pin', '4711', ...remote()]);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stdout, 'Created test user 41234590 (Test user 41234590) with VISA •••• 0010; app login PIN set\n');
        const hasPin = async () => (await call(server.url, 'GET', '/admin/users', { headers: adminHeaders() })).body.users
          .find((u: { phone: string }) => u.phone === '41234590').hasPin as boolean;
        assert.equal(await hasPin(), true);
        const listed = await cli(['user', 'list', ...remote()]);
        assert.match(listed.stdout.split('\n').find((l) => l.startsWith('41234590')) ?? '', /\syes\s+VISA 0010$/);

        const changed = await cli(['user', 'set-pin', '--phone', '41234590', '--pin', '080808', ...remote()]);
        assert.equal(changed.code, 0, changed.stderr);
        assert.equal(changed.stdout, 'Test user 41234590 (Test user 41234590): app login PIN set\n');
        const removed = await cli(['user', 'set-pin', '--phone', '41234590', '--remove', ...remote()]);
        assert.equal(removed.code, 0, removed.stderr);
        assert.equal(removed.stdout, 'Test user 41234590 (Test user 41234590): no app login PIN\n');
        assert.equal(await hasPin(), false);

        const both = await cli(['user', 'set-pin', '--phone', '41234590', '--pin', '1234', '--remove', ...remote()]);
        assert.equal(both.code, 2);
        assert.match(both.stderr, /either --pin PIN or --remove/);
        const bad = await cli(['user', 'set-pin', '--phone', '41234590', '--pin', '12', ...remote()]);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /400/);
        assert.match(bad.stderr, /pin/);
        assert.equal(await hasPin(), false, 'refused commands changed nothing');
      });

      it('merchant set 123456 --skip-landing-page true changes the flag', async () => {
        const run = await cli(['merchant', 'set', DEMO.msn, '--skip-landing-page', 'true', ...remote()]);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.stdout, `Merchant ${DEMO.msn} (Acme Shop): status ACTIVE, skipLandingPage true\n`);
        const merchants = (await call(server.url, 'GET', '/admin/merchants', { headers: adminHeaders() })).body.merchants;
        assert.equal(merchants.find((m: { merchantSerialNumber: string }) => m.merchantSerialNumber === DEMO.msn).skipLandingPage, true);
      });

      it('status-batch run applies stored updates; runs and rejected list them; payment show prints the payment', async () => {
        const { PspStub } = await import('./support/psp-stub.ts');
        const { initBody, initOk, forceApprove } = await import('./support/payments.ts');
        const { pspHeaders } = await import('./support/server.ts');
        const stub = await PspStub.start();
        try {
          const h = await pspHeaders(server.url);
          const { id, token } = await initOk(server.url, h, initBody(stub.url, { amount: 5000 }));
          assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
          await call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', { headers: h, body: { transactions: [
            { pspTransactionId: id, status: 'CAPTURED', amount: 2000 }, { pspTransactionId: id, status: 'REFUNDED', amount: 9000 },
          ] } });
          const run = await cli(['status-batch', 'run', ...remote()]);
          assert.equal(run.code, 0, run.stderr);
          assert.match(run.stdout, /applied 1, rejected 1 \(EXCEEDS_CAPTURED 1\)/);
          const runs = await cli(['status-batch', 'runs', ...remote()]);
          assert.equal(runs.code, 0, runs.stderr);
          assert.match(runs.stdout, /Pending updates: 0/);
          assert.match(runs.stdout, /manual/);
          const rejected = await cli(['status-batch', 'rejected', '--json', ...remote()]);
          assert.equal(rejected.code, 0, rejected.stderr);
          assert.equal(JSON.parse(rejected.stdout).rejected[0].reason, 'EXCEEDS_CAPTURED');
          const show = await cli(['payment', 'show', DEMO.psp.pspId, id, ...remote()]);
          assert.equal(show.code, 0, show.stderr);
          assert.match(show.stdout, new RegExp(`Payment ${id} \\(MSN 123456\\): RESERVED, 5000 øre`));
          assert.match(show.stdout, /CAPTURED\s+2000\s+true/);
          assert.match(show.stdout, /ACCEPTED\s+200\s+RESERVED/);

          const others = await Promise.all([1, 2].map(() => initOk(server.url, h, initBody(stub.url, { amount: 1250 }))));
          const list = await cli(['payment', 'list', '--psp', DEMO.psp.pspId, '--limit', '2', ...remote()]);
          assert.equal(list.code, 0, list.stderr);
          const lines = list.stdout.trim().split('\n');
          assert.match(lines[0], /^createdAt\s+pspId\s+merchantSerialNumber\s+pspTransactionId\s+merchantOrderId\s+amount\s+state$/);
          assert.equal(lines.filter((l) => /INITIATED$/.test(l)).length, 2);
          assert.ok(others.every((o) => list.stdout.includes(o.id)), 'the two newest');
          assert.match(lines[1], /12\.50 NOK\s+INITIATED$/);
          const more = /^More: --after (\S+)$/.exec(lines.at(-1)!);
          assert.ok(more, list.stdout);
          const next = await cli(['payment', 'list', '--psp', DEMO.psp.pspId, '--limit', '2', '--after', more[1], '--json', ...remote()]);
          assert.equal(next.code, 0, next.stderr);
          assert.equal(JSON.parse(next.stdout).payments[0].pspTransactionId, id, 'the next page goes on with the older one');
          const reserved = JSON.parse((await cli(['payment', 'list', '--state', 'reserved', '--search', id, '--json', ...remote()])).stdout);
          assert.deepEqual(reserved.payments.map((p: { state: string }) => p.state), ['RESERVED']);
          assert.equal(reserved.next, null);
          const none = await cli(['payment', 'list', '--since', '2999-01-01T00:00:00Z', ...remote()]);
          assert.equal(none.stdout.trim(), '(none)');
          const wrong = await cli(['payment', 'list', '--limit', '500', ...remote()]);
          assert.equal(wrong.code, 1);
          assert.match(wrong.stderr, /400.*limit/s);
        } finally {
          await stub.close();
        }
      });

      it('agreement list and agreement show print Recurring agreements with their charges and card callbacks', async () => {
        const { CardCallbackStub } = await import('./support/card-callback-stub.ts');
        const { pspHeaders } = await import('./support/server.ts');
        const stub = await CardCallbackStub.start(DEMO.psp.clientSecret);
        try {
          const h = await pspHeaders(server.url);
          const drafted = await call(server.url, 'POST', '/recurring/v3/agreements', {
            headers: { ...h, 'idempotency-key': 'cli-agreement-1' },
            body: {
              pricing: { type: 'LEGACY', currency: 'NOK', amount: 5000 }, interval: { unit: 'WEEK', count: 2 },
              initialCharge: { amount: 5000, description: 'First', transactionType: 'DIRECT_CAPTURE' },
              merchantRedirectUrl: 'https://shop.example/r', merchantAgreementUrl: 'https://shop.example/a', productName: 'CLI box',
              cardPassthrough: { pspReference: 'cli-1', cardCallbackUrl: stub.url, allowedCardTypes: ['VISA_DEBIT'] },
            },
          });
          assert.equal(drafted.status, 201, drafted.text);
          const id = drafted.body.agreementId as string;
          const accepted = await call(server.url, 'PATCH', `/recurring/v3/agreements/${id}/accept`, { headers: { ...h, 'idempotency-key': 'cli-accept-1' }, body: { phoneNumber: DEMO.userPhone } });
          assert.equal(accepted.status, 204, accepted.text);
          const list = await cli(['agreement', 'list', '--psp', DEMO.psp.pspId, ...remote()]);
          assert.equal(list.code, 0, list.stderr);
          assert.match(list.stdout, new RegExp(`${id}\\s+CLI box\\s+ACTIVE`));
          const show = await cli(['agreement', 'show', id, ...remote()]);
          assert.equal(show.code, 0, show.stderr);
          assert.match(show.stdout, new RegExp(`Agreement ${id} \\(MSN 123456\\): ACTIVE, CLI box, user ${DEMO.userPhone}`));
          assert.match(show.stdout, /INITIAL\s+5000\s+CHARGED/);
          assert.match(show.stdout, /SIGNUP\s+1\s+RESERVE\s+200/);
          const missing = await cli(['agreement', 'show', 'agr_nothere', ...remote()]);
          assert.equal(missing.code, 1);
        } finally {
          await stub.close();
        }
      });

      it('takes the server and token from VIPPS_PSP_URL and ADMIN_TOKEN', async () => {
        const run = await cli(['psp', 'list', '--json'], { VIPPS_PSP_URL: server.url, ADMIN_TOKEN });
        assert.equal(run.code, 0, run.stderr);
        assert.ok(JSON.parse(run.stdout).psps.some((p: { pspId: string }) => p.pspId === DEMO.psp.pspId));
      });

      it('a wrong admin token exits 1 with the error on stderr', async () => {
        const run = await cli(['user', 'list', '--url', server.url, '--admin-token', 'wrong-admin-token-000000']);
        assert.equal(run.code, 1);
        assert.match(run.stderr, /401/);
        assert.match(run.stderr, /ADMIN_TOKEN/);
        assert.equal(run.stdout, '');
      });

      it('a server-side rejection exits 1 and names the field', async () => {
        const run = await cli(['user', 'create', '--phone', '123', ...remote()]);
        assert.equal(run.code, 1);
        assert.match(run.stderr, /400/);
        assert.match(run.stderr, /phone/);
      });

      it('merchant set without an MSN is a usage error, exit 2, and changes nothing', async () => {
        const run = await cli(['merchant', 'set', '--active', 'false', ...remote()]);
        assert.equal(run.code, 2);
        assert.match(run.stderr, /merchant serial number is required/);
        const bad = await cli(['merchant', 'set', DEMO.msn, '--active', 'maybe', ...remote()]);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /--active must be true or false/);
        const merchants = (await call(server.url, 'GET', '/admin/merchants', { headers: adminHeaders() })).body.merchants;
        assert.equal(merchants.find((m: { merchantSerialNumber: string }) => m.merchantSerialNumber === DEMO.msn).status, 'ACTIVE');
      });
    });
  });

  describe('migrate', { concurrency: 1 }, () => {
    it('applies the migrations to a fresh embedded database under DATA_DIR', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'vipps-psp-migrate-'));
      try {
        const dataDir = join(dir, 'data');
        const first = await cli(['migrate'], { DATA_DIR: dataDir });
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /Migrations applied to embedded PGlite/);
        assert.match(first.stderr, /^Creating the embedded database in \S+ \(first start, takes a few seconds\)…\nDatabase ready \(\d+ migrations applied\) in \d+\.\d s\n$/);
        assert.ok((await readdir(join(dataDir, 'pgdata'))).includes('PG_VERSION'), 'the database files were written');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('applies the migrations to a fresh PostgreSQL database', { skip: process.env.DATABASE_URL ? false : 'DATABASE_URL is not set' }, async () => {
      const fresh = await freshPostgresDatabase(process.env.DATABASE_URL!);
      try {
        const run = await cli(['migrate'], { DATABASE_URL: fresh.url });
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /Migrations applied to PostgreSQL/);
        // The migrated database serves a server.
        const server = await startTestServer({}, { databaseUrl: fresh.url });
        try {
          assert.equal((await call(server.url, 'GET', '/ready')).body.status, 'ready');
        } finally {
          await server.close();
        }
      } finally {
        await fresh.drop();
      }
    });

    it('refuses a bad configuration with exit 2 and names the variable', async () => {
      const run = await cli(['migrate'], { DATABASE_URL: 'mysql://localhost/x' });
      assert.equal(run.code, 2);
      assert.match(run.stderr, /DATABASE_URL/);
    });
  });

  // One at a time: each starts servers, and the other groups run beside them.
  describe('start', { concurrency: 1 }, () => {
    const onPostgres = { skip: process.env.DATABASE_URL ? false : 'DATABASE_URL is not set' };
    // A first start on a fresh embedded database runs initdb: on a busy machine, well over 30 s.
    const SLOW_START_MS = 120_000;

    /** A database name on the PostgreSQL of DATABASE_URL that does not exist yet, and a way to drop it. */
    function missingDatabase() {
      const name = `vipps_psp_test_${randomBytes(6).toString('hex')}`;
      const url = new URL(process.env.DATABASE_URL!);
      url.pathname = `/${name}`;
      const onServer = async <T>(work: (c: pg.Client) => Promise<T>): Promise<T> => {
        const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
        await c.connect();
        try {
          return await work(c);
        } finally {
          await c.end();
        }
      };
      return {
        name, url, onServer,
        exists: () => onServer(async (c) => (await c.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1),
        drop: () => onServer((c) => c.query(`drop database if exists ${name} with (force)`)),
      };
    }

    async function waitForOutput(child: { output(): string }, pattern: RegExp): Promise<string> {
      const deadline = Date.now() + 10_000;
      while (!pattern.test(child.output())) {
        assert.ok(Date.now() < deadline, `no ${pattern} in the output:\n${child.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return child.output();
    }

    it('a busy port is refused with exit 1 and one clear line, before DATA_DIR (or a database) is created', async () => {
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const port = (blocker.address() as { port: number }).port;
      const dir = await mkdtemp(join(tmpdir(), 'vipps-psp-port-'));
      const missing = process.env.DATABASE_URL ? missingDatabase() : undefined;
      try {
        const dataDir = join(dir, 'data');
        const run = await cli(['start'], { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir });
        assert.equal(run.code, 1, run.stderr);
        assert.equal(run.stderr, `Port ${port} on 127.0.0.1 is in use by another process. Set PORT to another port (PORT=0 picks a free one), or stop that process.\n`);
        assert.equal(run.stdout, '');
        assert.equal(existsSync(dataDir), false, 'DATA_DIR was not created');
        if (missing) {
          const onPg = await cli(['start'], { PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: missing.url.toString() });
          assert.equal(onPg.code, 1, onPg.stderr);
          assert.match(onPg.stderr, /is in use by another process/);
          assert.equal(await missing.exists(), false, 'the database was not created');
        }
      } finally {
        blocker.close();
        await rm(dir, { recursive: true, force: true });
        await missing?.drop();
      }
    });

    it('the first start says it creates the database; a restart prints no progress and says the operator token is stored', async () => {
      const storage = await persistentStorage();
      try {
        const first = await startChild({ ...storage.env, ADMIN_TOKEN: '' }, undefined, SLOW_START_MS);
        first.kill();
        await first.exited;
        const out = first.output();
        assert.match(out, /Operator API token \(shown once; set ADMIN_TOKEN to choose your own\): \S{20,}\n/);
        assert.match(out, new RegExp(`Start here: http://localhost:${first.port}/ `));
        assert.match(out, new RegExp(`The manual: http://localhost:${first.port}/guide\n`));
        if (!process.env.DATABASE_URL) {
          assert.match(out, /Creating the embedded database in \S+ \(first start, takes a few seconds\)…\n/);
          assert.match(out, /Database ready \(\d+ migrations applied\) in \d+\.\d s\n/);
        }
        const second = await startChild({ ...storage.env, ADMIN_TOKEN: '' }, undefined, SLOW_START_MS);
        second.kill();
        await second.exited;
        const again = second.output();
        assert.match(again, /Operator API token: the one printed on the first start, stored \(hashed\) in the database/);
        assert.match(again, /ADMIN_TOKEN/);
        assert.doesNotMatch(again, /shown once/);
        assert.doesNotMatch(again, /Creating the embedded database|Created database|Database ready/);
      } finally {
        await storage.drop();
      }
    });

    it('LOG_FORMAT=pretty writes readable lines with the secret headers redacted; without it a pipe gets JSON lines', async () => {
      const secret = 'a-secret-header-value-4711';
      const pretty = await startChild({ DATA_DIR: 'memory://', LOG_FORMAT: 'pretty', LOG_LEVEL: 'debug' }, undefined, SLOW_START_MS);
      const json = await startChild({ DATA_DIR: 'memory://', LOG_LEVEL: 'debug' }, undefined, SLOW_START_MS).catch((err: unknown) => {
        pretty.kill();
        throw err;
      });
      try {
        for (const child of [pretty, json]) {
          const answer = await fetch(`${child.url}/admin/psps`, { headers: { authorization: `Bearer ${secret}`, client_secret: secret, 'ocp-apim-subscription-key': secret, cookie: `s=${secret}` } });
          assert.equal(answer.status, 401);
        }
        const readable = await waitForOutput(pretty, /GET \/admin\/psps 401 [\d.]+ ms request[\s\S]*"client_secret"/);
        assert.match(readable, /"authorization": "\[redacted\]"/);
        assert.match(readable, /"client_secret": "\[redacted\]"/);
        assert.match(readable, /"ocp-apim-subscription-key": "\[redacted\]"/);
        assert.match(readable, /"cookie": "\[redacted\]"/);
        assert.ok(!readable.includes(secret), readable);
        assert.ok(!readable.split('\n').some((line) => line.startsWith('{"level"')), 'no JSON lines in pretty mode');

        const lines = await waitForOutput(json, /"path":"\/admin\/psps"/);
        const entry = lines.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, any>)
          .find((e) => e.path === '/admin/psps');
        assert.ok(entry, lines);
        assert.equal(entry.statusCode, 401);
        assert.equal(entry.headers.authorization, '[redacted]');
        assert.equal(entry.headers.client_secret, '[redacted]');
        assert.ok(!lines.includes(secret), lines);
      } finally {
        for (const child of [pretty, json]) {
          child.kill();
          await child.exited;
        }
      }
    });

    it('creates the missing PostgreSQL database of DATABASE_URL and says so', onPostgres, async () => {
      const missing = missingDatabase();
      try {
        const child = await startChild({ DATABASE_URL: missing.url.toString() }, undefined, SLOW_START_MS);
        try {
          assert.match(child.output(), new RegExp(`Created database "${missing.name}" on 127\\.0\\.0\\.1:\\d+`));
          assert.match(child.output(), /Database ready \(\d+ migrations applied\) in \d+\.\d s/);
          assert.equal((await call(child.url, 'GET', '/ready')).body.status, 'ready');
        } finally {
          child.kill();
          await child.exited;
        }
        // Started again, it finds the database and says nothing about it.
        const again = await startChild({ DATABASE_URL: missing.url.toString() }, undefined, SLOW_START_MS);
        again.kill();
        await again.exited;
        assert.doesNotMatch(again.output(), /Created database|Database ready/);
      } finally {
        await missing.drop();
      }
    });

    it('processes creating the same missing database at once all succeed', onPostgres, async () => {
      const missing = missingDatabase();
      try {
        const runs = await Promise.all([1, 2, 3].map(() => cli(['migrate'], { DATABASE_URL: missing.url.toString() })));
        for (const run of runs) assert.equal(run.code, 0, run.stderr);
        assert.equal(runs.filter((run) => run.stderr.includes(`Created database "${missing.name}"`)).length, 1, runs.map((r) => r.stderr).join('\n'));
        assert.equal(await missing.exists(), true);
      } finally {
        await missing.drop();
      }
    });

    it('a user who may not create the missing database gets exit 1 and the command that creates it', onPostgres, async () => {
      const missing = missingDatabase();
      const role = `${missing.name}_user`;
      await missing.onServer((c) => c.query(`create role ${role} login nocreatedb`));
      try {
        const url = new URL(missing.url);
        url.username = role;
        url.password = '';
        const run = await cli(['migrate'], { DATABASE_URL: url.toString() });
        assert.equal(run.code, 1, run.stderr);
        assert.match(run.stderr, new RegExp(`Database "${missing.name}" does not exist on 127\\.0\\.0\\.1:\\d+`));
        assert.match(run.stderr, /no CREATEDB privilege/);
        assert.match(run.stderr, new RegExp(`createdb -h 127\\.0\\.0\\.1 -p \\d+ -U postgres -O '${role}' '${missing.name}'`));
        assert.match(run.stderr, new RegExp(`CREATE DATABASE "${missing.name}" OWNER "${role}";`));
        assert.equal(await missing.exists(), false);
      } finally {
        await missing.drop();
        await missing.onServer((c) => c.query(`drop role if exists ${role}`));
      }
    });
  });
});
