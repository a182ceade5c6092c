// The published OpenAPI documents of the PSP API and the Signup API (openapi/*.openapi.yaml), as this
// server serves them: read and rewritten once at start, the text kept. What changes from the published
// file, and only that:
//   - `servers`: each published server's origin is replaced by PUBLIC_URL, its path kept
//     (https://apitest.vipps.no/psp becomes PUBLIC_URL/psp), duplicates dropped;
//   - the PSP API's `"[ makePaymentUrl ]"` entry under `paths` is not a path (an OpenAPI 3.0 path must
//     start with "/", so validators and mock servers reject the published file): it describes the PSP's
//     own endpoint, which this server calls. It moves, unchanged but for `security: []`, to what OpenAPI
//     3.0 has for it: a callback of the init operation, at the URL given in the init body's
//     `makePaymentUrl` ({$request.body#/makePaymentUrl});
//   - a bearer security scheme for the access token, required by every operation. The published files
//     declare the token as an `Authorization` header parameter, which OpenAPI 3 tools (Swagger UI's
//     "Try it out" among them) do not send; a scheme they do;
//   - a paragraph at the end of `info.description` that says so.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Document, isMap, parseDocument } from 'yaml';

export const MAKE_PAYMENT_PSEUDO_PATH = '[ makePaymentUrl ]';
export const MAKE_PAYMENT_CALLBACK = '{$request.body#/makePaymentUrl}';
const INIT_PATH = '/v3/psppayments/init';

/** A document ready to send: its text and entity tag, as YAML and as JSON. */
export interface ServedDocument {
  yaml: { body: string; etag: string };
  json: { body: string; etag: string };
}

function etagOf(text: string): string {
  return `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`;
}

export function served(doc: Document): ServedDocument {
  const yamlText = doc.toString({ lineWidth: 0 });
  const jsonText = `${JSON.stringify(doc.toJS(), null, 2)}\n`;
  return { yaml: { body: yamlText, etag: etagOf(yamlText) }, json: { body: jsonText, etag: etagOf(jsonText) } };
}

/** PUBLIC_URL in place of each published server's origin; the server's path and description kept. */
function rewriteServers(doc: Document, publicUrl: string): void {
  const published = (doc.toJS().servers ?? []) as Array<{ url: string; description?: string }>;
  const seen = new Set<string>();
  const servers: Array<{ url: string; description: string }> = [];
  for (const server of published.length > 0 ? published : [{ url: '/' }]) {
    let path = '';
    try { path = new URL(server.url, 'https://placeholder.invalid').pathname.replace(/\/+$/, ''); } catch { /* keep the root */ }
    const url = `${publicUrl}${path}`;
    if (seen.has(url)) continue;
    seen.add(url);
    servers.push({ url, description: 'This server (PUBLIC_URL)' });
  }
  doc.set('servers', doc.createNode(servers));
}

function addBearerScheme(doc: Document, publicUrl: string): void {
  doc.setIn(['components', 'securitySchemes', 'accessToken'], doc.createNode({
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: `The access token from \`POST ${publicUrl}/accessToken/get\` (headers \`client_id\`, \`client_secret\` and `
      + '`Ocp-Apim-Subscription-Key`), sent as `Authorization: Bearer <token>`.',
  }));
  doc.set('security', doc.createNode([{ accessToken: [] }]));
}

function moveMakePaymentToCallback(doc: Document): boolean {
  const paths = doc.get('paths');
  if (!isMap(paths) || !paths.has(MAKE_PAYMENT_PSEUDO_PATH)) return false;
  const item = paths.get(MAKE_PAYMENT_PSEUDO_PATH, true);
  paths.delete(MAKE_PAYMENT_PSEUDO_PATH);
  const at = ['paths', INIT_PATH, 'post', 'callbacks', 'makePayment', MAKE_PAYMENT_CALLBACK];
  doc.setIn(at, item);
  // Authenticated by the makePaymentToken the PSP chose, not by the access token.
  if (isMap(item) && item.has('post')) doc.setIn([...at, 'post', 'security'], doc.createNode([]));
  return true;
}

function appendNote(doc: Document, publicUrl: string, movedMakePayment: boolean): void {
  const description = String(doc.getIn(['info', 'description']) ?? '').trimEnd();
  const note = [
    '',
    '---',
    '',
    `Served by vipps-psp at ${publicUrl}: the published document, with \`servers\` pointing at this server`
      + ' and a bearer security scheme for the access token (use **Authorize**: the `Authorization` header'
      + ' parameters below are not sent by OpenAPI tools).'
      + (movedMakePayment
        ? ' The published `[ makePaymentUrl ]` entry, the PSP\'s own endpoint that this server calls, is the'
          + ' `makePayment` callback of the init operation.'
        : ''),
    '',
  ].join('\n');
  doc.setIn(['info', 'description'], `${description}\n${note}`);
}

/** The published document `source` (YAML text) as this server at `publicUrl` serves it. */
export function servedDocumentOf(source: string, publicUrl: string): Document {
  const doc = parseDocument(source, { prettyErrors: true });
  if (doc.errors.length > 0) throw doc.errors[0];
  rewriteServers(doc, publicUrl);
  const moved = moveMakePaymentToCallback(doc);
  addBearerScheme(doc, publicUrl);
  appendNote(doc, publicUrl, moved);
  return doc;
}

/** The two published documents, by the name they are served under. */
export const PUBLISHED = {
  'psp-api': 'psp-api.openapi.yaml',
  'psp-signup-api': 'psp-signup-api.openapi.yaml',
} as const;

export type PublishedName = keyof typeof PUBLISHED;

/** openapi/ at the repository's (or the package's) root: src/http/docs → ../../../openapi. */
const OPENAPI_DIR = new URL('../../../openapi/', import.meta.url);

export function loadPublished(publicUrl: string): Record<PublishedName, ServedDocument> {
  const out = {} as Record<PublishedName, ServedDocument>;
  for (const [name, file] of Object.entries(PUBLISHED) as Array<[PublishedName, string]>) {
    out[name] = served(servedDocumentOf(readFileSync(new URL(file, OPENAPI_DIR), 'utf8'), publicUrl));
  }
  return out;
}
