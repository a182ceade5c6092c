// The operator console at /console: server-rendered pages for the operator, in their own Fastify scope.
//
// How a page module plugs in (the contract):
//   - A page module is a file in this folder exporting `register…(scope, ctx)`. It is called below,
//     once, inside the console's authenticated scope (prefix /console), so `scope.get('/psps', …)`
//     answers /console/psps. Every route in that scope passes `ctx.guard` first (a hook of the scope:
//     no route can forget it): a GET without a valid session is sent to the sign-in page (303), any
//     other request is refused with 401.
//   - A page answers with `ctx.page(request, reply, { view, title, section, data })`: it renders the
//     Eta template `src/http/views/<view>.eta` (escaped by default; never build HTML in a template
//     literal) with `data` plus `it.csrf` (the form token) and `it.f` (formatting helpers), and wraps
//     it in the console layout with the navigation (`section` marks the current entry).
//   - Every form posts `_csrf` = `it.csrf`; a POST handler reads its fields with `ctx.form(request)`,
//     which refuses (403) a post whose token does not match. Form bodies arrive parsed, as strings.
//   - An action that changes something asks first (a confirm page that works without script), then
//     redirects (303) to a page that shows the result. That page may say what happened with
//     `notice` (ctx.page); it picks the sentence from a short code in its query (`?done=expired`),
//     never shows text taken from the URL.
//   - Errors: throw `new WebError(status, title, message)` (or an ApiError): it becomes an HTML page in
//     the layout. Data comes through operations/ and store/ functions, as for the API.
//   - Script and style come only from /console/assets/ (assets.ts); pages carry no inline script or
//     style (the CSP forbids both) and must work without script.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../app.ts';
import type { PaymentDeps } from '../../operations/payment-deps.ts';
import { adminTokenMatches } from '../../operations/admin-token.ts';
import { registerAuditPage } from './audit.ts';
import { CREDENTIAL_PREFIX, mayActOn, OPERATOR, scopeOf, type Principal } from '../../operations/principals.ts';
import { ApiError, errors } from '../../domain/errors.ts';
import { pageErrorOf } from '../web/page-errors.ts';
import { authFailureLimit } from '../plugins/auth-failure-limit.ts';
import { applyPageHeaders, formBody, loadWebKey, WebError, WebSecurity, type FormBody } from '../web/security.ts';
import { render } from '../web/views.ts';
import { ConsoleSession } from './session.ts';
import fastifyCookie from '@fastify/cookie';
import { formParser } from '../web/routes.ts';
import { ASSET_URLS, registerConsoleAssets } from './assets.ts';
import { formats, type Formats } from './format.ts';
import { registerOverviewPage } from './overview.ts';
import { registerPaymentPages } from './payments.ts';
import { registerEpaymentPages } from './epayments.ts';
import { registerAgreementPages } from './agreements.ts';
import { registerWebhookPages } from './webhooks.ts';
import { registerReadinessPage } from './readiness.ts';
import { registerBatchPage } from './batch.ts';
import { registerPspPages } from './psps.ts';
import { registerMerchantPages } from './merchants.ts';
import { registerUserPages } from './users.ts';
import { registerSessionPages } from './sessions.ts';

export type ConsoleSection = 'overview' | 'payments' | 'epayments' | 'agreements' | 'webhooks' | 'batch' | 'psps' | 'merchants' | 'users' | 'readiness';

export const NAV: ReadonlyArray<{ section: ConsoleSection; href: string; label: string }> = [
  { section: 'overview', href: '/console', label: 'Overview' },
  { section: 'payments', href: '/console/payments', label: 'Payments' },
  { section: 'epayments', href: '/console/epayments', label: 'ePayment' },
  { section: 'agreements', href: '/console/agreements', label: 'Recurring' },
  { section: 'webhooks', href: '/console/webhooks', label: 'Webhooks' },
  { section: 'batch', href: '/console/batch', label: 'Status batch' },
  { section: 'psps', href: '/console/psps', label: 'PSPs' },
  { section: 'merchants', href: '/console/merchants', label: 'Merchants' },
  { section: 'users', href: '/console/users', label: 'Test users' },
  { section: 'readiness', href: '/console/readiness', label: 'Go-live readiness' },
];

export interface PageOptions {
  /** The template under src/http/views/, e.g. 'console/psps'. */
  view: string;
  title: string;
  /** The navigation entry to mark as current (none for an error page). */
  section?: ConsoleSection;
  data?: object;
  status?: number;
  /** A confirmation shown above the page ("The payment was expired."). */
  notice?: string;
  /** Without script, reload the page every this many seconds (a run in progress). */
  refreshSeconds?: number;
}

/** What a console page module gets. */
export interface ConsoleContext {
  services: Services;
  /** The payment use cases' dependencies (config, clock, database, notifier, …). */
  payments: PaymentDeps;
  /** The operator's sessions (the request's own, the open ones, ending them). */
  session: ConsoleSession;
  now(): Date;
  /** The authentication of every console route (already a hook of the scope the modules get). */
  guard(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** The CSRF token for this browser's forms. */
  csrf(request: FastifyRequest, reply: FastifyReply): string;
  /** A posted form's fields, after its CSRF token was checked (403 otherwise). */
  form(request: FastifyRequest): FormBody;
  /** Renders a view inside the console layout and sends it. */
  page(request: FastifyRequest, reply: FastifyReply, opts: PageOptions): FastifyReply;
  /** Renders a view (or the layout) to a string, for a caller that sends it itself. */
  render(view: string, data: object): string;
  /** The security headers of a console answer (strict CSP, no caching). */
  headers(reply: FastifyReply): void;
  /** The PSP the signed-in person is limited to (undefined: the operator, everything). */
  scope(request: FastifyRequest): string | undefined;
  /** Another PSP's object does not exist for a PSP's person: a 404 page titled `what`. */
  own(request: FastifyRequest, pspId: string | null | undefined, what: string): void;
  /** An action that is the operator's alone: a 403 page for a PSP's person. */
  operatorOnly(request: FastifyRequest, what: string): void;
}

const FORM_BODY_LIMIT = 64 * 1024;

/** A `next` after signing in: a console path only. */
export function safeNext(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= 500 && /^\/console(\/[A-Za-z0-9/_.-]*)?(\?[A-Za-z0-9=_&%.:+-]*)?$/.test(value) ? value : undefined;
}

export function registerConsole(app: FastifyInstance, services: Services): void {
  app.register(async (scope) => {
    // Cookies are parsed for the console's scope only (as for the pages').
    await scope.register(fastifyCookie);
    const deps = services.payments;
    const key = await loadWebKey(services.database);
    const security = new WebSecurity(key, services.config.publicUrl);
    const session = new ConsoleSession({
      database: services.database, adminToken: services.adminToken, publicUrl: services.config.publicUrl,
      idleTimeoutSeconds: services.config.consoleIdleTimeoutSeconds,
    });
    const now = () => deps.clock.now();
    const f: Formats = formats;

    const headers = (reply: FastifyReply) => applyPageHeaders(reply, { hsts: security.hsts });
    const csrf = (request: FastifyRequest, reply: FastifyReply) => security.csrfToken(request, reply);
    // Requests the guard let through (a session was found for them): their pages show the navigation.
    const passed = new WeakSet<FastifyRequest>();
    const signedIn = async (request: FastifyRequest) => (await session.current(request)) !== undefined;

    function sendPage(request: FastifyRequest, reply: FastifyReply, opts: PageOptions & { signedIn?: boolean }): FastifyReply {
      const token = csrf(request, reply);
      const content = render(opts.view, { ...opts.data, csrf: token, f });
      const isSignedIn = opts.signedIn ?? passed.has(request);
      const html = render('console/layout', {
        title: opts.title, content, csrf: token, signedIn: isSignedIn, notice: opts.notice, assets: ASSET_URLS, refreshSeconds: opts.refreshSeconds,
        who: request.principal?.kind === 'psp' ? `${request.principal.name} (PSP ${request.principal.pspId})` : isSignedIn && request.principal ? 'the operator' : undefined,
        nav: NAV.map((n) => ({ href: n.href, label: n.label, current: n.section === opts.section })),
      });
      headers(reply);
      return reply.code(opts.status ?? 200).type('text/html; charset=utf-8').send(html);
    }

    async function errorPage(request: FastifyRequest, reply: FastifyReply, status: number, heading: string, message: string): Promise<FastifyReply> {
      const isSignedIn = await signedIn(request).catch(() => false);
      return sendPage(request, reply, {
        view: 'console/error', title: heading, status, signedIn: isSignedIn,
        data: { heading, message, link: isSignedIn ? { href: '/console', label: 'Back to the overview' } : { href: '/console/sign-in', label: 'Sign in' } },
      });
    }

    async function guard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const principal = await session.principal(request);
      if (principal) {
        request.principal = principal;
        request.via = 'console';
        passed.add(request);
        return;
      }
      const path = request.url;
      const wantsPage = request.method === 'GET' && !(request.headers.accept ?? '').includes('text/event-stream');
      if (wantsPage) {
        const next = safeNext(path);
        headers(reply);
        return reply.redirect(next && next !== '/console' ? `/console/sign-in?next=${encodeURIComponent(next)}` : '/console/sign-in', 303);
      }
      return errorPage(request, reply, 401, 'Sign in first', 'Your console session has ended or you are not signed in. Sign in and try again.');
    }

    const ctx: ConsoleContext = {
      services,
      payments: deps,
      session,
      now,
      guard,
      csrf,
      form(request) {
        const body = formBody(request.body);
        security.checkCsrf(request, body);
        return body;
      },
      page: (request, reply, opts) => sendPage(request, reply, opts),
      render: (view, data) => render(view, { ...data, f }),
      headers,
      scope: (request) => scopeOf(request.principal),
      own(request, pspId, what) {
        if (!mayActOn(request.principal, pspId)) throw new WebError(404, `${what} not found`, `There is no ${what.toLowerCase()} with this id.`);
      },
      operatorOnly(request, what) {
        if (request.principal?.kind === 'psp') throw new WebError(403, 'Not possible', `${what} is the operator's: it changes what every PSP on this server sees.`);
      },
    };

    formParser(scope, FORM_BODY_LIMIT);
    scope.setErrorHandler((error: FastifyError | ApiError | WebError, request, reply) => {
      const { status, title, message } = pageErrorOf(error, request, reply, { refusedTitle: 'Not possible', place: 'a console page' });
      return errorPage(request, reply, status, title, message);
    });
    scope.setNotFoundHandler((request, reply) => errorPage(request, reply, 404, 'Page not found', 'There is no console page at this address.'));

    registerConsoleAssets(scope);

    // ---- signing in and out (the only pages without the guard) ----

    // Failed sign-ins are limited as the API's failed authentications are: per client address, and
    // for the one operator token as for one client id.
    const signIns = await authFailureLimit(scope, {
      perKey: services.config.authFailureLimitPerClient,
      perAddress: services.config.authFailureLimitPerAddress,
      windowSeconds: services.config.authFailureWindowSeconds,
      keyOf: () => 'operator',
      credentialOf: (request) => formBody(request.body).token,
    });

    const signInPage = (request: FastifyRequest, reply: FastifyReply, opts: { status?: number; next?: string; error?: string }) =>
      sendPage(request, reply, {
        view: 'console/sign-in', title: 'Sign in', status: opts.status, signedIn: false,
        data: { next: opts.next, error: opts.error, disabled: services.adminToken.hash === undefined },
      });

    scope.get('/sign-in', async (request, reply) => {
      const next = safeNext((request.query as Record<string, unknown>).next);
      if (await signedIn(request)) return reply.redirect(next ?? '/console', 303);
      return signInPage(request, reply, { next });
    });

    scope.post('/sign-in', async (request, reply) => {
      const body = ctx.form(request);
      const next = safeNext(body.next);
      if (services.adminToken.hash === undefined) return signInPage(request, reply, { status: 403, next });
      const token = (body.token ?? '').trim();
      // The operator token, or a PSP's console credential (that PSP's objects only).
      let principal: Principal | undefined;
      try {
        await signIns.attempt(request, reply, async () => {
          if (token !== '' && token.length <= 512 && adminTokenMatches(services.adminToken, token)) principal = OPERATOR;
          else if (token.startsWith(CREDENTIAL_PREFIX)) principal = await services.adminToken.consoleCredentials?.principalOf(token);
          if (!principal) throw errors.adminUnauthorized();
        });
      } catch (err) {
        if (err instanceof ApiError && err.status === 429) {
          request.log.warn('console sign-in refused: too many failed attempts');
          return signInPage(request, reply, {
            status: 429, next, error: `Too many failed sign-ins. Try again in ${String(reply.getHeader('retry-after') ?? 60)} seconds.`,
          });
        }
        if (err instanceof ApiError && err.status === 401) {
          request.log.info('console sign-in refused: wrong operator token or console credential');
          return signInPage(request, reply, { status: 401, next, error: 'That is neither the operator token nor a console credential (or it was revoked).' });
        }
        throw err;
      }
      await session.start(request, reply, principal);
      request.principal = principal;
      request.via = 'console';
      request.log.info({ pspId: scopeOf(principal) }, 'console sign-in');
      return reply.redirect(next ?? '/console', 303);
    });

    scope.post('/sign-out', async (request, reply) => {
      ctx.form(request);
      request.principal = await session.principal(request);
      request.via = 'console';
      await session.end(request, reply);
      return reply.redirect('/console/sign-in', 303);
    });

    // ---- the pages: every route below passes the guard ----

    await scope.register(async (pages) => {
      pages.addHook('onRequest', guard);
      registerOverviewPage(pages, ctx);
      registerPaymentPages(pages, ctx);
      registerEpaymentPages(pages, ctx);
      registerAgreementPages(pages, ctx);
      registerWebhookPages(pages, ctx);
      registerReadinessPage(pages, ctx);
      registerBatchPage(pages, ctx);
      registerPspPages(pages, ctx);
      registerMerchantPages(pages, ctx);
      registerUserPages(pages, ctx);
      registerSessionPages(pages, ctx);
      registerAuditPage(pages, ctx);
    });
  }, { prefix: '/console' });
}
