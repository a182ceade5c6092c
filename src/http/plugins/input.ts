// Limits on what any request may carry, checked once for every route before its handler runs:
//   - a JSON body is checked on its raw text before it is parsed (one linear pass, see jsonLimitExceeded):
//     nesting, entries per array or object, tokens in all and distinct property names are bounded, so
//     neither JSON.parse nor any code that walks a body (the checks below, validation, hashing for
//     idempotency) does more than a bounded amount of work or runs out of stack, whatever the body's shape;
//   - no text PostgreSQL cannot store: a NUL character (rejected in text and jsonb) or an unpaired
//     UTF-16 surrogate (jsonb rejects its escape), in the path parameters, the query or the body.
// Such input is a 400 naming the field, never a database error answered with a 500.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, type FieldProblem } from '../../domain/errors.ts';
import { MAX_TRANSACTIONS } from '../../domain/psp-v3/status-payload.ts';
import { familyOf } from './errors.ts';

/** Levels of arrays and objects inside one another: no API body comes close. */
export const MAX_JSON_DEPTH = 32;
/** Elements of one array or members of one object: no API body has a longer list than updatestatus's transactions. */
export const MAX_JSON_ENTRIES = MAX_TRANSACTIONS;
/**
 * Strings, brackets, braces, colons and commas in one body. 50,000 status updates with all six fields
 * are about 1.3 million; this leaves room for pretty-printing (whitespace is not counted) and a few
 * extra fields per update, and bounds the parse of any body to tens of milliseconds.
 */
export const MAX_JSON_TOKENS = 3_000_000;
/** Different property names in one body: API bodies use a few dozen; each new one costs JSON.parse a new hidden class. */
export const MAX_JSON_NAMES = 1_000;

/** The next character after a run of whitespace, digits or literals that the scan must look at. */
const NEXT_TOKEN = /[",:[\]{}]/g;

/**
 * The first limit a JSON text breaks (nesting deeper than MAX_JSON_DEPTH, an array or object with more
 * than MAX_JSON_ENTRIES entries, more than MAX_JSON_TOKENS tokens or more than MAX_JSON_NAMES distinct
 * property names), or undefined. One pass over the raw text that tracks whether it is inside a string;
 * it stops at the first broken limit, so its work is bounded by MAX_JSON_TOKENS and the text's length
 * (runs inside strings and between tokens are skipped by native searches). It does not validate: text
 * that is not JSON is left to JSON.parse to refuse.
 */
export function jsonLimitExceeded(text: string): ApiError | undefined {
  const commas = new Int32Array(MAX_JSON_DEPTH + 2); // separators seen so far in each open array or object
  const names = new Set<string>();
  const length = text.length;
  let depth = 0;
  let tokens = 0;
  let stringStart = 0;
  let stringEnd = 0;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string ends at the first quote not escaped, i.e. not preceded by an odd run of backslashes.
      let end = text.indexOf('"', i + 1);
      while (end !== -1) {
        let k = end - 1;
        while (text.charCodeAt(k) === 0x5c) k--;
        if ((end - k) % 2 === 1) break;
        end = text.indexOf('"', end + 1);
      }
      if (end === -1) return undefined;
      stringStart = i + 1;
      stringEnd = end;
      i = end + 1;
    } else if (c === 0x5b || c === 0x7b) { // [ {
      if (++depth > MAX_JSON_DEPTH) return tooDeep();
      commas[depth] = 0;
      i++;
    } else if (c === 0x5d || c === 0x7d) { // ] }
      if (--depth < 0) return undefined;
      i++;
    } else if (c === 0x2c) { // ,
      if (++commas[depth] >= MAX_JSON_ENTRIES) return tooComplex(`an array or object has more than ${MAX_JSON_ENTRIES} entries`);
      i++;
    } else if (c === 0x3a) { // : after a property name
      const name = text.slice(stringStart, stringEnd);
      if (!names.has(name)) {
        names.add(name);
        if (names.size > MAX_JSON_NAMES) return tooComplex(`it uses more than ${MAX_JSON_NAMES} different property names`);
      }
      i++;
    } else {
      NEXT_TOKEN.lastIndex = i + 1;
      if (!NEXT_TOKEN.test(text)) return undefined;
      i = NEXT_TOKEN.lastIndex - 1;
      continue;
    }
    if (++tokens > MAX_JSON_TOKENS) return tooComplex(`it has more than ${MAX_JSON_TOKENS} strings, brackets and separators`);
  }
  return undefined;
}

function tooComplex(why: string): ApiError {
  return new ApiError(400, 'body_too_complex', `Invalid request: the JSON body is too large to accept: ${why}.`);
}

export function tooDeep(): ApiError {
  return new ApiError(400, 'body_too_deep', `Invalid request: the JSON body is nested more than ${MAX_JSON_DEPTH} levels deep.`);
}

// With the u flag a surrogate pair is one code point, so the class matches only unpaired halves.
const UNSTORABLE = /\u0000|[\uD800-\uDFFF]/u;
const REASON = 'Must not contain NUL characters or unpaired UTF-16 surrogates';

/** Dotted paths of the strings (values or keys) in `value` that cannot be stored; `root` names the top. */
export function unstorableFields(value: unknown, root: string): string[] {
  // Recursive, building a path only for what is found: bodies nest at most MAX_JSON_DEPTH levels.
  const found = new Set<string>();
  const path: Array<string | number> = [];
  const here = (): string => (path.length > 0 ? path.join('.') : root);
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) found.add(here());
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length && found.size < 20; i++) {
        path.push(i);
        visit(v[i]);
        path.pop();
      }
    } else if (v !== null && typeof v === 'object') {
      for (const key of Object.keys(v)) {
        if (found.size >= 20) break;
        if (UNSTORABLE.test(key)) found.add(here());
        path.push(key);
        visit((v as Record<string, unknown>)[key]);
        path.pop();
      }
    }
  };
  visit(value);
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
