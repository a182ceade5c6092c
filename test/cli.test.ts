// The `vipps-psp` command, spawned as a child process against a running test server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, adminHeaders, call, DEMO, freshPostgresDatabase, startTestServer, type TestServer } from './support/server.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'vipps-psp.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without anything that would change what the CLI does. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['DATABASE_URL', 'DATA_DIR', 'ADMIN_TOKEN', 'VIPPS_PSP_URL', 'PORT', 'PUBLIC_URL', 'VIPPS_ENV', 'LOG_LEVEL', 'NODE_OPTIONS', 'NODE_TEST_CONTEXT']) {
    delete env[name];
  }
  return { ...env, ...extra };
}

/** Runs the CLI asynchronously (the server under test lives in this process, so never spawnSync). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    // Only a guard against a hung child: initdb of a fresh embedded database takes 10-30 s on a busy machine.
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

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
        assert.match(option.stderr, /frob/);
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
});
