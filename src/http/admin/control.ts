// Operator API for automated tests (VIPPS_ENV=test only; 403 in production):
//   GET  /admin/clock, POST /admin/clock/advance, POST /admin/clock/reset   time travel
//   POST /admin/reset                                                       delete payment data
//   GET, POST, DELETE /admin/faults, DELETE /admin/faults/:id               fault injection rules
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../../domain/errors.ts';
import { FAULT_ROUTES, FAULT_STATUSES, type FaultInput } from '../../domain/faults.ts';
import { faultRuleView, type Controls } from '../../operations/controls.ts';
import type { Credentials } from '../../operations/credentials.ts';
import type { AdminToken } from '../../operations/admin-token.ts';
import { adminGuard } from './guard.ts';
import { requireOperator, scopeOf } from '../../operations/principals.ts';
import { describeAnswers, errorResponses } from './schemas.ts';


const clockView = {
  type: 'object',
  required: ['now', 'offsetSeconds'],
  properties: {
    now: { type: 'string', description: 'The server\'s time, offset included (ISO 8601, UTC).' },
    offsetSeconds: { type: 'number', description: 'How far the server\'s clock is ahead of the real time.' },
  },
} as const;

const faultRule = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    route: { type: 'string', enum: [...FAULT_ROUTES] },
    pspId: { type: ['string', 'null'] },
    msn: { type: ['string', 'null'] },
    pspTransactionId: { type: ['string', 'null'] },
    status: { type: ['integer', 'null'] },
    retryAfterSeconds: { type: ['integer', 'null'] },
    delayMs: { type: 'integer' },
    drop: { type: 'boolean' },
    remaining: { type: ['integer', 'null'], description: 'Matching requests the rule still faults; null: every one.' },
    probability: { type: ['number', 'null'] },
    hits: { type: 'integer', description: 'Requests the rule has faulted, in every process.' },
    expiresAt: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
  },
} as const;

type Deps = { adminToken: AdminToken; controls: Controls; credentials: Credentials };

export function registerControlRoutes(app: FastifyInstance, deps: Deps): void {
  // In a scope of its own, registered after the API documents plugin has loaded, so they see it.
  app.register(async (scope) => routes(scope, deps));
}

function routes(app: FastifyInstance, deps: Deps): void {
  describeAnswers(app);
  const { controls } = deps;
  const testOnly = async (_request: FastifyRequest) => {
    if (!controls.enabled) throw errors.testOnly();
  };
  // The operator token first, then the environment: both before the body is read and validated.
  const onRequest = [adminGuard(deps.adminToken), testOnly];
  /** The fault rules the request's principal may see: a PSP's person, its own PSP's. */
  const ownRules = async (request: FastifyRequest) => {
    const all = await controls.listRules();
    const own = scopeOf(request.principal);
    return own === undefined ? all : all.filter((r) => r.pspId === own);
  };

  app.get('/admin/clock', {
    onRequest, schema: { summary: 'The server\'s time and its offset (test environment)', tags: ['Test controls'], response: { 200: clockView, ...errorResponses(400, 403, 404) } },
  }, async () => controls.clockView());

  app.post('/admin/clock/advance', {
    onRequest,
    schema: {
      summary: 'Move the server\'s clock forward (test environment); expired payments time out at once',
      tags: ['Test controls'],
      body: {
        type: 'object', additionalProperties: false, minProperties: 1, maxProperties: 1,
        properties: {
          seconds: { type: 'number', minimum: 0, maximum: 10 * 365 * 86400, description: 'Seconds to move forward.' },
          to: { type: 'string', minLength: 1, maxLength: 64, description: 'An ISO 8601 time to move to; not before the server\'s time.' },
        },
      },
      response: { 200: clockView, ...errorResponses(400, 403, 404) },
    },
  }, async (request) => {
    requireOperator(request.principal, 'Moving the clock');
    return controls.advance(request.body as { seconds?: number; to?: string });
  });

  app.post('/admin/clock/reset', {
    onRequest, schema: { summary: 'Return the server\'s clock to the real time (test environment)', tags: ['Test controls'], response: { 200: clockView, ...errorResponses(400, 403, 404) } },
  }, async (request) => {
    requireOperator(request.principal, 'Moving the clock');
    return controls.resetClock();
  });

  app.post('/admin/reset', {
    onRequest,
    schema: {
      summary: 'Delete payments, their attempts and logs, status updates, batch runs and idempotency keys (test environment)',
      tags: ['Test controls'],
      body: {
        type: ['object', 'null'], additionalProperties: false,
        properties: { pspId: { type: 'string', minLength: 1, maxLength: 64, description: 'Only this PSP\'s data (batch runs are kept). Absent: every PSP\'s.' } },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            pspId: { type: ['string', 'null'] },
            deleted: { type: 'object', additionalProperties: { type: 'integer' }, description: 'Rows deleted, per table.' },
          },
        },
        ...errorResponses(400, 403, 404),
      },
    },
  }, async (request) => {
    const given = (request.body as { pspId?: string } | null | undefined)?.pspId;
    const own = scopeOf(request.principal);
    // A PSP's person resets its own PSP's data only.
    if (own !== undefined && given !== undefined && given.replace(/-/g, '').toUpperCase() !== own) throw errors.notFound(`No PSP ${given}.`);
    const pspId = own ?? given;
    if (pspId !== undefined && !await deps.credentials.pspById(pspId.replace(/-/g, '').toUpperCase())) throw errors.notFound(`No PSP ${pspId}.`);
    const deleted = await controls.reset(pspId);
    return { pspId: pspId?.replace(/-/g, '').toUpperCase() ?? null, deleted };
  });

  app.get('/admin/faults', {
    onRequest,
    schema: {
      summary: 'List the fault injection rules with their hit counts (test environment)', tags: ['Test controls'],
      response: { 200: { type: 'object', properties: { faults: { type: 'array', items: faultRule } } }, ...errorResponses(400, 403, 404) },
    },
  }, async (request) => ({ faults: (await ownRules(request)).map(faultRuleView) }));

  app.post('/admin/faults', {
    onRequest,
    schema: {
      summary: 'Add a fault injection rule (test environment)',
      tags: ['Test controls'],
      body: {
        type: 'object', required: ['route'], additionalProperties: false,
        properties: {
          route: { type: 'string', enum: [...FAULT_ROUTES], description: 'The requests to fault; makePayment delays the outbound call to the PSP; cardCallback and webhook delay it, or fail it (status: as if the PSP answered it; drop: a broken connection). The ePayment routes (epaymentCreate, epaymentGet, epaymentAdjust, epaymentApprove), cardCallback and webhook match their reference as pspTransactionId.' },
          pspId: { type: 'string', minLength: 1, maxLength: 64, description: 'Only this PSP\'s requests.' },
          msn: { type: 'string', pattern: '^\\d{5,6}$', description: 'Only requests for this Merchant-Serial-Number.' },
          pspTransactionId: { type: 'string', minLength: 1, maxLength: 64, description: 'Only requests about this payment.' },
          status: { type: 'integer', enum: [...FAULT_STATUSES], description: 'Answer with this status, in the route\'s own error shape.' },
          retryAfterSeconds: { type: 'integer', minimum: 0, maximum: 86400, description: 'Retry-After of a 429 (default 1) or 503.' },
          delayMs: { type: 'integer', minimum: 0, maximum: 120000, description: 'Wait this long first (then answer the status, drop, or go on).' },
          drop: { type: 'boolean', description: 'Close the connection without an answer.' },
          times: { type: 'integer', minimum: 1, maximum: 1000000, description: 'Fault the next N matching requests (counted across processes).' },
          probability: { type: 'number', minimum: 0, maximum: 1, description: 'Fault each matching request with this chance.' },
          ttlSeconds: { type: 'integer', minimum: 1, maximum: 30 * 86400, description: 'Remove the rule after this long (server time).' },
        },
      },
      response: { 201: faultRule, ...errorResponses(400, 403, 404) },
    },
  }, async (request, reply) => {
    const given = request.body as FaultInput;
    const own = scopeOf(request.principal);
    // A PSP's person's rules fault its own PSP's requests only.
    if (own !== undefined && given.pspId !== undefined && given.pspId.replace(/-/g, '').toUpperCase() !== own) throw errors.notFound(`No PSP ${given.pspId}.`);
    const input: FaultInput = own === undefined ? given : { ...given, pspId: own };
    if (input.pspId !== undefined && !await deps.credentials.pspById(input.pspId.replace(/-/g, '').toUpperCase())) throw errors.notFound(`No PSP ${input.pspId}.`);
    return reply.code(201).send(faultRuleView(await controls.addRule(input)));
  });

  app.delete('/admin/faults/:id', {
    onRequest,
    schema: {
      summary: 'Remove a fault injection rule (test environment)', tags: ['Test controls'],
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^\\d{1,15}$' } } },
      response: { 204: { type: 'null' }, ...errorResponses(400, 403, 404) },
    },
  }, async (request, reply) => {
    const id = Number((request.params as { id: string }).id);
    if (request.principal?.kind === 'psp' && !(await ownRules(request)).some((r) => r.ruleId === id)) throw errors.notFound(`No fault rule ${id}.`);
    await controls.removeRule(id);
    return reply.code(204).send();
  });

  app.delete('/admin/faults', {
    onRequest,
    schema: {
      summary: 'Remove every fault injection rule (test environment)', tags: ['Test controls'],
      response: { 200: { type: 'object', properties: { removed: { type: 'integer' } } }, ...errorResponses(400, 403, 404) },
    },
  }, async (request) => {
    if (request.principal?.kind !== 'psp') return { removed: await controls.clearRules() };
    const own = await ownRules(request);
    for (const r of own) await controls.removeRule(r.ruleId).catch(() => undefined);
    return { removed: own.length };
  });
}
