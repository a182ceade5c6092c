// `vipps-psp clock`, `reset` and `fault`, spawned as child processes against a running test server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, adminHeaders, call, DEMO, pspHeaders, startTestServer, type TestServer } from './support/server.ts';
import { PspStub } from './support/psp-stub.ts';
import { details, init, initBody, initOk } from './support/payments.ts';
import { runCli } from './support/child.ts';

const cli = runCli;

describe('vipps-psp clock, reset and fault', { concurrency: 1 }, () => {
  let server: TestServer;
  let stub: PspStub;
  const remote = () => ['--url', server.url, '--admin-token', ADMIN_TOKEN];

  before(async () => {
    stub = await PspStub.start();
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  it('--help lists the commands; clock advance --help describes the durations', async () => {
    const [help, advance] = await Promise.all([cli(['--help']), cli(['clock', 'advance', '--help'])]);
    assert.equal(help.code, 0, help.stderr);
    for (const text of ['clock show', 'clock advance', 'clock reset', 'reset [--psp PSP_ID]', 'fault add', 'fault list', 'fault clear']) {
      assert.ok(help.stdout.includes(text), `--help mentions ${text}`);
    }
    assert.equal(advance.code, 0);
    assert.match(advance.stdout, /Usage: vipps-psp clock advance DURATION/);
    assert.match(advance.stdout, /10m, 2h, 1d/);
  });

  it('clock show, clock advance 10m (timing out a waiting payment), clock reset', async () => {
    const shown = await cli(['clock', 'show', ...remote()]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^Server time \S+Z \(the real time\)\n$/);

    const h = await pspHeaders(server.url);
    const { id } = await initOk(server.url, h, initBody(stub.url));
    const advanced = await cli(['clock', 'advance', '10m', ...remote()]);
    assert.equal(advanced.code, 0, advanced.stderr);
    assert.match(advanced.stdout, /^Server time \S+Z \(600 s ahead of the real time\)\n$/);
    const payment = (await call(server.url, 'GET', `/admin/payments/${DEMO.psp.pspId}/${id}`, { headers: adminHeaders() })).body;
    assert.equal(payment.state, 'TIMEOUT');

    const json = await cli(['clock', 'advance', '1h', '--json', ...remote()]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).offsetSeconds, 4200);

    const reset = await cli(['clock', 'reset', ...remote()]);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /\(the real time\)/);
    assert.equal((await call(server.url, 'GET', '/admin/clock', { headers: adminHeaders() })).body.offsetSeconds, 0);
  });

  it('clock advance refuses a bad duration (2) and a time in the past (1)', async () => {
    const [bad, none, past] = await Promise.all([
      cli(['clock', 'advance', '10 minutes', ...remote()]),
      cli(['clock', 'advance', ...remote()]),
      cli(['clock', 'advance', '--to', '2000-01-01T00:00:00Z', ...remote()]),
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a duration/);
    assert.equal(none.code, 2);
    assert.equal(past.code, 1);
    assert.match(past.stderr, /^Error 400: The clock never goes back/);
  });

  it('fault add --route init --status 503 --times 2, fault list, fault clear', async () => {
    const added = await cli(['fault', 'add', '--route', 'init', '--status', '503', '--times', '2', '--psp', DEMO.psp.pspId, ...remote()]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^Added fault rule \d+\n/);
    assert.match(added.stdout, /init\s+status 503\s+psp \S+\s+2\s+0/);
    const h = await pspHeaders(server.url);
    assert.equal((await init(server.url, h, initBody(stub.url))).status, 503);

    const listed = await cli(['fault', 'list', ...remote()]);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trim().split('\n');
    assert.match(lines[0], /^id\s+route\s+effect\s+scope\s+remaining\s+probability\s+hits\s+expiresAt$/);
    assert.match(lines[1], /^\d+\s+init\s+status 503\s+psp \S+\s+1\s+1$/);

    const cleared = await cli(['fault', 'clear', ...remote()]);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal(cleared.stdout, 'Removed 1 fault rule(s)\n');
    assert.equal((await init(server.url, h, initBody(stub.url))).status, 200);
    assert.equal((await cli(['fault', 'list', ...remote()])).stdout, '(none)\n');
  });

  it('fault add refuses a rule without an effect (1) and a bad number (2)', async () => {
    const [empty, bad] = await Promise.all([
      cli(['fault', 'add', '--route', 'init', ...remote()]),
      cli(['fault', 'add', '--route', 'init', '--status', 'lots', ...remote()]),
    ]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /Error 400/);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--status must be a whole number/);
  });

  it('reset --psp deletes that PSP\'s payments; reset deletes all', async () => {
    const h = await pspHeaders(server.url);
    const { id } = await initOk(server.url, h, initBody(stub.url));
    const one = await cli(['reset', '--psp', DEMO.psp.pspId, ...remote()]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, new RegExp(`^Reset PSP ${DEMO.psp.pspId}: deleted .*payments \\d+`));
    assert.equal((await details(server.url, h, id)).status, 404);
    const all = await cli(['reset', '--json', ...remote()]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(JSON.parse(all.stdout).pspId, null);
    const unknown = await cli(['reset', '--psp', 'NOSUCHPSP', ...remote()]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Error 404/);
  });
});
