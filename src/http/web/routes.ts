// The user's side, in its own Fastify scope: the front door (GET /), the landing page, the app
// simulator and their assets.
// Inside the scope every answer carries the pages' security headers, form bodies are parsed, and
// errors are HTML pages (the API's JSON error shapes stay outside).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import type { Services } from '../app.ts';
import { ApiError } from '../../domain/errors.ts';
import { registerAssetRoutes } from './assets.ts';
import { registerLandingRoutes } from './landing.ts';
import { registerAppRoutes } from './app.ts';
import { registerFrontDoor } from './front-door.ts';
import { registerGuideRoutes } from './guide.ts';
import { registerQrRoute } from './epayment.ts';
import { registerRecurringRootRoutes } from './recurring.ts';
import { loadWebKey, WebError, WebSecurity } from './security.ts';
import { sendPage } from './layout.ts';
import { pageErrorOf } from './page-errors.ts';

const FORM_BODY_LIMIT = 16 * 1024;

function htmlErrors(scope: FastifyInstance, hsts: boolean): void {
  scope.setErrorHandler((error: FastifyError | ApiError | WebError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, title, message } = pageErrorOf(error, request, reply, { refusedTitle: 'Request not accepted', place: 'a web page' });
    return sendPage(reply, status, 'error', { title, message }, { hsts });
  });
  scope.setNotFoundHandler((_request, reply) => sendPage(reply, 404, 'error', { title: 'Page not found', message: 'There is no page at this address.' }, { hsts }));
}

/** Form posts as a plain object of strings (first value wins), so the input checks see every field. */
export function formParser(scope: FastifyInstance, bodyLimit = FORM_BODY_LIMIT): void {
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    const out: Record<string, string> = Object.create(null);
    for (const [k, v] of new URLSearchParams(body as string)) if (!(k in out)) out[k] = v;
    done(null, out);
  });
}

export function registerWebRoutes(app: FastifyInstance, services: Services): void {
  const deps = services.payments;
  app.register(async (web) => {
    const security = new WebSecurity(await loadWebKey(services.database), services.config.publicUrl);
    // Cookies are parsed for the pages only; the APIs never read or set one.
    await web.register(fastifyCookie);
    registerAssetRoutes(web);
    registerFrontDoor(web, services.config, security.hsts);
    registerQrRoute(web, deps);
    await web.register(async (scope) => {
      htmlErrors(scope, security.hsts);
      registerGuideRoutes(scope, security.hsts);
    }, { prefix: '/guide' });
    await web.register(async (scope) => {
      formParser(scope);
      htmlErrors(scope, security.hsts);
      registerLandingRoutes(scope, deps, security);
    }, { prefix: '/landing' });
    await web.register(async (scope) => {
      htmlErrors(scope, security.hsts);
      registerRecurringRootRoutes(scope, deps);
    }, { prefix: '/recurring' });
    await web.register(async (scope) => {
      formParser(scope);
      htmlErrors(scope, security.hsts);
      await registerAppRoutes(scope, deps, security);
    }, { prefix: '/app' });
  });
}
