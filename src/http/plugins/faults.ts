// Fault injection (test environment): a rule from POST /admin/faults answers a matching request with
// an error in the route's own shape, delays it, or drops its connection, before any work is done.
//
// The check runs as the route's last preHandler, so after the route's authentication (its onRequest
// hook) has named the PSP and the MSN, and before the handler changes anything. Only the routes that
// rules can name get the hook, and with no rule for the route the hook returns at once.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions, preHandlerHookHandler } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../../domain/errors.ts';
import type { FaultRoute, FaultRule, FaultTarget } from '../../domain/faults.ts';
import type { Controls } from '../../operations/controls.ts';
import type { Credentials } from '../../operations/credentials.ts';

/** The routes a rule can name, by method and path as registered. The app's approve applies its own check (web/app.ts). */
const ROUTES: ReadonlyArray<{ method: string; url: RegExp; route: FaultRoute }> = [
  { method: 'POST', url: /^\/accessToken\/get$/, route: 'accessToken' },
  { method: 'POST', url: /^\/psp\/v3\/psppayments\/init$/, route: 'init' },
  { method: 'GET', url: /^\/psp\/v3\/psppayments\/:pspTransactionId\/details$/, route: 'details' },
  { method: 'POST', url: /^\/psp\/v3\/psppayments\/updatestatus$/, route: 'updatestatus' },
  { method: 'POST', url: /^\/psp\/v3\/integration-test\/psppayments\/:pspTransactionId\/approve$/, route: 'approve' },
  { method: '*', url: /^\/merchant-management\/psp\/v1\/merchants/, route: 'signup' },
  { method: 'POST', url: /^\/epayment\/v1\/payments$/, route: 'epaymentCreate' },
  { method: 'GET', url: /^\/epayment\/v1\/payments\/:reference(\/events)?$/, route: 'epaymentGet' },
  { method: 'POST', url: /^\/epayment\/v1\/payments\/:reference\/(capture|refund|cancel)$/, route: 'epaymentAdjust' },
  { method: 'POST', url: /^\/epayment\/v1\/test\/payments\/:reference\/approve$/, route: 'epaymentApprove' },
];

const TITLES: Record<number, string> = { 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

/** The error a rule answers with; the error handler of the route's family renders it. */
export function faultError(rule: FaultRule): ApiError {
  const status = rule.status ?? 500;
  return new ApiError(status, String(status), `Injected fault (rule ${rule.ruleId}): the server answers ${status} to this request.`, { title: TITLES[status] });
}

/**
 * Applies a rule that was taken for this request: waits its delay, then answers its status (thrown,
 * for the route's error handler) or drops the connection. Returns false when the request goes on.
 */
export async function applyFault(rule: FaultRule, request: FastifyRequest, reply: FastifyReply, shutdown?: AbortSignal): Promise<boolean> {
  if (rule.delayMs > 0) await sleep(rule.delayMs, undefined, { signal: shutdown }).catch(() => {});
  if (rule.dropConnection) {
    reply.hijack();
    request.raw.socket.destroy();
    return true;
  }
  if (rule.status !== null) {
    if (rule.retryAfterSeconds !== null) reply.header('retry-after', String(rule.retryAfterSeconds));
    throw faultError(rule);
  }
  return false;
}

function targetOf(route: FaultRoute, request: FastifyRequest): FaultTarget {
  const params = request.params as { pspTransactionId?: string; reference?: string } | undefined;
  const ids: string[] = [];
  if (typeof params?.pspTransactionId === 'string') ids.push(params.pspTransactionId);
  if (typeof params?.reference === 'string') ids.push(params.reference);
  const body = request.body as { pspTransactionId?: unknown; transactions?: unknown; reference?: unknown } | undefined;
  if (route === 'init' && typeof body?.pspTransactionId === 'string') ids.push(body.pspTransactionId);
  if (route === 'epaymentCreate' && typeof body?.reference === 'string') ids.push(body.reference);
  if (route === 'updatestatus' && Array.isArray(body?.transactions)) {
    for (const t of body.transactions) {
      const id = (t as { pspTransactionId?: unknown } | null)?.pspTransactionId;
      if (typeof id === 'string') ids.push(id);
    }
  }
  return { pspId: request.psp?.pspId, msn: request.msn, pspTransactionIds: ids };
}

export function registerFaultInjection(app: FastifyInstance, deps: { controls: Controls; credentials: Credentials }): void {
  const { controls } = deps;
  if (!controls.enabled) return;

  /** The access token route names its PSP only in its handler: here the subscription key names it. */
  async function accessTokenTarget(request: FastifyRequest): Promise<FaultTarget> {
    if (!controls.needsTarget('accessToken')) return {};
    const key = request.headers['ocp-apim-subscription-key'];
    try {
      return { pspId: (await deps.credentials.pspForSubscriptionKey(Array.isArray(key) ? key[0] : key)).pspId };
    } catch {
      return {};
    }
  }

  function hook(route: FaultRoute): preHandlerHookHandler {
    return function faultCheck(request, reply, done) {
      if (!controls.has(route)) return done();
      (async () => {
        const target = route === 'accessToken' ? await accessTokenTarget(request) : targetOf(route, request);
        const rule = await controls.take(route, target);
        if (rule && await applyFault(rule, request, reply, controls.shutdown)) return;
        done();
      })().catch((err: unknown) => done(err as Error));
    };
  }

  app.addHook('onRoute', (options: RouteOptions) => {
    const methods = Array.isArray(options.method) ? options.method : [options.method];
    const found = ROUTES.find((r) => r.url.test(options.url ?? '') && (r.method === '*' || methods.includes(r.method as never)));
    if (!found) return;
    const existing = options.preHandler === undefined ? [] : Array.isArray(options.preHandler) ? options.preHandler : [options.preHandler];
    options.preHandler = [...existing, hook(found.route)];
  });
}
