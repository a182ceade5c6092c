// Prometheus metrics (prom-client), one registry per server: requests by API family, route, status and
// PSP with latency histograms; outbound calls by kind and outcome with latency; and, read from the
// database when scraped (so every process sharing it reports the same), the webhook backlog, the
// objects of each API by state and the status batch runs. Process metrics are prom-client's defaults.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { clusterMetricsReader } from './cluster-metrics.ts';

/** Seconds: from a fast read to a callback's timeout. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export type OutboundCall = 'make_payment' | 'card_callback' | 'webhook';
/** 2xx; another status; no answer in time; the connection failed or was refused. */
export type OutboundOutcome = 'success' | 'http_error' | 'timeout' | 'network_error';

/** What the database reports when scraped (store/metrics.ts). */
export interface DatabaseFigures {
  objects: Array<{ api: string; state: string; count: number }>;
  webhookBacklog: { pending: number; due: number; oldestDueSeconds: number };
  batchRuns: Array<{ trigger: string; state: string; count: number }>;
  lastBatchFinishedAt: Date | null;
}

export interface MetricsSources {
  /** The figures read from the database (cached by the caller for a few seconds). */
  database(): Promise<DatabaseFigures>;
  /** The PostgreSQL pool, when there is one. */
  pool?(): { total: number; idle: number; waiting: number };
  /**
   * A worker of WORKERS > 1: a scrape answers the whole server's figures, gathered by the primary
   * (observability/cluster-metrics.ts), not this process's alone.
   */
  clustered?: boolean;
}

type Child<T> = { inc(n?: number): void } & T;

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'api' | 'route' | 'method' | 'status' | 'psp'>;
  private readonly requestSeconds: Histogram<'api' | 'route' | 'method'>;
  private readonly outbound: Counter<'call' | 'outcome'>;
  private readonly outboundSeconds: Histogram<'call'>;
  private readonly dbErrors: Counter<'kind'>;
  private readonly requestChildren = new Map<string, Child<object>>();
  private readonly histogramChildren = new Map<string, { observe(v: number): void }>();
  private readonly apiOfRoute = new Map<string, string>();
  private readonly read: () => Promise<string>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'vipps_psp_http_requests_total', help: 'HTTP requests answered, by API family, route, method, status and PSP.',
      labelNames: ['api', 'route', 'method', 'status', 'psp'], registers,
    });
    this.requestSeconds = new Histogram({
      name: 'vipps_psp_http_request_duration_seconds', help: 'Time from a request\'s arrival to its answer, by API family, route and method.',
      labelNames: ['api', 'route', 'method'], buckets: LATENCY_BUCKETS, registers,
    });
    this.outbound = new Counter({
      name: 'vipps_psp_outbound_calls_total', help: 'Calls to PSPs (makePayment, card callbacks, webhooks) by outcome.',
      labelNames: ['call', 'outcome'], registers,
    });
    this.outboundSeconds = new Histogram({
      name: 'vipps_psp_outbound_call_duration_seconds', help: 'Time a call to a PSP took, to its answer or its failure.',
      labelNames: ['call'], buckets: LATENCY_BUCKETS, registers,
    });
    this.dbErrors = new Counter({
      name: 'vipps_psp_database_errors_total',
      help: 'Database failures: unavailable (a request answered 503 or a job backed off), conflict_retried (a statement ended to break a deadlock and run again).',
      labelNames: ['kind'], registers,
    });
    for (const kind of ['unavailable', 'conflict_retried']) this.dbErrors.labels(kind).inc(0);
    for (const call of ['make_payment', 'card_callback', 'webhook']) {
      for (const outcome of ['success', 'http_error', 'timeout', 'network_error']) this.outbound.labels(call, outcome).inc(0);
    }

    // Read from the database once per scrape, for all the gauges below.
    let figures: Promise<DatabaseFigures | undefined> | undefined;
    const scrapeErrors = new Counter({ name: 'vipps_psp_metrics_database_read_errors_total', help: 'Scrapes whose database figures could not be read (those gauges are then left out).', registers });
    const read = () => {
      figures ??= sources.database().catch(() => { scrapeErrors.inc(); return undefined; }).finally(() => { setImmediate(() => { figures = undefined; }); });
      return figures;
    };
    new Gauge({
      name: 'vipps_psp_objects', help: 'Payments, agreements and charges by API and state.', labelNames: ['api', 'state'], registers, aggregator: 'first',
      async collect() {
        this.reset();
        const f = await read();
        for (const o of f?.objects ?? []) this.labels(o.api, o.state).set(o.count);
      },
    });
    new Gauge({
      name: 'vipps_psp_webhook_backlog', help: 'Webhook deliveries not yet delivered nor given up: pending (all), due (their next attempt is now or past).',
      labelNames: ['state'], registers, aggregator: 'first',
      async collect() {
        this.reset();
        const f = await read();
        if (f) {
          this.labels('pending').set(f.webhookBacklog.pending);
          this.labels('due').set(f.webhookBacklog.due);
        }
      },
    });
    new Gauge({
      name: 'vipps_psp_webhook_oldest_due_seconds', help: 'How long the longest-waiting due webhook delivery has been due (0: none).', registers, aggregator: 'first',
      async collect() {
        const f = await read();
        if (f) this.set(f.webhookBacklog.oldestDueSeconds);
      },
    });
    new Gauge({
      name: 'vipps_psp_status_batch_runs', help: 'Status batch runs recorded, by trigger and state (running, finished, interrupted).',
      labelNames: ['trigger', 'state'], registers, aggregator: 'first',
      async collect() {
        this.reset();
        const f = await read();
        for (const r of f?.batchRuns ?? []) this.labels(r.trigger, r.state).set(r.count);
      },
    });
    new Gauge({
      name: 'vipps_psp_status_batch_last_finished_timestamp_seconds', help: 'When the last status batch run finished (Unix time; 0: never).', registers, aggregator: 'first',
      async collect() {
        const f = await read();
        if (f) this.set(f.lastBatchFinishedAt === null ? 0 : f.lastBatchFinishedAt.getTime() / 1000);
      },
    });
    if (sources.pool) {
      const pool = sources.pool;
      new Gauge({
        name: 'vipps_psp_database_pool_connections', help: 'PostgreSQL pool connections: open (total), idle, and requests waiting for one.',
        labelNames: ['state'], registers,
        collect() {
          const p = pool();
          this.labels('total').set(p.total);
          this.labels('idle').set(p.idle);
          this.labels('waiting').set(p.waiting);
        },
      });
    }
    collectDefaultMetrics({ register: this.registry });
    this.read = sources.clustered ? clusterMetricsReader(this.registry) : () => this.registry.metrics();
  }

  /** The API family of a route (by its path pattern). */
  private apiOf(route: string): string {
    let api = this.apiOfRoute.get(route);
    if (api === undefined) {
      api = apiFamily(route);
      this.apiOfRoute.set(route, api);
    }
    return api;
  }

  /** One answered request. `route` is the matched route's pattern (undefined: no route matched). */
  request(method: string, route: string | undefined, status: number, psp: string | undefined, seconds: number): void {
    const r = route ?? '(unmatched)';
    const key = `${method} ${r} ${status} ${psp ?? ''}`;
    let counter = this.requestChildren.get(key);
    if (counter === undefined) {
      counter = this.requests.labels(this.apiOf(r), r, method, String(status), psp ?? '');
      this.requestChildren.set(key, counter);
    }
    counter.inc();
    const hkey = `${method} ${r}`;
    let histogram = this.histogramChildren.get(hkey);
    if (histogram === undefined) {
      histogram = this.requestSeconds.labels(this.apiOf(r), r, method);
      this.histogramChildren.set(hkey, histogram);
    }
    histogram.observe(seconds);
  }

  /** One call to a PSP, ended. */
  outboundCall(call: OutboundCall, outcome: OutboundOutcome, seconds: number): void {
    this.outbound.labels(call, outcome).inc();
    this.outboundSeconds.labels(call).observe(seconds);
  }

  databaseError(kind: 'unavailable' | 'conflict_retried'): void {
    this.dbErrors.labels(kind).inc();
  }

  /** The Prometheus text format: this process's figures, or with WORKERS > 1 the whole server's. */
  async text(): Promise<string> { return this.read(); }

  get contentType(): string { return this.registry.contentType; }
}

/** The API family a route (or path) belongs to, for the `api` label. */
export function apiFamily(route: string): string {
  const p = route.toLowerCase();
  if (p.startsWith('/psp/')) return 'psp-v3';
  if (p.startsWith('/merchant-management/')) return 'signup';
  if (p === '/accesstoken' || p.startsWith('/accesstoken/')) return 'access-token';
  if (p.startsWith('/epayment/')) return 'epayment';
  if (p.startsWith('/webhooks/')) return 'webhooks';
  if (p.startsWith('/recurring/')) return 'recurring';
  if (p === '/admin' || p.startsWith('/admin/')) return 'operator';
  if (p === '/console' || p.startsWith('/console/')) return 'console';
  if (p === '/docs' || p.startsWith('/docs/') || p.startsWith('/openapi') || p === '/guide' || p.startsWith('/guide/')) return 'docs';
  if (p === '/metrics' || p === '/health' || p === '/ready') return 'service';
  if (p === '(unmatched)') return 'none';
  return 'web';
}

/** The outcome of a call by what came back. */
export function outcomeOf(result: { status?: number; error?: string }): OutboundOutcome {
  if (result.status !== undefined) return result.status >= 200 && result.status < 300 ? 'success' : 'http_error';
  return result.error !== undefined && /^no answer within/.test(result.error) ? 'timeout' : 'network_error';
}
