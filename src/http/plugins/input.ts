// Limits on what any request may carry, checked once for every route before its handler runs:
//   - JSON bodies nest at most MAX_JSON_DEPTH levels (no API body comes close), so code that walks a
//     body (hashing for idempotency, validation) never runs out of stack;
//   - no text PostgreSQL cannot store: a NUL character (rejected in text and jsonb) or an unpaired
//     UTF-16 surrogate (jsonb rejects its escape), in the path parameters, the query or the body.
// Such input is a 400 naming the field, never a database error answered with a 500.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, type FieldProblem } from '../../domain/errors.ts';
import { familyOf } from './errors.ts';

export const MAX_JSON_DEPTH = 32;

/** The deepest nesting of arrays and objects in a JSON text (which must be valid JSON). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

export function tooDeep(): ApiError {
  return new ApiError(400, 'body_too_deep', `Invalid request: the JSON body is nested more than ${MAX_JSON_DEPTH} levels deep.`);
}

// With the u flag a surrogate pair is one code point, so the class matches only unpaired halves.
const UNSTORABLE = /\u0000|[\uD800-\uDFFF]/u;
const REASON = 'Must not contain NUL characters or unpaired UTF-16 surrogates';

/** Dotted paths of the strings (values or keys) in `value` that cannot be stored; `root` names the top. */
export function unstorableFields(value: unknown, root: string): string[] {
  const found = new Set<string>();
  const pending: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  while (pending.length > 0 && found.size < 20) {
    const { value: v, path } = pending.pop()!;
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) found.add(path || root);
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => pending.push({ value: item, path: path ? `${path}.${i}` : String(i) }));
    } else if (v !== null && typeof v === 'object') {
      for (const [key, item] of Object.entries(v)) {
        if (UNSTORABLE.test(key)) found.add(path || root);
        pending.push({ value: item, path: path ? `${path}.${key}` : key });
      }
    }
  }
  return [...found];
}

function problemsOf(request: FastifyRequest): FieldProblem[] {
  const fields = [
    ...unstorableFields(request.params, 'path'),
    ...unstorableFields(request.query, 'query'),
    // The token endpoint ignores its body (any body is accepted), so only bodies that are read are checked.
    ...(familyOf(request.url) === 'token' ? [] : unstorableFields(request.body, 'body')),
  ];
  // The PSP API names problems by the guide's codes: "51" for an invalid request.
  return familyOf(request.url) === 'psp'
    ? fields.map((field) => ({ name: '51', reason: `Invalid request: ${field} ${REASON.charAt(0).toLowerCase()}${REASON.slice(1)}` }))
    : fields.map((field) => ({ name: field, reason: REASON }));
}

export function registerInputChecks(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const details = problemsOf(request);
    if (details.length > 0) {
      throw new ApiError(400, 'validation_error', 'Invalid request: a value contains characters that cannot be stored.', {
        title: "Your request parameters didn't validate.", details,
      });
    }
  });
}
