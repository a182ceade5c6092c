// The Webhooks API document as this server serves it (/openapi/webhooks.yaml): the published one
// (openapi/webhooks.openapi.yaml), pointing at this server, with the PSPs' Psp-Id header on every
// operation and what this server does where the document is silent.
import { readFileSync } from 'node:fs';
import type { Document } from 'yaml';
import { servedDocumentOf } from './published.ts';

const FILE = new URL('../../../openapi/webhooks.openapi.yaml', import.meta.url);

export function webhooksDocument(publicUrl: string): Document {
  const doc = servedDocumentOf(readFileSync(FILE, 'utf8'), publicUrl);
  // The published security scheme (an apiKey named Authorization) is the bearer token here, as for the others.
  doc.deleteIn(['components', 'securitySchemes', 'Bearer-Authorization']);
  const pspId = doc.createNode({
    name: 'Psp-Id', in: 'header', required: true, schema: { type: 'string' },
    description: 'The PSP\'s id (the one given with its credentials). Merchant-Serial-Number is optional for a PSP: with it a registration is that sales unit\'s, without it the PSP\'s own, for all its sales units.',
  });
  const paths = doc.toJS().paths as Record<string, Record<string, unknown>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const method of Object.keys(item).filter((m) => ['get', 'post', 'delete', 'put', 'patch'].includes(m))) {
      const at = ['paths', path, method, 'parameters'];
      if (!doc.hasIn(at)) doc.setIn(at, doc.createNode([]));
      (doc.getIn(at) as { add(v: unknown): void }).add(pspId);
    }
  }
  const description = String(doc.getIn(['info', 'description']) ?? '').trimEnd();
  doc.setIn(['info', 'description'], `${description}\n\nEvents: the ePayment API's \`epayments.payment.*.v1\` and the Recurring API's \`recurring.agreement-*.v1\` and \`recurring.charge-*.v1\` (their bodies are this server's own: see the Recurring guide's decisions at /guide/recurring). At most 25 registrations per event type and scope; \`url\` may be \`http://\` and a private host where ALLOW_PRIVATE_CALLBACKS allows it (the test environment). Each delivery is signed with the registration's \`secret\` (x-ms-date, x-ms-content-sha256, Host, Authorization: HMAC-SHA256), retried for 7 days on the shared clock; see the manual's Webhooks guide (/guide/webhooks).`);
  return doc;
}
