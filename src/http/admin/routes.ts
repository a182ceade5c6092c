// Operator API under /admin: PSPs, merchants' flags, test users (their PINs) and cards.
// Every route requires "Authorization: Bearer <ADMIN_TOKEN>" (or a PSP's console credential: that PSP's
// objects only). Errors are RFC 7807 problems.
import { CARD_BRANDS } from '../../domain/cards.ts';
import type { FastifyInstance } from 'fastify';
import type { AdminToken } from '../../operations/admin-token.ts';
import { adminGuard } from './guard.ts';
import type { Database } from '../../store/db.ts';
import { createPsp, listPspSummaries } from '../../operations/psps.ts';
import type { Merchants } from '../../operations/merchants.ts';
import { PIN_PATTERN, type CardInput, type Users } from '../../operations/users.ts';
import { describeAnswers, errorResponses, ok, ref } from './schemas.ts';
import { requireOperator, scopeOf } from '../../operations/principals.ts';
import { listAudit, type AuditRow } from '../../store/audit.ts';

export interface AdminDeps {
  database: Database;
  adminToken: AdminToken;
  merchants: Merchants;
  users: Users;
}

const card = {
  type: 'object',
  required: ['brand'],
  additionalProperties: false,
  properties: {
    brand: { type: 'string', enum: [...CARD_BRANDS] },
    last4: { type: 'string', pattern: '^\\d{4}$' },
    expiryMonth: { type: 'string', pattern: '^(0[1-9]|1[0-2])$' },
    expiryYear: { type: 'string', pattern: '^20\\d{2}$' },
  },
} as const;

const phoneParams = {
  type: 'object', required: ['phone'], properties: { phone: { type: 'string', pattern: '^\\d{8}$', description: 'The test user\'s phone number (8 digits).' } },
} as const;

const list = (name: string, items: object) => ({
  type: 'object', additionalProperties: false, required: [name], properties: { [name]: { type: 'array', items } },
});

export function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.register(async (admin) => {
    admin.addHook('onRequest', adminGuard(deps.adminToken));
    describeAnswers(admin);

    admin.get('/audit', {
      schema: {
        tags: ['Audit'], summary: 'The audit log, newest first',
        description: 'Every action in the console and this API (each request that may change something): who, what, which object, when, from which address, and the answer\'s status. A PSP\'s person sees its own PSP\'s people\'s actions and the actions on its objects.',
        querystring: {
          type: 'object', additionalProperties: false,
          properties: {
            limit: { type: 'string', pattern: '^\\d{1,3}$', description: '1 to 500 (default 100).' },
            before: { type: 'string', pattern: '^\\d{1,18}$', description: 'The `next` of the page before.' },
          },
        },
        response: {
          200: ok('One page of the log.', {
            type: 'object', required: ['entries', 'next'],
            properties: {
              entries: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'integer' }, at: { type: 'string', format: 'date-time' },
                    actor: { type: 'object', properties: { kind: { type: 'string', enum: ['operator', 'psp'] }, pspId: { type: 'string', nullable: true }, credentialId: { type: 'string', nullable: true }, name: { type: 'string' } } },
                    via: { type: 'string', enum: ['console', 'operator-api'] }, method: { type: 'string' }, route: { type: 'string' },
                    object: { type: 'object', additionalProperties: { type: 'string' } }, pspId: { type: 'string', nullable: true },
                    status: { type: 'integer' }, address: { type: 'string', nullable: true },
                  },
                },
              },
              next: { type: 'integer', nullable: true },
            },
          }),
          ...errorResponses(400),
        },
      },
    }, async (request) => {
      const q = request.query as { limit?: string; before?: string };
      const limit = Math.min(500, Math.max(1, Number(q.limit ?? 100)));
      const found = await listAudit(deps.database.db, { limit: limit + 1, before: q.before === undefined ? undefined : Number(q.before), pspId: scopeOf(request.principal) });
      const shown = found.slice(0, limit);
      return { entries: shown.map(auditView), next: found.length > limit ? shown.at(-1)!.auditId : null };
    });

    admin.get('/psps', {
      schema: {
        tags: ['PSPs'], summary: 'List the PSPs',
        response: { 200: ok('Every PSP, without its secrets.', list('psps', ref('PspSummary'))), ...errorResponses() },
      },
    }, async (request) => {
      const own = scopeOf(request.principal);
      const psps = await listPspSummaries(deps.database.db);
      return { psps: own === undefined ? psps : psps.filter((p) => p.pspId === own) };
    });

    admin.post('/psps', {
      schema: {
        tags: ['PSPs'], summary: 'Create a PSP',
        description: 'New credentials for the PSP API and the Signup API. The client_secret and subscription key are shown only in this answer.',
        response: { 201: ok('The new PSP and its credentials.', ref('PspCredentials')), ...errorResponses(400, 415) },
        body: {
          type: 'object', required: ['name'], additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
        },
      },
    }, async (request, reply) => {
      requireOperator(request.principal, 'Creating a PSP');
      const { name } = request.body as { name: string };
      const credentials = await createPsp(deps.database.db, name);
      return reply.code(201).send({
        ...credentials,
        note: 'The client_secret and subscription key are shown only now; they are stored hashed.',
      });
    });

    admin.get('/merchants', {
      schema: {
        tags: ['Merchants'], summary: 'List every merchant of every PSP',
        response: { 200: ok('Every merchant.', list('merchants', ref('Merchant'))), ...errorResponses() },
      },
    }, async (request) => {
      const own = scopeOf(request.principal);
      const merchants = await deps.merchants.listAll();
      return { merchants: own === undefined ? merchants : merchants.filter((m) => m.pspId === own) };
    });

    admin.patch('/merchants/:msn', {
      schema: {
        tags: ['Merchants'], summary: "Set a merchant's flags",
        description: 'An inactive merchant cannot initiate payments; skipLandingPage lets its PSP skip the landing page.',
        params: {
          type: 'object', required: ['msn'],
          properties: { msn: { type: 'string', pattern: '^\\d{5,6}$', description: 'The merchantSerialNumber.' } },
        },
        body: {
          type: 'object', additionalProperties: false, minProperties: 1,
          properties: { active: { type: 'boolean' }, skipLandingPage: { type: 'boolean' } },
        },
        response: { 200: ok('The merchant after the change.', ref('Merchant')), ...errorResponses(400, 404, 415) },
      },
    }, async (request) => {
      const { msn } = request.params as { msn: string };
      return deps.merchants.setFlags(msn, request.body as { active?: boolean; skipLandingPage?: boolean });
    });

    admin.get('/users', {
      schema: {
        tags: ['Test users'], summary: 'List the test users',
        response: { 200: ok('Every test user with their cards.', list('users', ref('TestUser'))), ...errorResponses() },
      },
    }, async (request) => ({ users: await deps.users.list(scopeOf(request.principal)) }));

    admin.post('/users', {
      schema: {
        tags: ['Test users'], summary: 'Create a test user',
        description: 'Without cards the user gets one VISA card; without a PIN the user logs in with the phone number alone (test environment only).',
        response: { 201: ok('The new user.', ref('TestUser')), ...errorResponses(400, 409, 415) },
        body: {
          type: 'object', required: ['phone'], additionalProperties: false,
          properties: {
            phone: { type: 'string', pattern: '^\\d{8}$' },
            name: { type: 'string', minLength: 1, maxLength: 100 },
            cards: { type: 'array', maxItems: 10, items: card },
            pin: { type: 'string', pattern: PIN_PATTERN },
          },
        },
      },
    }, async (request, reply) => {
      const body = request.body as { phone: string; name?: string; cards?: CardInput[]; pin?: string };
      const cards = body.cards ?? [{ brand: 'VISA' }];
      return reply.code(201).send(await deps.users.create(body.phone, body.name ?? `Test user ${body.phone}`, cards, body.pin, scopeOf(request.principal)));
    });

    admin.patch('/users/:phone', {
      schema: {
        tags: ['Test users'], summary: "Change a test user's name or PIN",
        description: 'A PIN of null removes it.',
        response: { 200: ok('The user after the change.', ref('TestUser')), ...errorResponses(400, 404, 415) },
        params: phoneParams,
        body: {
          type: 'object', additionalProperties: false, minProperties: 1,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            pin: { anyOf: [{ type: 'string', pattern: PIN_PATTERN }, { type: 'null' }] },
          },
        },
      },
    }, async (request) => {
      const { phone } = request.params as { phone: string };
      return deps.users.update(phone, request.body as { name?: string; pin?: string | null }, scopeOf(request.principal));
    });

    admin.post('/users/:phone/cards', {
      schema: {
        tags: ['Test users'], summary: 'Add a card to a test user',
        params: phoneParams,
        body: card,
        response: { 201: ok('The new card.', ref('Card')), ...errorResponses(400, 404, 415) },
      },
    }, async (request, reply) => {
      const { phone } = request.params as { phone: string };
      return reply.code(201).send(await deps.users.addCard(phone, request.body as CardInput, scopeOf(request.principal)));
    });
  }, { prefix: '/admin' });
}

export function auditView(r: AuditRow) {
  return {
    id: r.auditId, at: r.at.toISOString(),
    actor: { kind: r.actorKind, pspId: r.actorPspId, credentialId: r.credentialId, name: r.actorName },
    via: r.via, method: r.method, route: r.route, object: r.object, pspId: r.pspId, status: r.status, address: r.address,
  };
}
