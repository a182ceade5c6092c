// The operator API's answers as JSON Schema, for its OpenAPI document (/openapi/admin.json): shared
// schemas (its components) that the routes' responses refer to. They describe; they do not shape: the
// operator routes serialize with JSON.stringify (see `describeAnswers`), so a field missing here is
// still sent, and the HTTP tests check the answers against these schemas.
import { CARD_BRANDS } from '../../domain/cards.ts';
import type { FastifyInstance } from 'fastify';

/** The operator API's tags, in the order the document lists them. */
export const OPERATOR_TAGS = [
  { name: 'PSPs', description: 'PSPs, their API credentials and the console credentials of their people.' },
  { name: 'Merchants', description: "Every PSP's merchants (sales units) and the operator's flags on them." },
  { name: 'Test users', description: 'The users of the app simulator, their PINs and cards.' },
  { name: 'Payments', description: 'A payment as the operator sees it, and acting as its user.' },
  { name: 'ePayment payments', description: 'The ePayment API\'s card passthrough payments: their events and every card callback.' },
  { name: 'Recurring agreements', description: 'Recurring agreements with card passthrough: their charges with each one\'s timeline, every card callback, and what the user does in the app (change the card, stop).' },
  { name: 'Webhooks', description: 'Webhooks API registrations, their deliveries (payload, signature headers, answer, latency, next attempt), and re-sends.' },
  { name: 'Status batch', description: 'The batch that applies the status updates of /v3/psppayments/updatestatus.' },
  { name: 'Test controls', description: 'Time travel, reset and fault injection for automated tests (test environment only).' },
  { name: 'Audit', description: 'Who did what, on which object, when and from where, in the console and this API.' },
] as const;

/**
 * For an operator API scope: the shared schemas its responses refer to, and JSON.stringify to send the
 * answers exactly as the handlers return them (the response schemas describe them).
 */
export function describeAnswers(scope: FastifyInstance): void {
  for (const schema of SHARED) scope.addSchema(schema);
  scope.setSerializerCompiler(() => (data) => JSON.stringify(data));
}

/** A reference to one of the shared schemas. */
export function ref(id: SharedId): { $ref: string } {
  return { $ref: `${id}#` };
}

const string = { type: 'string' } as const;
const nullableString = { type: 'string', nullable: true } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDateTime = { type: 'string', format: 'date-time', nullable: true } as const;
const integer = { type: 'integer' } as const;
const boolean = { type: 'boolean' } as const;

/** RFC 7807 problem details: every error of the operator API. */
const problem = {
  $id: 'Problem',
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'instance'],
  properties: {
    type: { type: 'string', description: 'about:blank#<code>', example: 'about:blank#admin_unauthorized' },
    title: string,
    status: integer,
    detail: string,
    instance: { type: 'string', description: 'urn:uuid:<request id>' },
    extraDetails: {
      type: 'array',
      description: 'The fields that did not validate.',
      items: { type: 'object', properties: { name: string, reason: string } },
    },
  },
} as const;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request did not validate (problem details; extraDetails names the fields).',
  401: 'No or wrong "Authorization: Bearer <ADMIN_TOKEN>", or the operator API is off (no ADMIN_TOKEN in production).',
  403: 'Only in the test environment (VIPPS_ENV=test).',
  404: 'No such item.',
  409: 'A conflict: the item exists already, or the action is not possible in its present state.',
  415: 'The body is not JSON.',
};

/** The error answers of a route, each with its description. */
export function errorResponses(...codes: number[]): Record<number, object> {
  const out: Record<number, object> = {};
  for (const code of [401, ...codes]) out[code] = { description: ERROR_DESCRIPTIONS[code], content: { 'application/problem+json': { schema: ref('Problem') } } };
  return out;
}

const pspSummary = {
  $id: 'PspSummary',
  type: 'object',
  additionalProperties: false,
  required: ['pspId', 'name', 'clientId', 'createdAt'],
  properties: { pspId: string, name: string, clientId: string, createdAt: dateTime },
} as const;

const pspCredentials = {
  $id: 'PspCredentials',
  type: 'object',
  additionalProperties: false,
  required: ['pspId', 'name', 'clientId', 'clientSecret', 'subscriptionKey', 'note'],
  properties: {
    pspId: { type: 'string', description: 'The Psp-Id header of the PSP API.' },
    name: string,
    clientId: { type: 'string', description: 'The client_id header of /accessToken/get.' },
    clientSecret: { type: 'string', description: 'The client_secret header of /accessToken/get; shown only now.' },
    subscriptionKey: { type: 'string', description: 'The Ocp-Apim-Subscription-Key header; shown only now.' },
    note: string,
  },
} as const;

const merchant = {
  $id: 'Merchant',
  type: 'object',
  additionalProperties: false,
  required: [
    'organizationNumber', 'companyName', 'companyEmail', 'merchantSerialNumber', 'name', 'status', 'email', 'website',
    'createdAt', 'updatedAt', 'address', 'pspId', 'mccCode', 'skipLandingPage', 'active',
  ],
  properties: {
    organizationNumber: string,
    companyName: string,
    companyEmail: string,
    merchantSerialNumber: string,
    name: string,
    status: { type: 'string', enum: ['ACTIVE', 'DEACTIVATED'] },
    email: nullableString,
    website: nullableString,
    createdAt: dateTime,
    updatedAt: dateTime,
    address: {
      type: 'object',
      additionalProperties: false,
      properties: { addressLine1: string, addressLine2: nullableString, city: string, postCode: string, country: string },
    },
    pspId: string,
    mccCode: nullableString,
    skipLandingPage: { type: 'boolean', description: 'Whether the PSP may skip the landing page for this merchant.' },
    active: boolean,
  },
} as const;

const card = {
  $id: 'Card',
  type: 'object',
  additionalProperties: false,
  required: ['cardId', 'brand', 'maskedNumber', 'last4', 'expiryMonth', 'expiryYear'],
  properties: {
    cardId: { type: 'string', format: 'uuid' },
    brand: { type: 'string', enum: [...CARD_BRANDS] },
    maskedNumber: string,
    last4: string,
    expiryMonth: string,
    expiryYear: string,
  },
} as const;

const user = {
  $id: 'TestUser',
  type: 'object',
  additionalProperties: false,
  required: ['phone', 'name', 'hasPin', 'cards'],
  properties: { phone: string, name: string, hasPin: boolean, cards: { type: 'array', items: ref('Card') } },
} as const;

const payment = {
  $id: 'Payment',
  type: 'object',
  additionalProperties: false,
  required: ['paymentId', 'pspId', 'pspTransactionId', 'merchantSerialNumber', 'merchantOrderId', 'amount', 'currency', 'state', 'deliveries'],
  properties: {
    paymentId: { type: 'string', format: 'uuid' },
    pspId: string,
    pspTransactionId: string,
    merchantSerialNumber: string,
    merchantOrderId: string,
    amount: { type: 'integer', description: 'In øre.' },
    currency: string,
    state: string,
    customerMobileNumber: nullableString,
    phone: { type: 'string', nullable: true, description: 'The user who logged in to pay it.' },
    paymentText: nullableString,
    isApp: boolean,
    skipLandingPage: boolean,
    pspRedirectUrl: string,
    makePaymentUrl: string,
    merchantAgreementUrl: nullableString,
    url3dSecure: nullableString,
    errorId: nullableString,
    errorText: nullableString,
    failureReason: nullableString,
    expiresAt: nullableDateTime,
    createdAt: dateTime,
    updatedAt: dateTime,
    transactionSummary: {
      type: 'object',
      description: 'As in the PSP API\'s details.',
      properties: { capturedAmount: integer, remainingAmountToCapture: integer, refundedAmount: integer, remainingAmountToRefund: integer },
    },
    transactionLogHistory: {
      type: 'array',
      description: 'As in the PSP API\'s details.',
      items: {
        type: 'object',
        properties: { amount: integer, paymentText: string, timeStamp: string, operation: string, operationSuccess: boolean },
      },
    },
    deliveries: {
      type: 'array',
      description: 'Every makePayment call to the PSP for this payment, in order.',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          at: dateTime,
          paymentState: string,
          url: string,
          request: { description: 'The makePayment body sent (network token masked).' },
          responseStatus: { type: 'integer', nullable: true },
          responseBody: { type: 'string', nullable: true, description: 'The PSP\'s answer, as far as it was read.' },
          latencyMs: { type: 'integer', nullable: true },
          outcome: string,
          error: nullableString,
          sentAt: nullableDateTime,
          completedAt: nullableDateTime,
        },
      },
    },
  },
} as const;

const batchRun = {
  $id: 'BatchRun',
  type: 'object',
  additionalProperties: false,
  required: ['runId', 'trigger', 'status', 'applied', 'rejected', 'startedAt'],
  properties: {
    runId: integer,
    trigger: { type: 'string', enum: ['schedule', 'manual', 'immediate'] },
    status: { type: 'string', enum: ['running', 'finished', 'interrupted'] },
    resumesRunId: { type: 'integer', nullable: true, description: 'The interrupted run whose leftover updates this run took up.' },
    invocations: { type: 'integer', description: 'Immediate mode: how many runs (one per request) this row adds up.' },
    applied: integer,
    rejected: integer,
    rejectedByReason: { type: 'object', additionalProperties: { type: 'integer' } },
    durationMs: integer,
    startedAt: dateTime,
    finishedAt: nullableDateTime,
    interruptedAt: nullableDateTime,
  },
} as const;

const rejectedUpdate = {
  $id: 'RejectedUpdate',
  type: 'object',
  additionalProperties: false,
  properties: {
    updateId: integer,
    runId: { type: 'integer', nullable: true },
    pspId: string,
    pspTransactionId: string,
    status: string,
    amount: integer,
    currency: string,
    operationStatus: string,
    reason: string,
    reasonText: string,
    receivedAt: dateTime,
    processedAt: nullableDateTime,
  },
} as const;

const amountObject = { type: 'object', properties: { currency: string, value: integer } } as const;

/** An ePayment API payment as the operator sees it: the payment, its events and every card callback. */
const epayment = {
  $id: 'EPayment',
  type: 'object',
  additionalProperties: false,
  required: ['paymentId', 'pspId', 'merchantSerialNumber', 'reference', 'amount', 'state', 'aggregate', 'events', 'cardCallbacks'],
  properties: {
    paymentId: { type: 'string', format: 'uuid' },
    pspId: string,
    merchantSerialNumber: string,
    reference: string,
    pspReference: { type: 'string', description: 'The CREATED event\'s: the payment\'s own in GET.' },
    amount: amountObject,
    state: { type: 'string', enum: ['CREATED', 'AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED'] },
    userFlow: string,
    paymentMethod: string,
    cardPassthrough: {
      type: 'object',
      properties: {
        pspReference: string, cardCallbackUrl: string, allowedCardTypes: { type: 'array', items: string },
        preferVisaPartOfVisaDankort: boolean, publicEncryptionKeyId: nullableString,
      },
    },
    customerPhone: { type: 'string', nullable: true, description: 'The test user named by customer.phoneNumber.' },
    phone: { type: 'string', nullable: true, description: 'The user who approved (or is approving) it.' },
    returnUrl: nullableString,
    paymentDescription: nullableString,
    cardBin: nullableString,
    networkTransactionReference: { type: 'string', nullable: true, description: 'From the PSP\'s RESERVE answer.' },
    closedReason: { type: 'string', nullable: true, description: 'Why the payment takes no more attempts (a final FAIL, an HTTP error, a timeout).' },
    expiresAt: nullableDateTime,
    createdAt: dateTime,
    updatedAt: dateTime,
    aggregate: {
      type: 'object',
      properties: { authorizedAmount: amountObject, cancelledAmount: amountObject, capturedAmount: amountObject, refundedAmount: amountObject },
    },
    events: {
      type: 'array',
      description: 'As in GET …/events.',
      items: { type: 'object', properties: { name: string, amount: amountObject, pspReference: string, idempotencyKey: nullableString, success: boolean, timestamp: dateTime } },
    },
    webhooks: {
      type: 'array',
      description: "The payment's webhook deliveries, in order (GET /admin/webhooks/{id}/deliveries describes each).",
      items: { type: 'object', additionalProperties: true },
    },
    cardCallbacks: {
      type: 'array',
      description: 'Every card callback to the PSP for this payment, in order.',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          at: dateTime,
          round: { type: 'integer', description: '1, or 2 for the callback after 3-D Secure.' },
          authorizationAttemptId: string,
          url: string,
          requestHeaders: { type: 'object', description: 'The signature headers sent (x-ms-date, x-ms-content-sha256, host, authorization).' },
          request: { description: 'The body sent (network token masked, cryptogram left out).' },
          responseStatus: { type: 'integer', nullable: true },
          responseBody: { type: 'string', nullable: true, description: 'The PSP\'s answer, as far as it was read.' },
          latencyMs: { type: 'integer', nullable: true },
          outcome: { type: 'string', enum: ['IN_FLIGHT', 'RESERVE', 'FAIL', 'SOFT_DECLINE', 'ERROR', 'ABANDONED'] },
          error: nullableString,
          completedAt: nullableDateTime,
        },
      },
    },
  },
} as const;

const SHARED = [problem, pspSummary, pspCredentials, merchant, card, user, payment, batchRun, rejectedUpdate, epayment];

export type SharedId = 'Problem' | 'PspSummary' | 'PspCredentials' | 'Merchant' | 'Card' | 'TestUser' | 'Payment' | 'BatchRun' | 'RejectedUpdate' | 'EPayment';

/** A 2xx answer with a JSON body. */
export function ok(description: string, schema: object): object {
  return { description, content: { 'application/json': { schema } } };
}
