// Operator API for one PSP: rotate its client secret, and its go-live readiness report.
import type { FastifyInstance } from 'fastify';
import type { AdminToken } from '../../operations/admin-token.ts';
import type { Credentials } from '../../operations/credentials.ts';
import { rotateClientSecret } from '../../operations/psps.ts';
import { encryptionKeysOf, registerEncryptionKey, removeEncryptionKey } from '../../operations/encryption-keys.ts';
import { readinessReport, type ReadinessDeps } from '../../operations/readiness.ts';
import { adminGuard } from './guard.ts';
import { errors } from '../../domain/errors.ts';
import { requireOperator } from '../../operations/principals.ts';
import { ITEM_GROUPS } from '../../domain/readiness.ts';
import { EPAYMENT_GROUPS } from '../../domain/epayment/readiness.ts';
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

/** The items of a checklist, of the given groups. */
function itemsOf(groups: readonly string[]) {
  return {
    type: 'array',
    items: {
      type: 'object',
      required: ['id', 'group', 'title', 'met', 'summary', 'how', 'evidence', 'problems'],
      properties: {
        id: { type: 'string' },
        group: { type: 'string', enum: [...groups] },
        title: { type: 'string' },
        met: { type: 'boolean' },
        summary: { type: 'string' },
        how: { type: 'string', description: 'How to produce the evidence.' },
        evidence: { type: 'array', items: evidence },
        problems: { type: 'array', items: evidence, description: 'What stands against the item.' },
      },
    },
  } as const;
}

const epaymentChecklist = {
  type: 'object',
  required: ['met', 'total', 'ready', 'items'],
  description: 'The second checklist: the ePayment PSP API (card passthrough). Its evidence names the reference (label) and links to the console\'s ePayment page.',
  properties: {
    met: { type: 'integer' },
    total: { type: 'integer' },
    ready: { type: 'boolean' },
    items: itemsOf(EPAYMENT_GROUPS),
  },
} as const;

export const readinessResponse = {
  type: 'object',
  required: ['pspId', 'pspName', 'generatedAt', 'met', 'total', 'ready', 'items', 'notApplicable', 'epayment', 'markdown'],
  properties: {
    epayment: epaymentChecklist,
    pspId: { type: 'string' },
    pspName: { type: 'string' },
    generatedAt: { type: 'string', format: 'date-time' },
    met: { type: 'integer', description: 'Items met.' },
    total: { type: 'integer' },
    ready: { type: 'boolean', description: 'Every item is met.' },
    items: itemsOf(ITEM_GROUPS),
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

const encryptionKey = {
  type: 'object',
  required: ['keyId', 'pspId', 'algorithm', 'bits', 'fingerprint', 'publicKey', 'createdAt'],
  properties: {
    keyId: { type: 'string', format: 'uuid', description: 'The publicEncryptionKeyId to send in cardPassthrough.' },
    pspId: { type: 'string' },
    algorithm: { type: 'string', enum: ['RSA-OAEP-256'], description: 'RSA-OAEP with SHA-256 (and MGF1 with SHA-256).' },
    bits: { type: 'integer' },
    fingerprint: { type: 'string', description: "sha256 of the key's DER (SubjectPublicKeyInfo), hex." },
    publicKey: { type: 'string', description: 'The key as SPKI PEM.' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

const keyParams = {
  type: 'object', required: ['pspId', 'keyId'], additionalProperties: false,
  properties: { pspId: pspParams.properties.pspId, keyId: { type: 'string', maxLength: 64 } },
} as const;

const consoleCredential = {
  type: 'object',
  required: ['credentialId', 'pspId', 'name', 'createdAt', 'revokedAt', 'lastUsedAt'],
  properties: {
    credentialId: { type: 'string', format: 'uuid' },
    pspId: { type: 'string' },
    name: { type: 'string', description: 'Who it is for, as the audit log names them.' },
    createdAt: { type: 'string', format: 'date-time' },
    revokedAt: { type: 'string', format: 'date-time', nullable: true },
    lastUsedAt: { type: 'string', format: 'date-time', nullable: true },
    token: { type: 'string', description: 'Only in the answer that issues it: sign in to the console with it, or send it as "Authorization: Bearer …" to the operator API.' },
  },
} as const;

const credentialParams = {
  type: 'object', required: ['pspId', 'credentialId'], additionalProperties: false,
  properties: { pspId: pspParams.properties.pspId, credentialId: { type: 'string', maxLength: 64 } },
} as const;

/** The console page of a payment. */
export function consolePaymentUrl(paymentId: string): string {
  return `/console/payments/${encodeURIComponent(paymentId)}`;
}

/** The report with a console link on every piece of evidence that is a payment. */
export async function linkedReadiness(deps: ReadinessDeps, pspId: string) {
  const report = await readinessReport(deps, pspId);
  const link = <E extends { paymentId: string | null }>(e: E) => ({ ...e, consoleUrl: e.paymentId ? consolePaymentUrl(e.paymentId) : null });
  const linkEpayment = <E extends { paymentId: string | null }>(e: E) => ({ ...e, consoleUrl: e.paymentId ? `/console/epayments/${encodeURIComponent(e.paymentId)}` : null });
  return {
    ...report,
    items: report.items.map((i) => ({ ...i, evidence: i.evidence.map(link), problems: i.problems.map(link) })),
    epayment: { ...report.epayment, items: report.epayment.items.map((i) => ({ ...i, evidence: i.evidence.map(linkEpayment), problems: i.problems.map(linkEpayment) })) },
  };
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

  app.post('/admin/psps/:pspId/encryption-keys', {
    onRequest,
    schema: {
      tags: ['PSPs'], summary: 'Register a public key for encryptedPan',
      description: 'An RSA public key (PEM, 2048 to 8192 bits) for a standalone Dankort\'s encryptedPan. Send its `keyId` as `cardPassthrough.publicEncryptionKeyId`. '
        + 'Give `keyId` to choose the id yourself (the same key under the same id again answers 200 with the stored key); another key under a taken id is 409.',
      params: pspParams,
      body: {
        type: 'object', required: ['publicKey'], additionalProperties: false,
        properties: {
          publicKey: { type: 'string', minLength: 1, maxLength: 20000, description: 'PEM: "-----BEGIN PUBLIC KEY-----" (SPKI) or "-----BEGIN RSA PUBLIC KEY-----" (PKCS#1).' },
          keyId: { type: 'string', maxLength: 64, description: 'A GUID of your choice; one is made when absent.' },
        },
      },
      response: { 200: encryptionKey, 201: encryptionKey, ...errorResponses(400, 404, 409) },
    },
  }, async (request, reply) => {
    const { pspId } = request.params as { pspId: string };
    const body = request.body as { publicKey: string; keyId?: string };
    const { created, key } = await registerEncryptionKey(deps.payments.database.db, pspId.toUpperCase(), body.publicKey, body.keyId);
    return reply.code(created ? 201 : 200).send(key);
  });

  app.get('/admin/psps/:pspId/encryption-keys', {
    onRequest,
    schema: {
      tags: ['PSPs'], summary: "A PSP's public keys for encryptedPan", params: pspParams,
      response: { 200: { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: encryptionKey } } }, ...errorResponses(400, 404) },
    },
  }, async (request) => {
    const { pspId } = request.params as { pspId: string };
    return { keys: await encryptionKeysOf(deps.payments.database.db, pspId.toUpperCase()) };
  });

  app.delete('/admin/psps/:pspId/encryption-keys/:keyId', {
    onRequest,
    schema: {
      tags: ['PSPs'], summary: 'Remove a public key',
      description: 'Payments created with it can no longer be paid with a standalone Dankort; new payments naming it are refused.',
      params: keyParams, response: { 204: { type: 'null' }, ...errorResponses(400, 404) },
    },
  }, async (request, reply) => {
    const { pspId, keyId } = request.params as { pspId: string; keyId: string };
    await removeEncryptionKey(deps.payments.database.db, pspId.toUpperCase(), keyId);
    return reply.code(204).send();
  });

  const consoleCredentials = () => {
    const c = deps.adminToken.consoleCredentials;
    if (!c) throw errors.notFound('Console credentials are not available on this server.');
    return c;
  };

  app.post('/admin/psps/:pspId/console-credentials', {
    onRequest,
    schema: {
      tags: ['PSPs'], summary: "Issue a console credential to a PSP's person",
      description: 'With it they sign in to the console, and call this API, seeing and acting on only this PSP\'s payments, agreements, webhooks, merchants, test users they made, batch results and readiness. The token is in this answer only (stored as its sha256). The operator\'s alone.',
      params: pspParams,
      body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 200 } } },
      response: { 201: consoleCredential, ...errorResponses(400, 403, 404) },
    },
  }, async (request, reply) => {
    requireOperator(request.principal, 'Issuing console credentials');
    const { pspId } = request.params as { pspId: string };
    const psp = await deps.credentials.pspById(pspId.replace(/-/g, '').toUpperCase());
    if (!psp) throw errors.notFound(`No PSP ${pspId}.`);
    return reply.code(201).send(await consoleCredentials().issue(psp.pspId, (request.body as { name: string }).name));
  });

  app.get('/admin/psps/:pspId/console-credentials', {
    onRequest,
    schema: {
      tags: ['PSPs'], summary: "A PSP's console credentials (without their tokens)", params: pspParams,
      response: { 200: { type: 'object', required: ['credentials'], properties: { credentials: { type: 'array', items: consoleCredential } } }, ...errorResponses(400, 404) },
    },
  }, async (request) => {
    const { pspId } = request.params as { pspId: string };
    return { credentials: await consoleCredentials().list(pspId.replace(/-/g, '').toUpperCase()) };
  });

  app.delete('/admin/psps/:pspId/console-credentials/:credentialId', {
    onRequest,
    schema: {
      tags: ['PSPs'], summary: 'Revoke a console credential',
      description: 'Refused from the next request on, by every process; its console sessions end with it.',
      params: credentialParams, response: { 200: consoleCredential, ...errorResponses(400, 404) },
    },
  }, async (request) => {
    const { pspId, credentialId } = request.params as { pspId: string; credentialId: string };
    return consoleCredentials().revoke(pspId.replace(/-/g, '').toUpperCase(), credentialId);
  });

  app.get('/admin/psps/:pspId/readiness', {
    onRequest,
    schema: {
      tags: ['PSPs'], summary: "A PSP's go-live readiness report",
      description: 'The "Live flow" of the PSP API checklist evaluated from what this server recorded: each item met or not, with evidence; and, under `epayment`, the checklist of the ePayment PSP API.',
      params: pspParams, response: { 200: readinessResponse, ...errorResponses(400, 404) },
    },
  }, async (request) => {
    const { pspId } = request.params as { pspId: string };
    return linkedReadiness(deps.payments, pspId.toUpperCase());
  });
}
