// The ePayment API document as this server serves it (/openapi/epayment.yaml): the published
// document (openapi/epayment.openapi.yaml, 1.4.1) with what it lacks for PSPs merged in from the
// project's own openapi/epayment-psp.openapi.yaml, read once at start. The changes, and only these:
//   - `servers`: PUBLIC_URL; a bearer security scheme for the access token on every operation (the
//     published apiKey scheme named Authorization makes tools send the bare token);
//   - the Receipt's external $ref (the Order Management document on GitHub) points at its schemas,
//     copied from openapi/order-management-receipt.openapi.yaml, the file it names;
//   - for PSPs: `Psp-Id` on every operation, `CARD_PASSTHROUGH` and `cardPassthrough`, the PSP
//     currencies (SEK, USD, GBP), the card callback as a callback of createPayment;
//   - what later versions publish: references of 8 to 64 characters, `instance` and `extraDetails` in
//     a Problem, the cancel body's `cancelTransactionOnly`; and two errors of 1.4.1 corrected
//     (PaymentEvent requires `name`, not `paymentAction`; the adjust answers are application/json);
//   - a paragraph at the end of `info.description` that says so.
import { readFileSync } from 'node:fs';
import { Document, isMap, parse, parseDocument } from 'yaml';

type Json = Record<string, any>;

const OPENAPI_DIR = new URL('../../../openapi/', import.meta.url);
const RECEIPT_REF = 'https://raw.githubusercontent.com/vippsas/vipps-order-management-api/2.3.24/docs/swagger.yaml#/components/schemas/Receipt';
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function read(file: string): string {
  return readFileSync(new URL(file, OPENAPI_DIR), 'utf8');
}

/** The Receipt schema and every schema it refers to, from the Order Management document. */
function receiptSchemas(): Json {
  const doc = parse(read('order-management-receipt.openapi.yaml')) as Json;
  const all = doc.components.schemas as Json;
  const out: Json = {};
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const ref = (node as Json).$ref;
    if (typeof ref === 'string') {
      const name = /^#\/components\/schemas\/(.+)$/.exec(ref)?.[1];
      if (name && !(name in out)) {
        out[name] = all[name];
        visit(all[name]);
      }
    }
    for (const value of Object.values(node)) visit(value);
  };
  out.Receipt = all.Receipt;
  visit(all.Receipt);
  return out;
}

/** Replaces every `$ref: <from>` in `node` by `$ref: <to>`. */
function replaceRef(node: unknown, from: string, to: string): void {
  if (node === null || typeof node !== 'object') return;
  const o = node as Json;
  if (o.$ref === from) o.$ref = to;
  for (const value of Object.values(o)) replaceRef(value, from, to);
}

export function epaymentDocument(publicUrl: string): Document {
  const published = parseDocument(read('epayment.openapi.yaml'), { prettyErrors: true });
  if (published.errors.length > 0) throw published.errors[0];
  const doc = published.toJS() as Json;
  const additions = parse(read('epayment-psp.openapi.yaml')) as Json;
  const schemas = doc.components.schemas as Json;

  doc.servers = [{ url: publicUrl, description: 'This server (PUBLIC_URL)' }];
  doc.components.securitySchemes = {
    accessToken: {
      type: 'http', scheme: 'bearer', bearerFormat: 'JWT',
      description: `The access token from \`POST ${publicUrl}/accesstoken/get\` (headers \`client_id\`, \`client_secret\` and \`Ocp-Apim-Subscription-Key\`), sent as \`Authorization: Bearer <token>\`.`,
    },
  };
  doc.security = [{ accessToken: [] }];

  // The Receipt, from the file its $ref names.
  for (const [name, schema] of Object.entries(receiptSchemas())) {
    if (name in schemas) throw new Error(`the Order Management schema ${name} would replace an ePayment schema`);
    schemas[name] = schema;
  }
  replaceRef(doc, RECEIPT_REF, '#/components/schemas/Receipt');

  // For PSPs, and what later versions publish.
  Object.assign(schemas, additions.components.schemas);
  doc.components.parameters['Psp-Id'] = additions.components.parameters['Psp-Id'];
  schemas.PaymentMethodType.enum = [...schemas.PaymentMethodType.enum, 'CARD_PASSTHROUGH'];
  schemas.Currency.enum = [...schemas.Currency.enum, 'SEK', 'USD', 'GBP'];
  Object.assign(schemas.Reference, { pattern: '^[a-zA-Z0-9-]{8,64}$', maxLength: 64 });
  schemas.CreatePaymentRequest.properties.cardPassthrough = { $ref: '#/components/schemas/CardPassthrough' };
  Object.assign(schemas.Problem.properties, {
    instance: { type: 'string', description: 'The path of the request, without /epayment.' },
    extraDetails: { type: 'array', nullable: true, items: { $ref: '#/components/schemas/ExtraDetail' }, description: 'The ErrorCode of a domain error, or the fields that did not validate.' },
  });
  schemas.PaymentEvent.required = (schemas.PaymentEvent.required as string[]).map((r) => (r === 'paymentAction' ? 'name' : r));

  for (const item of Object.values(doc.paths as Json)) {
    for (const method of METHODS) {
      const op = (item as Json)[method] as Json | undefined;
      if (!op) continue;
      delete op.security;
      op.parameters = [...(op.parameters ?? []), { $ref: '#/components/parameters/Psp-Id' }];
      if (op.operationId === 'createPayment') op.callbacks = { cardCallback: additions.components.callbacks.CardCallback };
      if (op.operationId === 'cancelPayment') {
        op.requestBody = { required: false, content: { 'application/json': { schema: { $ref: '#/components/schemas/CancelModificationRequest' } } } };
      }
    }
  }
  const adjust = doc.components.responses?.AdjustResponse as Json | undefined;
  if (adjust?.content?.['application/problem+json']) {
    adjust.content = { 'application/json': adjust.content['application/problem+json'] };
  }

  const note = [
    '', '---', '',
    `Served by vipps-psp at ${publicUrl}: the published ePayment document (1.4.1) with what it lacks for PSPs merged in`
      + ' (the `Psp-Id` header, `CARD_PASSTHROUGH` and `cardPassthrough`, the PSP currencies, and the card callback as a'
      + ' callback of createPayment, with its signature headers and answers), the later 8-64 character references,'
      + ' `instance` and `extraDetails` in problems and `cancelTransactionOnly`; the Receipt from the Order Management'
      + ' document it names; `servers` pointing at this server and a bearer scheme for the access token (use **Authorize**).',
    '',
  ].join('\n');
  doc.info.description = `${String(doc.info.description ?? '').trimEnd()}\n${note}`;
  const out = new Document(doc);
  if (!isMap(out.contents)) throw new Error('the ePayment document is not a map');
  return out;
}
