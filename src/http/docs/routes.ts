// The API documents and the explorer:
//   GET /openapi/psp-api.yaml, /openapi/psp-signup-api.yaml   the published documents as this server
//                                                             serves them (published.ts); .json too
//   GET /openapi/epayment.yaml                                the published ePayment document with the
//                                                             PSP parts merged in (epayment.ts); .json too
//   GET /openapi/webhooks.yaml, /openapi/recurring.yaml       the Webhooks document, and the Recurring one
//                                                             with the PSP parts merged in (recurring.ts)
//   GET /openapi/admin.json                                   the operator API, generated from its
//                                                             route schemas (operator.ts); .yaml too
//   GET /docs                                                 Swagger UI for them all, "Try it out"
//                                                             against this server
// The documents carry an ETag (a conditional GET is answered 304) and may be read from any origin
// (they hold nothing secret). The explorer's files come from @fastify/swagger-ui's copy of
// swagger-ui-dist, its initializer is a script file, and its pages get a CSP that allows scripts,
// styles and requests from this server only.
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import swaggerUi from '@fastify/swagger-ui';
import { Document } from 'yaml';
import { loadPublished, served, type ServedDocument } from './published.ts';
import { registerOperatorSpec } from './operator.ts';
import { epaymentDocument } from './epayment.ts';
import { webhooksDocument } from './webhooks.ts';
import { recurringDocument } from './recurring.ts';

export const DOCUMENTS = {
  psp: '/openapi/psp-api.yaml',
  signup: '/openapi/psp-signup-api.yaml',
  epayment: '/openapi/epayment.yaml',
  webhooks: '/openapi/webhooks.yaml',
  recurring: '/openapi/recurring.yaml',
  operator: '/openapi/admin.json',
} as const;

export const EXPLORER = '/docs';

/** The explorer's pages and files: everything from this server, nothing inline, no frames. */
export const EXPLORER_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
  "connect-src 'self'", "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'",
].join('; ');

const YAML_TYPE = 'application/yaml; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function send(request: FastifyRequest, reply: FastifyReply, doc: { body: string; etag: string }, type: string): FastifyReply {
  reply.header('etag', doc.etag);
  reply.header('cache-control', 'no-cache');
  reply.header('access-control-allow-origin', '*');
  const match = request.headers['if-none-match'];
  if (match !== undefined && match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === doc.etag)) {
    return reply.code(304).send();
  }
  return reply.type(type).send(doc.body);
}

/** Swagger UI, in the browser (the explorer's scripts define it). */
declare const SwaggerUIBundle: { plugins: { DownloadUrl: (system: unknown) => { components?: object } } };

/**
 * Swagger UI's settings: a selector between the documents ("urls"), the PSP API first. The
 * functions run in the browser: the initializer file carries their source text.
 */
const uiConfig = {
  plugins: [
    // Loads the document a `urls` entry names (the initializer's default plugin, which `plugins` replaces).
    function downloadUrl(system: unknown) { return SwaggerUIBundle.plugins.DownloadUrl(system); },
    // The top bar's default logo is an SVG with an inline <style>, which the CSP refuses; the
    // initializer puts its own logo (an image) there.
    function noDefaultLogo() { return { components: { Logo: function Logo() { return null; } } }; },
  ],
  urls: [
    { url: DOCUMENTS.psp, name: 'PSP API' },
    { url: DOCUMENTS.signup, name: 'Signup API' },
    { url: DOCUMENTS.epayment, name: 'ePayment API (PSP)' },
    { url: DOCUMENTS.webhooks, name: 'Webhooks API' },
    { url: DOCUMENTS.recurring, name: 'Recurring API (PSP)' },
    { url: DOCUMENTS.operator, name: 'Operator API' },
  ],
  'urls.primaryName': 'PSP API',
  deepLinking: true,
  displayRequestDuration: true,
  persistAuthorization: false,
};

export function registerApiDocs(app: FastifyInstance, services: { config: { publicUrl: string } }): void {
  const publicUrl = services.config.publicUrl;
  registerOperatorSpec(app, { publicUrl, version: version() });

  app.register(async (scope) => {
    const published = loadPublished(publicUrl);
    const byName: Array<[string, ServedDocument]> = [
      ['psp-api', published['psp-api']], ['psp-signup-api', published['psp-signup-api']], ['epayment', served(epaymentDocument(publicUrl))],
      ['webhooks', served(webhooksDocument(publicUrl))], ['recurring', served(recurringDocument(publicUrl))],
    ];
    for (const [name, doc] of byName) {
      scope.get(`/openapi/${name}.yaml`, async (request, reply) => send(request, reply, doc.yaml, YAML_TYPE));
      scope.get(`/openapi/${name}.json`, async (request, reply) => send(request, reply, doc.json, JSON_TYPE));
    }

    // Generated once, at the first request (the routes are all known by then).
    let operator: ServedDocument | undefined;
    const operatorDoc = () => (operator ??= served(new Document(scope.swagger())));
    scope.get('/openapi/admin.json', async (request, reply) => send(request, reply, operatorDoc().json, JSON_TYPE));
    scope.get('/openapi/admin.yaml', async (request, reply) => send(request, reply, operatorDoc().yaml, YAML_TYPE));

    await scope.register(async (ui) => {
      ui.addHook('onSend', async (_request, reply, payload) => {
        reply.header('x-frame-options', 'DENY');
        reply.header('referrer-policy', 'no-referrer');
        reply.header('cross-origin-opener-policy', 'same-origin');
        reply.header('cross-origin-resource-policy', 'same-origin');
        return payload;
      });
      await ui.register(swaggerUi, {
        routePrefix: EXPLORER,
        staticCSP: EXPLORER_CSP,
        theme: { title: 'vipps-psp API explorer' },
        uiConfig,
      });
    });
  });
}
