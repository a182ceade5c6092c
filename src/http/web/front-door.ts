// The front door: GET / says what this server is, which environment it runs in and where everything
// is; in the test environment also the demo credentials and a curl that fetches an access token.
// Browsers get a page (the same frame and headers as the other pages); a client whose Accept prefers
// JSON gets the same facts as JSON, with absolute URLs on PUBLIC_URL. Nothing here reads the database.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.ts';
import { DEMO } from '../../operations/seed.ts';
import { applyPageHeaders } from './security.ts';
import { sendPage } from './layout.ts';

const PACKAGE = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

export const DESCRIPTION = 'A self-hostable implementation of the wallet side of Vipps MobilePay\'s PSP APIs for payment service providers (PSPs) '
  + 'and their tests: PSP API v3, the ePayment API with card passthrough, the Webhooks API and the Recurring PSP API, with the user\'s '
  + 'approval in a simulated Vipps app, card network tokens sent to the PSP, an operator API and console to look at everything, and the tools a '
  + 'PSP\'s tests need.';

interface Link {
  key: string;
  title: string;
  path: string;
  description: string;
}

const LINKS: Link[] = [
  { key: 'guide', title: 'Manual', path: '/guide', description: 'How to use every API, the user\'s side, the console and the testing tools.' },
  { key: 'docs', title: 'API explorer', path: '/docs', description: 'Read and try the APIs in the browser.' },
  { key: 'pspApi', title: 'PSP API v3', path: '/openapi/psp-api.yaml', description: 'The OpenAPI document of the PSP API.' },
  { key: 'signupApi', title: 'PSP Signup API', path: '/openapi/psp-signup-api.yaml', description: 'The OpenAPI document of the Signup API.' },
  { key: 'epaymentApi', title: 'ePayment API', path: '/openapi/epayment.yaml', description: 'The OpenAPI document of the ePayment API for PSPs (card passthrough).' },
  { key: 'webhooksApi', title: 'Webhooks API', path: '/openapi/webhooks.yaml', description: 'The OpenAPI document of the Webhooks API.' },
  { key: 'recurringApi', title: 'Recurring API', path: '/openapi/recurring.yaml', description: 'The OpenAPI document of the Recurring PSP API.' },
  { key: 'adminApi', title: 'Operator API', path: '/openapi/admin.json', description: 'The OpenAPI document of the operator API under /admin.' },
  { key: 'appSimulator', title: 'App simulator', path: '/app', description: 'The Vipps app in a browser: a test user approves or rejects payment requests.' },
  { key: 'console', title: 'Operator console', path: '/console', description: 'PSPs, merchants, test users and payments, for the operator.' },
  { key: 'health', title: 'Health', path: '/health', description: 'Answers while the process runs.' },
  { key: 'ready', title: 'Readiness', path: '/ready', description: 'Answers 200 when the database is reachable.' },
];

/** The curl that fetches an access token with the demo credentials, as the start banner prints it. */
export function accessTokenCurl(publicUrl: string): string {
  return [
    `curl -X POST ${publicUrl}/accessToken/get \\`,
    `  -H "client_id: ${DEMO.psp.clientId}" \\`,
    `  -H "client_secret: ${DEMO.psp.clientSecret}" \\`,
    `  -H "Ocp-Apim-Subscription-Key: ${DEMO.psp.subscriptionKey}" --data ''`,
  ].join('\n');
}

/** The demo credentials of the test environment; undefined in production, where none exist. */
function demoOf(config: Config) {
  if (config.vippsEnv !== 'test') return undefined;
  return {
    pspId: DEMO.psp.pspId,
    subscriptionKey: DEMO.psp.subscriptionKey,
    clientId: DEMO.psp.clientId,
    clientSecret: DEMO.psp.clientSecret,
    merchantSerialNumber: DEMO.msn,
    merchantName: DEMO.merchantName,
    testUserPhone: DEMO.userPhone,
    accessTokenCurl: accessTokenCurl(config.publicUrl),
  };
}

/**
 * Whether an Accept header prefers JSON to HTML: the quality of application/json is higher than that
 * of text/html, each taken from the most specific range that matches it (type, type/*, then *\/*).
 * No Accept, a tie or neither: HTML.
 */
export function prefersJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = accept.split(',').map((part) => {
    const [range, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    let q = 1;
    for (const param of params) {
      const m = /^q\s*=\s*([0-9.]+)$/.exec(param);
      if (m) q = Math.min(1, Math.max(0, Number(m[1]) || 0));
    }
    return { range, q };
  });
  const quality = (type: string): number => {
    const wildcard = `${type.split('/')[0]}/*`;
    let best = { rank: -1, q: 0 };
    for (const { range, q } of ranges) {
      const rank = range === type ? 2 : range === wildcard ? 1 : range === '*/*' ? 0 : -1;
      if (rank > best.rank) best = { rank, q };
    }
    return best.q;
  };
  return quality('application/json') > quality('text/html');
}

export function registerFrontDoor(app: FastifyInstance, config: Config, hsts: boolean): void {
  const environment = config.vippsEnv;
  const demo = demoOf(config);
  const index = {
    name: PACKAGE.name,
    version: PACKAGE.version,
    description: DESCRIPTION,
    environment,
    links: Object.fromEntries([['self', `${config.publicUrl}/`], ...LINKS.map((l) => [l.key, `${config.publicUrl}${l.path}`])]),
    ...(demo ? { demo } : {}),
  };
  const page = { name: PACKAGE.name, version: PACKAGE.version, description: DESCRIPTION, environment, links: LINKS, demo };

  // HEAD / is answered by the same handler, without the body.
  app.get('/', async (request, reply) => {
    reply.header('vary', 'Accept');
    if (prefersJson(request.headers.accept)) {
      applyPageHeaders(reply, { hsts });
      return reply.type('application/json; charset=utf-8').send(index);
    }
    return sendPage(reply, 200, 'front-door', page, { hsts });
  });
}
