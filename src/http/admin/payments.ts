// Operator API for payments: the list (the console's filters and keyset pages, from the same query), a payment with its log and every makePayment attempt; acting as the user
// (reject) in the test environment; expiring a waiting payment now; sending a TIMEOUT or USER_CANCEL
// notification again that did not reach the PSP. Each action is recorded as an `admin.*` event.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, errors } from '../../domain/errors.ts';
import { STATES } from '../../domain/psp-v3/payment.ts';
import { listPayments, type ListedPayment, type PaymentFilters } from '../../store/console.ts';
import { listKeyText, parseListKey } from '../console/payments.ts';
import { consolePaymentUrl } from './psps.ts';
import { attemptsOf, findPayment, findPaymentById, logOf } from '../../store/payments.ts';
import type { Tx } from '../../store/db.ts';
import { paymentAdminView, type PaymentDeps } from '../../operations/payment-deps.ts';
import { expireNow, redeliverNotification, rejectAsUser } from '../../operations/operator-actions.ts';
import type { AdminToken } from '../../operations/admin-token.ts';
import { adminGuard } from './guard.ts';
import { scopeOf } from '../../operations/principals.ts';
import { describeAnswers, errorResponses, ok, ref } from './schemas.ts';

const params = {
  type: 'object',
  required: ['pspId', 'pspTransactionId'],
  properties: {
    pspId: { type: 'string', maxLength: 64, description: 'The PSP\'s Psp-Id (any case).' },
    pspTransactionId: { type: 'string', maxLength: 64 },
  },
} as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    psp: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', description: "Only this PSP's payments (its Psp-Id, any case)." },
    msn: { type: 'string', pattern: '^\\d{1,12}$', description: "Only this sales unit's payments (its merchantSerialNumber)." },
    state: { type: 'string', enum: [...STATES], description: 'Only payments in this state.' },
    since: { type: 'string', format: 'date-time', description: 'Only payments created at or after this moment.' },
    until: { type: 'string', format: 'date-time', description: 'Only payments created before this moment.' },
    search: { type: 'string', minLength: 1, maxLength: 100, description: 'A pspTransactionId or a merchantOrderId (exact).' },
    limit: { type: 'string', pattern: '^\\d{1,3}$', description: 'How many, newest first (1 to 100, default 25).' },
    after: { type: 'string', maxLength: 200, description: 'The `next` of the page before: the page that follows it.' },
  },
} as const;

const listedPayment = {
  type: 'object',
  additionalProperties: false,
  required: ['paymentId', 'pspId', 'pspTransactionId', 'merchantSerialNumber', 'merchantOrderId', 'amount', 'currency', 'state', 'createdAt', 'consoleUrl'],
  properties: {
    paymentId: { type: 'string', format: 'uuid' },
    pspId: { type: 'string' },
    pspTransactionId: { type: 'string' },
    merchantSerialNumber: { type: 'string' },
    merchantOrderId: { type: 'string' },
    amount: { type: 'integer', description: 'In øre.' },
    currency: { type: 'string' },
    state: { type: 'string', enum: [...STATES] },
    createdAt: { type: 'string', format: 'date-time' },
    consoleUrl: { type: 'string', description: 'The payment in the operator console.' },
  },
} as const;

const listResponse = {
  type: 'object',
  additionalProperties: false,
  required: ['payments', 'next'],
  properties: {
    payments: { type: 'array', items: listedPayment, description: 'Newest first.' },
    next: { type: 'string', nullable: true, description: 'Give it as `after` for the next page; null on the last page.' },
  },
} as const;

/** The cursor of a page: its last row's position, opaque to the caller. */
function cursorOf(p: ListedPayment): string {
  return Buffer.from(listKeyText(p.key)).toString('base64url');
}

function badQuery(name: string, reason: string): ApiError {
  return new ApiError(400, 'invalid_query', `Invalid query: ${reason}`, { details: [{ name, reason }] });
}

function readCursor(value: string | undefined) {
  if (value === undefined || value === '') return undefined;
  const key = /^[A-Za-z0-9_-]+$/.test(value) ? parseListKey(Buffer.from(value, 'base64url').toString('utf8')) : undefined;
  if (!key) throw badQuery('after', 'after is not a cursor this list gave; start from the first page.');
  return key;
}

export function registerAdminPaymentRoutes(app: FastifyInstance, deps: { adminToken: AdminToken; payments: PaymentDeps }): void {
  app.register(async (scope) => routes(scope, deps));
}

function routes(app: FastifyInstance, deps: { adminToken: AdminToken; payments: PaymentDeps }): void {
  describeAnswers(app);
  const onRequest = adminGuard(deps.adminToken);
  const db = deps.payments.database.db;

  app.get('/admin/payments', {
    onRequest,
    schema: {
      tags: ['Payments'], summary: 'List payments, newest first',
      description: "The operator console's payments list: filter by PSP, sales unit, state and creation time, or find one by its pspTransactionId or merchantOrderId; pages follow with `after`.",
      querystring: listQuery,
      response: { 200: ok('One page of payments.', listResponse), ...errorResponses(400) },
    },
  }, async (request) => {
    const q = request.query as { psp?: string; msn?: string; state?: string; since?: string; until?: string; search?: string; limit?: string; after?: string };
    const limit = q.limit === undefined ? 25 : Number(q.limit);
    if (limit < 1 || limit > 100) throw badQuery('limit', 'limit must be between 1 and 100.');
    const filters: PaymentFilters = {
      pspId: scopeOf(request.principal) ?? q.psp?.toUpperCase(), msn: q.msn, state: q.state, search: q.search,
      from: q.since === undefined ? undefined : new Date(q.since), to: q.until === undefined ? undefined : new Date(q.until),
    };
    const page = await listPayments(db, filters, readCursor(q.after), limit);
    const last = page.payments.at(-1);
    return {
      payments: page.payments.map((p) => ({
        paymentId: p.paymentId, pspId: p.pspId, pspTransactionId: p.pspTransactionId, merchantSerialNumber: p.msn, merchantOrderId: p.merchantOrderId,
        amount: p.amount, currency: p.currency, state: p.state, createdAt: p.createdAt.toISOString(), consoleUrl: consolePaymentUrl(p.paymentId),
      })),
      next: page.more && last ? cursorOf(last) : null,
    };
  });

  async function load(tx: Tx, pspId: string, pspTransactionId: string) {
    const payment = await findPayment(tx, pspId.toUpperCase(), pspTransactionId);
    if (!payment) throw errors.notFound(`No payment ${pspTransactionId} for PSP ${pspId}.`);
    return payment;
  }

  app.get('/admin/payments/:pspId/:pspTransactionId', {
    onRequest,
    schema: {
      tags: ['Payments'], summary: 'A payment with its log and every makePayment attempt',
      params,
      response: { 200: ok('The payment, its log and its makePayment attempts, read in one snapshot.', ref('Payment')), ...errorResponses(400, 404) },
    },
  }, async (request) => {
    const { pspId, pspTransactionId } = request.params as { pspId: string; pspTransactionId: string };
    // One snapshot: the payment, its log and its attempts as they were at one moment.
    return db.transaction(async (tx) => {
      const payment = await load(tx, pspId, pspTransactionId);
      return paymentAdminView(payment, await logOf(tx, payment.paymentId), await attemptsOf(tx, payment.paymentId));
    }, { isolationLevel: 'repeatable read', accessMode: 'read only' });
  });

  async function view(paymentId: string) {
    return db.transaction(async (tx) => {
      const payment = (await findPaymentById(tx, paymentId))!;
      return paymentAdminView(payment, await logOf(tx, paymentId), await attemptsOf(tx, paymentId));
    }, { isolationLevel: 'repeatable read', accessMode: 'read only' });
  }

  const action = (summary: string, description: string, codes: number[], run: (paymentId: string) => Promise<unknown>) => ({
    handler: async (request: FastifyRequest) => {
      const { pspId, pspTransactionId } = request.params as { pspId: string; pspTransactionId: string };
      const payment = await load(db, pspId, pspTransactionId);
      await run(payment.paymentId);
      return view(payment.paymentId);
    },
    // No body is read: none, or any, is fine.
    schema: {
      tags: ['Payments'], summary, description, params,
      response: { 200: ok('The payment after the action, read in one snapshot.', ref('Payment')), ...errorResponses(...codes) },
    },
  });

  const reject = action('Reject the payment as its user would (test environment)',
    'The user cancels in the app: the payment becomes USER_CANCEL and the PSP is told by makePayment. Recorded as an admin.reject event.',
    [400, 403, 404, 409], (id) => rejectAsUser(deps.payments, id, 'admin'));
  app.post('/admin/payments/:pspId/:pspTransactionId/reject', { onRequest, schema: reject.schema }, reject.handler);

  const expire = action('Expire a waiting payment now',
    'The payment becomes TIMEOUT and the PSP gets its TIMEOUT makePayment, as when its deadline passes. Recorded as an admin.expire event.',
    [400, 404, 409], (id) => expireNow(deps.payments, id, 'admin'));
  app.post('/admin/payments/:pspId/:pspTransactionId/expire', { onRequest, schema: expire.schema }, expire.handler);

  const redeliver = action('Send a notification again',
    'A TIMEOUT or USER_CANCEL makePayment that ended NOT_DELIVERED or ABANDONED goes out once more. Recorded as an admin.redeliver event.',
    [400, 404, 409], (id) => redeliverNotification(deps.payments, id, 'admin'));
  app.post('/admin/payments/:pspId/:pspTransactionId/redeliver', { onRequest, schema: redeliver.schema }, redeliver.handler);
}
