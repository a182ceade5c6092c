// Metrics and traces, as an operator's Prometheus and OpenTelemetry collector see them: /metrics in
// the Prometheus text format (parsed by a Prometheus text parser) counting what a load sent, behind
// its token; traceparent read from requests and sent on calls to the PSP; spans exported over
// OTLP/HTTP to a collector on loopback.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import parsePrometheus from 'parse-prometheus-text-format';
import { ADMIN_TOKEN, adminHeaders, call, DEMO, pspHeaders, startTestServer, type TestServer } from '../support/server.ts';
import { PspStub } from '../support/psp-stub.ts';
import { CardCallbackStub } from '../support/card-callback-stub.ts';
import { WebhookReceiver } from '../support/webhook-receiver.ts';
import { eventually, forceApprove, initBody, initOk, uniqueId } from '../support/payments.ts';
import { formatTraceparent, parseTraceparent } from '../../src/observability/trace-context.ts';
import fc from 'fast-check';

const METRICS_TOKEN = 'metrics-token-0123456789';

async function scrape(base: string, token = METRICS_TOKEN) {
  const r = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(text);
}

type Families = ReturnType<typeof parsePrometheus>;

/** The value of one sample: the family's sample whose labels include `labels` (0 when there is none). */
function value(families: Families, name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  assert.ok(family, `the metric ${name} is exported`);
  const sample = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!sample) return 0;
  return Number(sample.value ?? sample.count);
}

function epaymentBody(reference: string, cardCallbackUrl: string) {
  return {
    amount: { currency: 'NOK', value: 1000 }, paymentMethod: { type: 'CARD_PASSTHROUGH' }, reference, userFlow: 'WEB_REDIRECT',
    returnUrl: 'https://shop.example/return',
    cardPassthrough: { pspReference: `psp-${reference}`, cardCallbackUrl, allowedCardTypes: ['VISA_DEBIT'] },
  };
}

describe('GET /metrics', () => {
  let server: TestServer;
  let cards: CardCallbackStub;
  let h: Record<string, string>;
  before(async () => {
    server = await startTestServer({ METRICS_TOKEN });
    cards = await CardCallbackStub.start(DEMO.psp.clientSecret);
    h = await pspHeaders(server.url);
  });
  after(async () => {
    await server?.close();
    await cards?.close();
  });

  it('is refused without the metrics token or the operator token, and read with either', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Basic ${METRICS_TOKEN}`]) {
      const r = await fetch(`${server.url}/metrics`, { headers: authorization ? { authorization } : {} });
      assert.equal(r.status, 401, String(authorization));
      assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="metrics"');
      const body = await r.json() as { detail: string };
      assert.match(body.detail, /METRICS_TOKEN/);
      assert.doesNotMatch(JSON.stringify(body), /vipps_psp_/);
    }
    await scrape(server.url, METRICS_TOKEN);
    await scrape(server.url, ADMIN_TOKEN);
  });

  it('counts what a load sent, by API, route, status and PSP, while it runs', async () => {
    const before = await scrape(server.url);
    const route = { api: 'epayment', route: '/epayment/v1/payments', method: 'POST', status: '201', psp: DEMO.psp.pspId };
    const readRoute = { api: 'epayment', route: '/epayment/v1/payments/:reference', method: 'GET', status: '200', psp: DEMO.psp.pspId };
    const refs = Array.from({ length: 40 }, () => `m-${randomUUID().slice(0, 20)}`);
    // The load, with scrapes in the middle of it: every one parses.
    const scrapes: Array<Promise<Families>> = [];
    await Promise.all(refs.map(async (ref, i) => {
      if (i % 10 === 0) scrapes.push(scrape(server.url));
      const created = await call(server.url, 'POST', '/epayment/v1/payments', { headers: { ...h, 'idempotency-key': ref }, body: epaymentBody(ref, cards.url) });
      assert.equal(created.status, 201, created.text);
      const got = await call(server.url, 'GET', `/epayment/v1/payments/${ref}`, { headers: h });
      assert.equal(got.status, 200);
    }));
    for (let i = 0; i < 7; i++) assert.equal((await call(server.url, 'GET', `/epayment/v1/payments/no-such-reference-${i}`, { headers: h })).status, 404);
    assert.equal((await call(server.url, 'GET', '/no/such/route')).status, 404);
    const approved = await call(server.url, 'POST', `/epayment/v1/test/payments/${refs[0]}/approve`, { headers: h, body: { customer: { phoneNumber: DEMO.userPhone } } });
    assert.equal(approved.status, 200, approved.text);
    const during = await Promise.all(scrapes);
    assert.equal(during.length, 4);

    const now = await scrape(server.url);
    const delta = (name: string, labels: Record<string, string>) => value(now, name, labels) - value(before, name, labels);
    assert.equal(delta('vipps_psp_http_requests_total', route), 40);
    assert.equal(delta('vipps_psp_http_requests_total', readRoute), 40);
    assert.equal(delta('vipps_psp_http_requests_total', { ...readRoute, status: '404' }), 7);
    assert.equal(delta('vipps_psp_http_requests_total', { api: 'none', route: '(unmatched)', status: '404', psp: '' }), 1);
    // Histograms: the parser gives a labelled histogram's buckets only merged (it flattens them), so its
    // series are read from the text as well: one observation per request.
    const histogram = now.find((f) => f.name === 'vipps_psp_http_request_duration_seconds')!;
    assert.equal(histogram.type, 'HISTOGRAM');
    assert.ok(histogram.metrics.some((m) => m.buckets?.['+Inf'] !== undefined));
    const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    const series = (suffix: string, le = '') => Number(new RegExp(`^vipps_psp_http_request_duration_seconds_${suffix}\\{${le}api="epayment",route="/epayment/v1/payments",method="POST"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.ok(series('count') >= 40, `creates observed: ${series('count')}`);
    assert.equal(series('bucket', 'le="\\+Inf",'), series('count'));
    assert.ok(series('bucket', 'le="0.001",') <= series('bucket', 'le="10",'));
    assert.ok(series('sum') > 0);
    // The card callback of the approval, by outcome, with its latency.
    assert.equal(delta('vipps_psp_outbound_calls_total', { call: 'card_callback', outcome: 'success' }), 1);
    assert.ok(Number(/^vipps_psp_outbound_call_duration_seconds_count\{call="card_callback"\} (\S+)$/m.exec(text)?.[1]) >= 1);
    // Read from the database: the payments by state.
    assert.ok(value(now, 'vipps_psp_objects', { api: 'epayment', state: 'CREATED' }) >= 39);
    assert.ok(value(now, 'vipps_psp_objects', { api: 'epayment', state: 'AUTHORIZED' }) >= 1);
    assert.equal(value(now, 'vipps_psp_webhook_backlog', { state: 'pending' }), 0);
    for (const name of ['vipps_psp_status_batch_last_finished_timestamp_seconds', 'vipps_psp_database_errors_total', 'process_cpu_seconds_total',
      'nodejs_eventloop_lag_p99_seconds', 'process_resident_memory_bytes']) {
      assert.ok(now.some((f) => f.name === name), `${name} is exported`);
    }
    if (server.databaseUrl) assert.ok(now.some((f) => f.name === 'vipps_psp_database_pool_connections'), 'the pool is reported on PostgreSQL');
  });

  it('is off with METRICS=false', async () => {
    const off = await startTestServer({ METRICS: 'false' });
    try {
      const r = await fetch(`${off.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(r.status, 404);
    } finally {
      await off.close();
    }
  });
});

/** An OpenTelemetry collector on loopback: OTLP/HTTP with JSON bodies. */
class OtlpReceiver {
  readonly spans: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes: Record<string, unknown>; service: string }> = [];
  private server!: http.Server;
  url = '';

  static async start(): Promise<OtlpReceiver> {
    const r = new OtlpReceiver();
    r.server = http.createServer((req, res) => {
      let text = '';
      req.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => {
        if (req.url === '/v1/traces' && req.method === 'POST' && /json/.test(req.headers['content-type'] ?? '')) r.take(JSON.parse(text));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}`;
    return r;
  }

  private take(body: any): void {
    for (const rs of body.resourceSpans ?? []) {
      const service = rs.resource?.attributes?.find((a: any) => a.key === 'service.name')?.value?.stringValue;
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const attributes: Record<string, unknown> = {};
          for (const a of s.attributes ?? []) attributes[a.key] = a.value?.stringValue ?? a.value?.intValue ?? a.value?.boolValue;
          this.spans.push({ traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name, kind: s.kind, attributes, service });
        }
      }
    }
  }

  async until(check: () => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) assert.fail(`the spans did not arrive: ${JSON.stringify(this.spans.map((s) => s.name))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> { await new Promise((r) => this.server.close(r)); }
}

describe('traces', () => {
  let collector: OtlpReceiver;
  let psp: PspStub;
  let cards: CardCallbackStub;
  let server: TestServer;
  let h: Record<string, string>;
  before(async () => {
    collector = await OtlpReceiver.start();
    psp = await PspStub.start();
    cards = await CardCallbackStub.start(DEMO.psp.clientSecret);
    server = await startTestServer({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_SERVICE_NAME: 'vipps-psp-under-test',
    });
    h = await pspHeaders(server.url);
  });
  after(async () => {
    await server?.close();
    await psp?.close();
    await cards?.close();
    await collector?.close();
  });

  it('an init and its makePayment arrive at the collector in the trace the PSP began', async () => {
    const traceId = randomUUID().replace(/-/g, '');
    const callerSpan = 'a1b2c3d4e5f60718';
    const id = uniqueId('trace');
    const { token } = await initOk(server.url, { ...h, traceparent: formatTraceparent(traceId, callerSpan, true) }, initBody(psp.url, { pspTransactionId: id }));
    // The user's approval is another request, in a trace of its own; the makePayment it causes
    // belongs to the init's.
    const approved = await forceApprove(server.url, h, id, token);
    assert.equal(approved.status, 200, approved.text);
    const [sent] = psp.callsFor(id);
    const header = parseTraceparent(sent.headers.traceparent);
    assert.ok(header, `makePayment carries a traceparent: ${sent.headers.traceparent}`);
    assert.equal(header.traceId, traceId);

    await collector.until(() => collector.spans.some((s) => s.traceId === traceId && s.name === 'POST makePayment'));
    const init = collector.spans.find((s) => s.traceId === traceId && s.name === 'POST /psp/v3/psppayments/init');
    assert.ok(init, `the init's span: ${JSON.stringify(collector.spans.filter((s) => s.traceId === traceId))}`);
    assert.equal(init.parentSpanId, callerSpan);
    assert.equal(init.kind, 2, 'a server span');
    assert.equal(init.service, 'vipps-psp-under-test');
    assert.equal(Number(init.attributes['http.response.status_code']), 200);
    const makePayment = collector.spans.find((s) => s.traceId === traceId && s.name === 'POST makePayment')!;
    assert.equal(makePayment.parentSpanId, init.spanId);
    assert.equal(makePayment.kind, 3, 'a client span');
    assert.equal(header.parentId, makePayment.spanId, 'the PSP is told the makePayment span is its parent');
    assert.equal(makePayment.attributes['vipps_psp.outcome'], 'success');
  });

  it('a TIMEOUT notification, sent by the expiry sweep, is in the trace of its init', async () => {
    const traceId = randomUUID().replace(/-/g, '');
    const id = uniqueId('trace');
    await initOk(server.url, { ...h, traceparent: formatTraceparent(traceId, 'c0ffee00c0ffee00', true) }, initBody(psp.url, { pspTransactionId: id }));
    const moved = await call(server.url, 'POST', '/admin/clock/advance', { headers: adminHeaders(), body: { seconds: 900 } });
    assert.equal(moved.status, 200, moved.text);
    try {
      await eventually(async () => psp.callsFor(id), (calls) => calls.some((c) => c.body?.paymentState === 'TIMEOUT'));
      const sent = psp.callsFor(id).find((c) => c.body?.paymentState === 'TIMEOUT')!;
      assert.equal(parseTraceparent(sent.headers.traceparent)?.traceId, traceId);
    } finally {
      await call(server.url, 'POST', '/admin/clock/reset', { headers: adminHeaders() });
    }
  });

  it('a card callback carries the approving request\'s trace; an ePayment problem\'s traceId is in the caller\'s trace', async () => {
    const traceId = randomUUID().replace(/-/g, '');
    const reference = `t-${randomUUID().slice(0, 20)}`;
    const created = await call(server.url, 'POST', '/epayment/v1/payments', { headers: { ...h, 'idempotency-key': reference }, body: epaymentBody(reference, cards.url) });
    assert.equal(created.status, 201, created.text);
    const approve = await call(server.url, 'POST', `/epayment/v1/test/payments/${reference}/approve`, {
      headers: { ...h, traceparent: formatTraceparent(traceId, '00f067aa0ba902b7', true) }, body: { customer: { phoneNumber: DEMO.userPhone } },
    });
    assert.equal(approve.status, 200, approve.text);
    const callback = cards.calls.find((c) => c.body?.pspReference === `psp-${reference}`)!;
    assert.equal(parseTraceparent(callback.headers.traceparent)?.traceId, traceId);
    assert.equal(callback.signatureProblem, undefined, 'the signature still verifies');

    const problem = await call(server.url, 'GET', '/epayment/v1/payments/no-such-reference', { headers: { ...h, traceparent: formatTraceparent(traceId, '00f067aa0ba902b7', false) } });
    assert.equal(problem.status, 404);
    const given = parseTraceparent(problem.body.traceId);
    assert.equal(given?.traceId, traceId);
    assert.equal(given?.sampled, false, 'the caller\'s sampled flag is kept');
    // A malformed traceparent starts a trace of its own.
    const fresh = await call(server.url, 'GET', '/epayment/v1/payments/no-such-reference', { headers: { ...h, traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` } });
    assert.notEqual(parseTraceparent(fresh.body.traceId)?.traceId, '0'.repeat(32));
    assert.match(fresh.body.traceId, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('a webhook carries a trace of its own, never that of the request which happened to wake the sender', async () => {
    const receiver = await WebhookReceiver.start();
    try {
      const registered = await call(server.url, 'POST', '/webhooks/v1/webhooks', { headers: h, body: { url: receiver.url, events: ['epayments.payment.created.v1'] } });
      assert.equal(registered.status, 201, registered.text);
      receiver.secret = registered.body.secret;
      // Two creates at once, each in its caller's trace: one round of the sender may send both events.
      const traces = [randomUUID().replace(/-/g, ''), randomUUID().replace(/-/g, '')];
      const references = traces.map(() => `w-${randomUUID().slice(0, 20)}`);
      const created = await Promise.all(references.map((reference, i) => call(server.url, 'POST', '/epayment/v1/payments', {
        headers: { ...h, 'idempotency-key': reference, traceparent: formatTraceparent(traces[i], '00f067aa0ba902b7', true) }, body: epaymentBody(reference, cards.url),
      })));
      for (const c of created) assert.equal(c.status, 201, c.text);
      const arrived = await receiver.until(2);
      assert.equal(arrived.length, 2);
      for (const delivery of arrived) {
        assert.equal(delivery.signatureProblem, undefined);
        const header = parseTraceparent(delivery.headers.traceparent);
        assert.ok(header, `a webhook carries a traceparent: ${delivery.headers.traceparent}`);
        assert.ok(!traces.includes(header.traceId), 'not in a request\'s trace');
      }
      assert.notEqual(parseTraceparent(arrived[0].headers.traceparent)?.traceId, parseTraceparent(arrived[1].headers.traceparent)?.traceId, 'one trace per webhook');
    } finally {
      await receiver.close();
    }
  });
});

describe('traceparent', () => {
  it('parses version 00 and later versions, and refuses what the specification calls invalid', () => {
    assert.deepEqual(parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), { traceId: '0af7651916cd43dd8448eb211c80319c', parentId: 'b7ad6b7169203331', sampled: true });
    assert.equal(parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00')?.sampled, false);
    assert.equal(parseTraceparent('01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra')?.traceId, '0af7651916cd43dd8448eb211c80319c');
    for (const bad of [
      undefined, '', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      `00-${'0'.repeat(32)}-b7ad6b7169203331-01`, `00-0af7651916cd43dd8448eb211c80319c-${'0'.repeat(16)}-01`,
      '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01', '00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
    ]) assert.equal(parseTraceparent(bad), undefined, JSON.stringify(bad));
  });

  it('property: what is formatted parses back; any other text is refused or parsed, never thrown on', () => {
    const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`)).filter((s) => !/^0+$/.test(s));
    fc.assert(fc.property(hex(32), hex(16), fc.boolean(), (traceId, spanId, sampled) => {
      assert.deepEqual(parseTraceparent(formatTraceparent(traceId, spanId, sampled)), { traceId, parentId: spanId, sampled });
    }));
    fc.assert(fc.property(fc.string({ maxLength: 600 }), (text) => {
      const parsed = parseTraceparent(text);
      if (parsed) assert.match(parsed.traceId, /^[0-9a-f]{32}$/);
    }));
  });
});
