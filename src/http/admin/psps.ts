// Operator API for one PSP: rotate its client secret, and its go-live readiness report.
import type { FastifyInstance } from 'fastify';
import type { AdminToken } from '../../operations/admin-token.ts';
import type { Credentials } from '../../operations/credentials.ts';
import { rotateClientSecret } from '../../operations/psps.ts';
import { readinessReport, type ReadinessDeps } from '../../operations/readiness.ts';
import { adminGuard } from './guard.ts';
import { describeAnswers, errorResponses } from './schemas.ts';

export const pspParams = {
  type: 'object', required: ['pspId'], additionalProperties: false,
  properties: { pspId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
} as const;

const evidence = {
  type: 'object',
  required: ['label', 'at', 'pspTransactionId', 'merchantOrderId', 'paymentId', 'detail', 'consoleUrl'],
  properties: {
    label: { type: 'string' },
    at: { type: 'string', format: 'date-time' },
    pspTransactionId: { type: ['string', 'null'] },
    merchantOrderId: { type: ['string', 'null'] },
    paymentId: { type: ['string', 'null'] },
    detail: { type: ['string', 'null'] },
    consoleUrl: { type: ['string', 'null'], description: 'The payment in the operator console, when the evidence is a payment.' },
  },
} as const;

export const readinessResponse = {
  type: 'object',
  required: ['pspId', 'pspName', 'generatedAt', 'met', 'total', 'ready', 'items', 'notApplicable', 'markdown'],
  properties: {
    pspId: { type: 'string' },
    pspName: { type: 'string' },
    generatedAt: { type: 'string', format: 'date-time' },
    met: { type: 'integer', description: 'Items met.' },
    total: { type: 'integer' },
    ready: { type: 'boolean', description: 'Every item is met.' },
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'group', 'title', 'met', 'summary', 'how', 'evidence', 'problems'],
        properties: {
          id: { type: 'string' },
          group: { type: 'string', enum: ['Live flow', 'Error codes', 'makePayment', 'Headers'] },
          title: { type: 'string' },
          met: { type: 'boolean' },
          summary: { type: 'string' },
          how: { type: 'string', description: 'How to produce the evidence.' },
          evidence: { type: 'array', items: evidence },
          problems: { type: 'array', items: evidence, description: 'What stands against the item.' },
        },
      },
    },
    notApplicable: {
      type: 'array',
      items: {
        type: 'object', required: ['code', 'message', 'why'],
        properties: { code: { type: 'string' }, message: { type: 'string' }, why: { type: 'string' } },
      },
    },
    markdown: { type: 'string', description: 'The report as Markdown, with the test IDs Vipps asks for.' },
  },
} as const;

const rotateResponse = {
  type: 'object',
  required: ['pspId', 'name', 'clientId', 'clientSecret', 'note'],
  properties: {
    pspId: { type: 'string' },
    name: { type: 'string' },
    clientId: { type: 'string' },
    clientSecret: { type: 'string' },
    note: { type: 'string' },
  },
} as const;

/** The console page of a payment. */
export function consolePaymentUrl(paymentId: string): string {
  return `/console/payments/${encodeURIComponent(paymentId)}`;
}

/** The report with a console link on every piece of evidence that is a payment. */
export async function linkedReadiness(deps: ReadinessDeps, pspId: string) {
  const report = await readinessReport(deps, pspId);
  const link = <E extends { paymentId: string | null }>(e: E) => ({ ...e, consoleUrl: e.paymentId ? consolePaymentUrl(e.paymentId) : null });
  return { ...report, items: report.items.map((i) => ({ ...i, evidence: i.evidence.map(link), problems: i.problems.map(link) })) };
}

export const ROTATE_NOTE = 'The new client_secret is shown only now; it is stored hashed. The old one no longer gets access tokens; tokens issued before stay valid until they expire.';

type Deps = { adminToken: AdminToken; credentials: Credentials; payments: ReadinessDeps };

export function registerAdminPspRoutes(app: FastifyInstance, deps: Deps): void {
  // In a scope of its own, registered after the API documents plugin has loaded, so they see it.
  app.register(async (scope) => routes(scope, deps));
}

function routes(app: FastifyInstance, deps: Deps): void {
  describeAnswers(app);
  const onRequest = adminGuard(deps.adminToken);

  app.post('/admin/psps/:pspId/rotate-secret', {
    onRequest,
    schema: {
      tags: ['PSPs'], summary: "Rotate a PSP's client secret",
      description: 'A new client_secret, shown only in this answer; the old one is refused from now on. Access tokens already issued stay valid until they expire.',
      params: pspParams, response: { 200: rotateResponse, ...errorResponses(400, 404) },
    },
  }, async (request) => {
    const { pspId } = request.params as { pspId: string };
    const rotated = await rotateClientSecret(deps.payments.database.db, pspId.toUpperCase());
    return { ...rotated, note: ROTATE_NOTE };
  });

  app.get('/admin/psps/:pspId/readiness', {
    onRequest,
    schema: {
      tags: ['PSPs'], summary: "A PSP's go-live readiness report",
      description: 'The "Live flow" of the PSP API checklist evaluated from what this server recorded: each item met or not, with evidence.',
      params: pspParams, response: { 200: readinessResponse, ...errorResponses(400, 404) },
    },
  }, async (request) => {
    const { pspId } = request.params as { pspId: string };
    return linkedReadiness(deps.payments, pspId.toUpperCase());
  });
}
