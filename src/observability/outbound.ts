// Each call to a PSP (makePayment, a card callback, a webhook) as a client span whose traceparent goes
// with the call, and as a metric by outcome and latency.
import type { Metrics, OutboundCall } from './metrics.ts';
import { outcomeOf } from './metrics.ts';
import type { Span, Tracing } from './tracing.ts';
import type { TraceParent } from './trace-context.ts';

export interface CallRecord {
  /** Headers the call carries besides its own (traceparent). */
  headers: Record<string, string>;
  end(result: { status?: number; error?: string; latencyMs: number }): void;
}

export interface CallObserver {
  /** A call begins. `parent`: the trace it belongs to (default: the current request's span, if any). */
  begin(url: string, parent?: TraceParent | Span): CallRecord;
}

const NAMES: Record<OutboundCall, string> = { make_payment: 'makePayment', card_callback: 'card callback', webhook: 'webhook' };

export function callObserver(call: OutboundCall, tracing: Tracing, metrics: Metrics | undefined): CallObserver {
  return {
    begin(url, parent) {
      let target: URL | undefined;
      try { target = new URL(url); } catch { /* recorded without the address */ }
      const span = tracing.start(`POST ${NAMES[call]}`, 'client', parent ?? tracing.current(), {
        'http.request.method': 'POST',
        'server.address': target?.hostname,
        'server.port': target === undefined ? undefined : Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
        'url.full': target === undefined ? undefined : `${target.origin}${target.pathname}`,
        'vipps_psp.call': NAMES[call],
      });
      return {
        headers: { traceparent: span.traceparent() },
        end(result) {
          const outcome = outcomeOf(result);
          span.end({ 'http.response.status_code': result.status, 'vipps_psp.outcome': outcome }, outcome === 'success' ? undefined : result.error ?? `HTTP ${result.status}`);
          metrics?.outboundCall(call, outcome, result.latencyMs / 1000);
        },
      };
    },
  };
}
