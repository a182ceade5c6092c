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
import { loadWebKey, WebError, WebSecurity } from './security.ts';
import { sendPage } from './layout.ts';
import { handleDatabaseUnavailable } from '../plugins/errors.ts';

const FORM_BODY_LIMIT = 16 * 1024;

function htmlErrors(scope: FastifyInstance, hsts: boolean): void {
  scope.setErrorHandler((error: FastifyError | ApiError | WebError, request: FastifyRequest, reply: FastifyReply) => {
    let status = 500;
    let title = 'Something went wrong';
    let message = 'The page could not be shown. Try again in a moment.';
    let unavailable = false;
    if (error instanceof WebError) {
      ({ status, title, message } = error);
    } else if (error instanceof ApiError) {
      status = error.status;
      title = status === 404 ? 'Not found' : 'Request not accepted';
      message = error.message;
    } else if (handleDatabaseUnavailable(error, request, reply)) {
      unavailable = true;
      status = 503;
      title = 'Temporarily unavailable';
      message = 'The service cannot reach its database right now. Try again in a moment.';
    } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      status = error.statusCode;
      title = 'Request not accepted';
      message = status === 413 ? 'The form sent was too large.' : 'The request could not be understood.';
    }
    if (status >= 500 && !unavailable) request.log.error({ err: error }, 'unhandled error on a web page');
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
    await web.register(async (scope) => {
      formParser(scope);
      htmlErrors(scope, security.hsts);
      registerLandingRoutes(scope, deps, security);
    }, { prefix: '/landing' });
    await web.register(async (scope) => {
      formParser(scope);
      htmlErrors(scope, security.hsts);
      await registerAppRoutes(scope, deps, security);
    }, { prefix: '/app' });
  });
}
