// Reading the OpenAPI documents the server serves, in tests.
import assert from 'node:assert/strict';

export type Doc = Record<string, any>;

/** `schema` with every "#/components/(schemas|responses|parameters)/…" reference of `doc` replaced by what it names. */
export function dereference(schema: unknown, doc: Doc, depth = 0): unknown {
  assert.ok(depth < 40, 'reference depth');
  if (Array.isArray(schema)) return schema.map((s) => dereference(s, doc, depth + 1));
  if (schema === null || typeof schema !== 'object') return schema;
  const ref = (schema as Doc).$ref;
  if (typeof ref === 'string') {
    const m = /^#\/components\/(schemas|responses|parameters)\/(.+)$/.exec(ref);
    assert.ok(m && doc.components[m[1]][m[2]], `unresolved ${ref}`);
    return dereference(doc.components[m[1]][m[2]], doc, depth + 1);
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, dereference(v, doc, depth + 1)]));
}

/** The schema of the card callback's body in the ePayment document. */
export function cardCallbackSchema(doc: Doc): unknown {
  const callback = doc.paths['/epayment/v1/payments'].post.callbacks.cardCallback['{$request.body#/cardPassthrough/cardCallbackUrl}'].post;
  return dereference(callback.requestBody.content['application/json'].schema, doc);
}
