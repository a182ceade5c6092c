// The Recurring API document as this server serves it (/openapi/recurring.yaml): the published
// document (openapi/recurring.openapi.yaml, 2.6.17) with what it lacks for PSPs merged in from the
// project's own openapi/recurring-psp.openapi.yaml, read once at start. The changes, and only these:
//   - `servers`: PUBLIC_URL; its bearer scheme on every operation;
//   - only what a PSP calls and this server answers: the v3 agreement and charge operations (not the
//     deprecated v2 ones, nor v3's create-a-charge, which the v4 batch replaces for PSPs), and the v4
//     PSP charge endpoints;
//   - `Psp-Id` on every operation; `cardPassthrough` required on a draft; pricing type FLEXIBLE, an
//     interval it may leave out, the PSP currencies and country codes; ErrorV3's `extraDetails` as
//     `{name, reason}`; the charge type UNSCHEDULED;
//   - ChargeResponseV3's `id` up to 50 characters (a PSP's chargeId), and its `transactionId` pattern
//     corrected (2.6.17 has "^\d{10+}$", which is no regular expression);
//   - a paragraph at the end of `info.description` that says so.
import { readFileSync } from 'node:fs';
import { Document, parse, parseDocument } from 'yaml';
import { RECURRING_CURRENCIES } from '../../domain/recurring/agreement.ts';

type Json = Record<string, any>;

const OPENAPI_DIR = new URL('../../../openapi/', import.meta.url);
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** The published operations this server answers (method and path). */
const KEPT: Record<string, string[]> = {
  '/recurring/v3/agreements': ['get', 'post'],
  '/recurring/v3/agreements/{agreementId}': ['get', 'patch'],
  '/recurring/v3/agreements/{agreementId}/accept': ['patch'],
  '/recurring/v3/agreements/{agreementId}/charges': ['get'],
  '/recurring/v3/agreements/{agreementId}/charges/{chargeId}': ['get', 'delete'],
  '/recurring/v3/charges/{chargeId}': ['get'],
  '/recurring/v3/agreements/{agreementId}/charges/{chargeId}/capture': ['post'],
  '/recurring/v3/agreements/{agreementId}/charges/{chargeId}/refund': ['post'],
};

function read(file: string): string {
  return readFileSync(new URL(file, OPENAPI_DIR), 'utf8');
}

export function recurringDocument(publicUrl: string): Document {
  const published = parseDocument(read('recurring.openapi.yaml'), { prettyErrors: true });
  if (published.errors.length > 0) throw published.errors[0];
  const doc = published.toJS() as Json;
  const additions = parse(read('recurring-psp.openapi.yaml')) as Json;
  const schemas = doc.components.schemas as Json;

  doc.servers = [{ url: publicUrl, description: 'This server (PUBLIC_URL)' }];
  doc.security = [{ bearerAuth: [] }];
  doc.components.securitySchemes.bearerAuth.description = `The access token from \`POST ${publicUrl}/accesstoken/get\` (headers \`client_id\`, \`client_secret\` and \`Ocp-Apim-Subscription-Key\`), sent as \`Authorization: Bearer <token>\`.`;

  const paths: Json = {};
  for (const [path, methods] of Object.entries(KEPT)) {
    const item = doc.paths[path] as Json;
    if (!item) throw new Error(`the published Recurring document has no ${path}`);
    paths[path] = Object.fromEntries(Object.entries(item).filter(([k]) => !METHODS.includes(k) || methods.includes(k)));
  }
  for (const [path, item] of Object.entries(additions.paths as Json)) paths[path] = item;
  doc.paths = paths;
  for (const [name, p] of Object.entries(additions.components.parameters as Json)) doc.components.parameters[name] = p;
  for (const [name, s] of Object.entries(additions.components.schemas as Json)) {
    if (name in schemas) throw new Error(`the PSP additions would replace the Recurring schema ${name}`);
    schemas[name] = s;
  }
  for (const item of Object.values(paths) as Json[]) {
    for (const [method, op] of Object.entries(item) as Array<[string, Json]>) {
      if (!METHODS.includes(method)) continue;
      op.parameters = [...(op.parameters ?? []), { $ref: '#/components/parameters/Psp-Id' }];
    }
  }

  // The draft of a PSP's agreement, and what is newer than 2.6.17.
  schemas.DraftAgreementV3.properties.cardPassthrough = { $ref: '#/components/schemas/CardPassthroughAgreement' };
  schemas.DraftAgreementV3.required = [...schemas.DraftAgreementV3.required.filter((r: string) => r !== 'interval'), 'cardPassthrough'];
  schemas.DraftAgreementV3.description = 'A draft agreement. `interval` is required but with pricing type FLEXIBLE (pay per use); an agreement without one has none in its answers.';
  schemas.AgreementResponseV3.properties.cardPassthrough = { $ref: '#/components/schemas/CardPassthroughAgreement' };
  schemas.AgreementResponseV3.required = schemas.AgreementResponseV3.required.filter((r: string) => r !== 'interval');
  schemas.pricingRequest.properties.type.enum = ['LEGACY', 'VARIABLE', 'FLEXIBLE'];
  for (const name of ['CurrencyV3', 'Currency']) schemas[name].enum = [...RECURRING_CURRENCIES];
  for (const name of ['DraftAgreementV3', 'AgreementResponseV3']) schemas[name].properties.countryCode.enum = ['NO', 'DK', 'FI'];
  schemas.LegacyPricingResponse.properties.type.enum = ['LEGACY', 'VARIABLE', 'FLEXIBLE'];
  schemas.ChargeType.enum = ['INITIAL', 'RECURRING', 'UNSCHEDULED'];
  // A PSP's chargeId has up to 50 characters; and a pattern of 2.6.17 that is no regular expression corrected.
  schemas.ChargeResponseV3.properties.id.maxLength = 50;
  schemas.ChargeResponseV3.properties.transactionId.pattern = '^\\d{10,}$';
  schemas.ErrorV3.properties.extraDetails.items = { $ref: '#/components/schemas/ExtraDetail' };

  const description = String(doc.info.description ?? '').trimEnd();
  doc.info.description = `${description}\n\n**As this server serves it:** the published Recurring API 2.6.17 document, with what it lacks for PSPs merged in from this project's own \`recurring-psp.openapi.yaml\`: \`Psp-Id\` on every operation, \`cardPassthrough\` on a draft, the v4 charge endpoints (batch, payment-info, result), pricing type FLEXIBLE, the PSP currencies, and ErrorV3's \`extraDetails\` as \`{name, reason}\`. Only the operations this server answers are listed (not the deprecated v2 ones, nor v3's create-a-charge). See the manual's Recurring guide (/guide/recurring).`;
  return new Document(doc);
}
