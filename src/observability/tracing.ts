// Traces. Every request is a span: its trace comes from the `traceparent` it arrived with, or is new.
// Every outbound call (makePayment, card callback, webhook) is a child span whose `traceparent` goes
// with the call. Without OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) that is
// all: ids, no recording. With it, spans are recorded by the OpenTelemetry SDK and exported over
// OTLP/HTTP (protobuf, or JSON with OTEL_EXPORTER_OTLP_PROTOCOL=http/json) in batches.
import { AsyncLocalStorage } from 'node:async_hooks';
import { formatTraceparent, newSpanId, newTraceId, type TraceParent } from './trace-context.ts';

export type Attributes = Record<string, string | number | boolean | undefined>;

export interface Span {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
  /** The `traceparent` header naming this span as the parent. */
  traceparent(): string;
  setAttributes(attributes: Attributes): void;
  /** Ends the span; `error` marks it failed with that description. */
  end(attributes?: Attributes, error?: string): void;
}

/** The parts of OpenTelemetry's API this module uses (loaded only when exporting). */
interface OtelParts {
  tracer: import('@opentelemetry/api').Tracer;
  api: typeof import('@opentelemetry/api');
  provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> };
}

class IdOnlySpan implements Span {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
  constructor(traceId: string, spanId: string, sampled: boolean) {
    this.traceId = traceId;
    this.spanId = spanId;
    this.sampled = sampled;
  }
  traceparent(): string { return formatTraceparent(this.traceId, this.spanId, this.sampled); }
  setAttributes(): void {}
  end(): void {}
}

class RecordedSpan implements Span {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
  private readonly span: import('@opentelemetry/api').Span;
  private readonly error: number;
  private ended = false;
  constructor(span: import('@opentelemetry/api').Span, errorCode: number) {
    const c = span.spanContext();
    this.span = span;
    this.traceId = c.traceId;
    this.spanId = c.spanId;
    this.sampled = (c.traceFlags & 1) === 1;
    this.error = errorCode;
  }
  traceparent(): string { return formatTraceparent(this.traceId, this.spanId, this.sampled); }
  setAttributes(attributes: Attributes): void { this.span.setAttributes(defined(attributes)); }
  end(attributes?: Attributes, error?: string): void {
    if (this.ended) return;
    this.ended = true;
    if (attributes) this.span.setAttributes(defined(attributes));
    if (error !== undefined) this.span.setStatus({ code: this.error, message: error });
    this.span.end();
  }
}

function defined(attributes: Attributes): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined) out[k] = v;
  return out;
}

export class Tracing {
  private readonly als = new AsyncLocalStorage<Span>();
  private readonly otel: OtelParts | undefined;

  constructor(otel?: OtelParts) {
    this.otel = otel;
  }

  /** Whether spans are recorded and exported. */
  get exporting(): boolean { return this.otel !== undefined; }

  /** The span of the request (or other work) running now, if any. */
  current(): Span | undefined { return this.als.getStore(); }

  /** Runs `fn` with `span` as the current span (and everything it starts, asynchronously too). */
  run<T>(span: Span, fn: () => T): T { return this.als.run(span, fn); }

  /**
   * Starts a span. `parent`: a remote caller's context (a request's traceparent), a span of this
   * process, or none (a new trace).
   */
  start(name: string, kind: 'server' | 'client' | 'internal', parent: TraceParent | Span | undefined, attributes: Attributes = {}): Span {
    const remote = parent !== undefined && 'parentId' in parent;
    const traceId = parent?.traceId;
    const parentSpanId = parent === undefined ? undefined : remote ? (parent as TraceParent).parentId : (parent as Span).spanId;
    const sampled = parent?.sampled ?? true;
    if (!this.otel) return new IdOnlySpan(traceId ?? newTraceId(), newSpanId(), sampled);
    const { api, tracer } = this.otel;
    const context = traceId !== undefined && parentSpanId !== undefined
      ? api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId, spanId: parentSpanId, traceFlags: sampled ? 1 : 0, isRemote: remote })
      : api.ROOT_CONTEXT;
    const spanKind = kind === 'server' ? api.SpanKind.SERVER : kind === 'client' ? api.SpanKind.CLIENT : api.SpanKind.INTERNAL;
    return new RecordedSpan(tracer.startSpan(name, { kind: spanKind, attributes: defined(attributes) }, context), api.SpanStatusCode.ERROR);
  }

  /** Sends the spans still buffered. */
  async flush(): Promise<void> { await this.otel?.provider.forceFlush(); }

  /** Sends the spans still buffered and stops exporting. */
  async shutdown(): Promise<void> { await this.otel?.provider.shutdown(); }
}

export interface TracingSettings {
  /** The OTLP/HTTP traces URL (…/v1/traces), or undefined: no export. */
  tracesUrl: string | undefined;
  protocol: 'http/protobuf' | 'http/json';
  serviceName: string;
  /** How long spans wait in the batch before they are sent. */
  scheduleDelayMs: number;
}

/** Tracing as the settings ask: ids only, or recorded and exported. The SDK is loaded only to export. */
export async function createTracing(s: TracingSettings): Promise<Tracing> {
  if (s.tracesUrl === undefined) return new Tracing();
  const api = await import('@opentelemetry/api');
  const { TracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const { OTLPTraceExporter } = s.protocol === 'http/json'
    ? await import('@opentelemetry/exporter-trace-otlp-http')
    : await import('@opentelemetry/exporter-trace-otlp-proto');
  const exporter = new OTLPTraceExporter({ url: s.tracesUrl });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': s.serviceName }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: s.scheduleDelayMs })],
  });
  return new Tracing({ api, tracer: provider.getTracer('vipps-psp'), provider });
}
