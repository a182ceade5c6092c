// The console's status batch page: the queue, run now with its progress, the runs (an interrupted
// run and the run that resumed it too), and the rejected updates filtered and paged.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { call, createPsp, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { forceApprove, initBody, initOk, uniqueId } from '../support/payments.ts';
import { ConsoleBrowser, signedIn, textOf } from '../support/console.ts';

describe('console: status batch', () => {
  let server: TestServer;
  let stub: PspStub;
  let h: Record<string, string>;
  let browser: ConsoleBrowser;

  before(async () => {
    stub = await PspStub.start();
    // One update per chunk, so that a run of a hundred updates is seen while it runs.
    server = await startTestServer({ STATUS_BATCH_CHUNK_SIZE: '1' });
    h = await pspHeaders(server.url);
    browser = await signedIn(server.url);
  });
  after(async () => {
    await server.close();
    await stub.close();
  });

  const post = async (transactions: object[]) => {
    const answer = await call(server.url, 'POST', '/psp/v3/psppayments/updatestatus', { headers: h, body: { transactions } });
    assert.equal(answer.status, 200, answer.text);
  };
  const progress = async () => {
    const answer = await browser.get('/console/batch/progress');
    assert.equal(answer.status, 200);
    return JSON.parse(answer.html);
  };
  const untilIdle = async () => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const p = await progress();
      if (!p.running && p.pending === 0) return p;
      assert.ok(Date.now() < deadline, `the run did not finish: ${JSON.stringify(p)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('is only for a signed-in operator, and run now needs the form token', async () => {
    const anonymous = new ConsoleBrowser(server.url);
    const page = await anonymous.get('/console/batch');
    assert.equal(page.status, 303);
    assert.equal(page.location, '/console/sign-in?next=%2Fconsole%2Fbatch');
    assert.equal((await anonymous.post('/console/batch/run')).status, 401);
    assert.notEqual((await anonymous.get('/console/batch/progress')).status, 200);
    const forged = await browser.request('POST', '/console/batch/run', { form: { _csrf: 'forged' } });
    assert.equal(forged.status, 403);
    assert.equal((await progress()).running, false);
  });

  it('shows the updates waiting; run now applies them and the page shows the run, its progress and the rejections', async () => {
    const empty = await browser.get('/console/batch');
    assert.equal(empty.status, 200);
    assert.match(textOf(empty.html), /Updates waiting 0/);
    assert.match(textOf(empty.html), /No run yet/);

    const { id, token } = await initOk(server.url, h, initBody(stub.url, { amount: 10000 }));
    assert.equal((await forceApprove(server.url, h, id, token)).status, 200);
    const ghosts = Array.from({ length: 120 }, () => ({ pspTransactionId: uniqueId('ghost'), status: 'CAPTURED', amount: 100 }));
    await post([{ pspTransactionId: id, status: 'CAPTURED', amount: 4000 }, { pspTransactionId: id, status: 'CAPTURED', amount: 99999 }, ...ghosts]);
    assert.equal((await progress()).pending, 122);
    const waiting = await browser.get('/console/batch');
    assert.match(textOf(waiting.html), /Updates waiting 122/);

    const started = await browser.post('/console/batch/run');
    assert.equal(started.status, 303);
    assert.equal(started.location, '/console/batch?done=started');
    // While it runs, the progress shows the run and its figures growing.
    let seenRunning: any;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const p = await progress();
      if (p.running && p.runs[0].applied + p.runs[0].rejected > 0) seenRunning ??= p;
      if (!p.running && p.pending === 0) break;
      assert.ok(Date.now() < deadline, 'the run did not finish');
    }
    assert.ok(seenRunning, 'the run was seen running with figures');
    assert.equal(seenRunning.runs[0].status, 'running');
    assert.equal(seenRunning.applied + seenRunning.rejected, seenRunning.runs[0].applied + seenRunning.runs[0].rejected);
    assert.ok(seenRunning.pending < 122);
    const runId = seenRunning.runs[0].runId;

    const page = await browser.get('/console/batch?done=started');
    const text = textOf(page.html);
    assert.match(text, /A run was started/);
    assert.match(text, /Updates waiting 0/);
    // Just started: the page follows the run (a script polls; without script it reloads itself).
    assert.match(page.html, /data-poll-url="\/console\/batch\/progress"/);
    assert.match(page.html, /<noscript><meta http-equiv="refresh" content="3"><\/noscript>/);
    const idle = await browser.get('/console/batch');
    assert.doesNotMatch(idle.html, /data-poll-url|http-equiv="refresh"/);
    const row = textOf(/<tr id="run-\d+">[\s\S]*?<\/tr>/.exec(page.html)![0]);
    assert.match(row, new RegExp(`^${runId} manual finished .* 1 121 EXCEEDS_RESERVED: 1, UNKNOWN_PAYMENT: 120`));
  });

  it('filters the rejected updates by reason, PSP and run, and pages through them newest first', async () => {
    const byReason = await browser.get('/console/batch?reason=EXCEEDS_RESERVED');
    assert.equal(byReason.status, 200);
    const rows = byReason.html.match(/<tr>\s*<td>\d+<\/td>/g) ?? [];
    assert.equal(rows.length, 1);
    assert.match(textOf(byReason.html), /CAPTURED 999\.99 NOK EXCEEDS_RESERVED The amount exceeds what is left to capture/);

    const other = await createPsp(server.url, 'Quiet PSP');
    const none = await browser.get(`/console/batch?psp=${other.pspId}`);
    assert.match(textOf(none.html), /No rejected update matches the filter/);
    assert.equal((await browser.get('/console/batch?reason=NOPE')).status, 400);
    assert.equal((await browser.get('/console/batch?run=abc')).status, 400);
    assert.equal((await browser.get('/console/batch?run=999999')).status, 200);

    const first = await browser.get(`/console/batch?psp=${DEMO.psp.pspId}&reason=UNKNOWN_PAYMENT`);
    const ids = (html: string) => [...html.matchAll(/<tr>\s*<td>(\d+)<\/td>/g)].map((m) => Number(m[1]));
    const page1 = ids(first.html);
    assert.equal(page1.length, 50);
    assert.deepEqual(page1, [...page1].sort((a, b) => b - a), 'newest first');
    const older = /href="(\/console\/batch\?[^"]*before=\d+[^"]*)#rejected">Older rejected/.exec(first.html);
    assert.ok(older, 'a link to the older ones');
    const next = older[1].replace(/&amp;/g, '&');
    assert.match(next, /psp=.*reason=UNKNOWN_PAYMENT/, 'the filter is kept');
    let all = [...page1];
    let url: string | undefined = next;
    while (url) {
      const p = await browser.get(url);
      all = all.concat(ids(p.html));
      const more = /href="(\/console\/batch\?[^"]*before=\d+[^"]*)#rejected">Older rejected/.exec(p.html);
      url = more ? more[1].replace(/&amp;/g, '&') : undefined;
    }
    assert.equal(all.length, 120);
    assert.equal(new Set(all).size, 120, 'no update on two pages');
  });

  it('shows an interrupted run and the run that resumed it', async () => {
    const db = server.services.database.db;
    const [interrupted] = (await db.execute(sql`
      insert into batch_runs (trigger, started_at, lease_until, applied, rejected, rejected_by_reason)
      values ('schedule', now() - interval '1 hour', now() - interval '59 minutes', 7, 1, '{"CURRENCY": 1}'::jsonb)
      returning run_id`) as unknown as { rows: Array<{ run_id: string | number }> }).rows;
    await post([{ pspTransactionId: uniqueId('late'), status: 'CAPTURED', amount: 100 }]);
    assert.equal((await browser.post('/console/batch/run')).status, 303);
    await untilIdle();
    const page = await browser.get('/console/batch');
    const row = (runId: number) => textOf(new RegExp(`<tr id="run-${runId}">[\\s\\S]*?</tr>`).exec(page.html)![0]);
    const interruptedId = Number(interrupted.run_id);
    assert.match(row(interruptedId), new RegExp(`^${interruptedId} schedule interrupted .* 7 1 CURRENCY: 1$`));
    const resumedBy = Number(/<tr id="run-(\d+)">/.exec(page.html)![1]);
    assert.ok(resumedBy > interruptedId);
    assert.match(row(resumedBy), new RegExp(`manual finished .* 0 1 UNKNOWN_PAYMENT: 1 run ${interruptedId}$`));
  });
});
