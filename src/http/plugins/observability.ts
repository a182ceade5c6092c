// Every request as a span (its trace from the `traceparent` it came with) and as metrics; and
// GET /metrics, for the metrics token or the operator token.
import { AsyncResource } from 'node:async_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../domain/errors.ts';
import { safeEqual } from '../../security/secrets.ts';
import { adminTokenMatches, type AdminToken } from '../../operations/admin-token.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { Span, Tracing } from '../../observability/tracing.ts';
import { parseTraceparent } from '../../observability/trace-context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's span (plugins/observability.ts). */
    span?: Span;
    /** Set when the request was answered 503 because the database could not be reached. */
    databaseUnavailable?: boolean;
  }
}

export interface ObservabilityDeps {
  tracing: Tracing;
  metrics: Metrics | undefined;
  metricsToken: string | undefined;
  adminToken: AdminToken;
}

const SCOPE = Symbol('vipps-psp.request-scope');
type Scoped = FastifyRequest & { [SCOPE]?: AsyncResource };

export function registerObservability(app: FastifyInstance, deps: ObservabilityDeps): void {
  const { tracing, metrics } = deps;
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    const span = tracing.start(route === undefined ? request.method : `${request.method} ${route}`, 'server', parseTraceparent(request.headers.traceparent), {
      'http.request.method': request.method,
      'http.route': route,
      'url.path': request.url.split('?')[0],
    });
    request.span = span;
    // The body is read in the server's own asynchronous context: the handler gets the span back
    // through this resource (preHandler below).
    tracing.run(span, () => {
      (request as Scoped)[SCOPE] = new AsyncResource('vipps-psp.request');
      done();
    });
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const scope = (request as Scoped)[SCOPE];
    if (scope) scope.runInAsyncScope(done);
    else done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    request.span?.end({ 'http.response.status_code': status, 'vipps_psp.psp_id': request.psp?.pspId }, status >= 500 ? String(status) : undefined);
    if (metrics) {
      metrics.request(request.method, request.routeOptions.url, status, request.psp?.pspId, reply.elapsedTime / 1000);
      if (request.databaseUnavailable) metrics.databaseError('unavailable');
    }
    done();
  });

  app.get('/metrics', { schema: { hide: true } }, async (request: FastifyRequest, reply: FastifyReply) => {
    if (!metrics) throw new ApiError(404, 'metrics_off', 'Metrics are off on this server (METRICS=false).');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    const token = match?.[1];
    const allowed = token !== undefined && (
      (deps.metricsToken !== undefined && safeEqual(token, deps.metricsToken))
      || (deps.adminToken.hash !== undefined && adminTokenMatches(deps.adminToken, token)));
    if (!allowed) {
      reply.header('www-authenticate', 'Bearer realm="metrics"');
      throw new ApiError(401, 'unauthorized', 'Send "Authorization: Bearer <METRICS_TOKEN>" (or the operator token) to read the metrics.');
    }
    let text: string;
    try {
      text = await metrics.text();
    } catch (e) {
      request.log.warn({ err: e }, 'the metrics of the other workers could not be gathered');
      reply.header('retry-after', '5');
      throw new ApiError(503, 'metrics_unavailable', `The metrics of every worker could not be gathered (${(e as Error).message}). Try again.`);
    }
    reply.header('content-type', metrics.contentType);
    return text;
  });
}
