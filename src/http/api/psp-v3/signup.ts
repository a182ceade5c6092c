// PSP Signup API (psp-signup-api.openapi.yaml): a PSP creates and manages its merchants.
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../../domain/errors.ts';
import { signupAuth, type AuthDeps } from '../../plugins/auth.ts';
import type { CreateMerchantInput, Merchants } from '../../../operations/merchants.ts';

const EMAIL = "^[a-zA-Z0-9.!#$%&*+\\/=?^_{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$";
// The spec's website pattern ends in `([-a-zA-Z0-9@:%_\+.~#?&//=]*)*$`: a nested quantifier that
// backtracks exponentially (a value of a few dozen characters blocks the event loop for seconds to
// minutes). `(X*)*` matches exactly what `X*` matches, so this is the same language without it.
const WEBSITE = '^[(http(s)?):\\/\\/(www\\.)?a-zA-Z0-9@:%._\\+~#=]{2,256}\\.[a-z]{2,6}\\b[-a-zA-Z0-9@:%_\\+.~#?&//=]*$';

// Properties the spec does not name are ignored, not refused (OpenAPI's default, and what the
// official Postman collection relies on: it PATCHes companyName).
const address = {
  type: 'object',
  required: ['addressLine1', 'city', 'country', 'postCode'],
  properties: {
    addressLine1: { type: 'string', minLength: 1, maxLength: 255 },
    addressLine2: { type: ['string', 'null'], maxLength: 255 },
    city: { type: 'string', minLength: 1, maxLength: 255 },
    postCode: { type: 'string', minLength: 1, maxLength: 10, pattern: '^[A-Za-z0-9 ]+$' },
    country: { type: 'string', minLength: 2, maxLength: 2, pattern: '^[A-Za-z]{2}$' },
  },
} as const;

const merchantFields = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  mccCode: { type: 'string', minLength: 4, maxLength: 4, pattern: '^\\d{4}$' },
  // An empty logo means "no logo yet" (the official Postman collection sends "logo": "").
  logo: { type: 'string' },
  email: { type: 'string', maxLength: 255, pattern: EMAIL },
  website: { type: 'string', maxLength: 255, pattern: WEBSITE },
  address,
} as const;

const companyFields = {
  companyName: { type: 'string', minLength: 1, maxLength: 255 },
  companyEmail: { type: 'string', maxLength: 255, pattern: EMAIL },
} as const;

const createBody = {
  type: 'object',
  required: ['address', 'companyEmail', 'companyName', 'logo', 'mccCode', 'name', 'organizationNumber'],
  properties: {
    organizationNumber: { type: 'string', minLength: 1, maxLength: 50 },
    ...merchantFields,
    ...companyFields,
  },
} as const;

const patchBody = {
  type: 'object',
  properties: { deactivate: { type: 'boolean' }, ...merchantFields, ...companyFields },
} as const;

const msnParams = {
  type: 'object',
  required: ['merchantSerialNumber'],
  properties: { merchantSerialNumber: { type: 'string', pattern: '^\\d{5,6}$' } },
} as const;

export function registerSignupRoutes(app: FastifyInstance, deps: AuthDeps & { merchants: Merchants }): void {
  const onRequest = signupAuth(deps);
  const base = '/merchant-management/psp/v1/merchants';

  app.get(base, { onRequest }, async (request) => ({ merchants: await deps.merchants.list(request.psp!.pspId) }));

  app.post(base, { onRequest, schema: { body: createBody } }, async (request) => {
    const key = request.headers['idempotency-key'];
    const idempotencyKey = Array.isArray(key) ? key[0] : key;
    if (!idempotencyKey || idempotencyKey.trim() === '' || idempotencyKey.length > 100) {
      throw new ApiError(400, 'validation_error', 'The Idempotency-Key header is required (1-100 characters).', {
        title: "Your request parameters didn't validate.", details: [{ name: 'Idempotency-Key', reason: 'Is required, 1-100 characters' }],
      });
    }
    return deps.merchants.create(request.psp!.pspId, idempotencyKey.trim(), request.body as CreateMerchantInput);
  });

  app.get(`${base}/:merchantSerialNumber`, { onRequest, schema: { params: msnParams } }, async (request) => {
    const { merchantSerialNumber } = request.params as { merchantSerialNumber: string };
    return deps.merchants.get(request.psp!.pspId, merchantSerialNumber);
  });

  app.patch(`${base}/:merchantSerialNumber`, { onRequest, schema: { params: msnParams, body: patchBody } }, async (request, reply) => {
    const { merchantSerialNumber } = request.params as { merchantSerialNumber: string };
    await deps.merchants.patch(request.psp!.pspId, merchantSerialNumber, request.body as Record<string, unknown>);
    return reply.code(200).send();
  });
}
