// Operator API under /admin: PSPs, merchants' flags, test users (their PINs) and cards.
// Every route requires "Authorization: Bearer <ADMIN_TOKEN>". Errors are RFC 7807 problems.
import { CARD_BRANDS } from '../../domain/cards.ts';
import type { FastifyInstance } from 'fastify';
import type { AdminToken } from '../../operations/admin-token.ts';
import { adminGuard } from './guard.ts';
import type { Database } from '../../store/db.ts';
import { createPsp, listPspSummaries } from '../../operations/psps.ts';
import type { Merchants } from '../../operations/merchants.ts';
import { PIN_PATTERN, type CardInput, type Users } from '../../operations/users.ts';
import { describeAnswers, errorResponses, ok, ref } from './schemas.ts';

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

    admin.get('/psps', {
      schema: {
        tags: ['PSPs'], summary: 'List the PSPs',
        response: { 200: ok('Every PSP, without its secrets.', list('psps', ref('PspSummary'))), ...errorResponses() },
      },
    }, async () => ({ psps: await listPspSummaries(deps.database.db) }));

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
    }, async () => ({ merchants: await deps.merchants.listAll() }));

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
    }, async () => ({ users: await deps.users.list() }));

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
      return reply.code(201).send(await deps.users.create(body.phone, body.name ?? `Test user ${body.phone}`, cards, body.pin));
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
      return deps.users.update(phone, request.body as { name?: string; pin?: string | null });
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
      return reply.code(201).send(await deps.users.addCard(phone, request.body as CardInput));
    });
  }, { prefix: '/admin' });
}
