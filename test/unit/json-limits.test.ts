// The scan of a JSON body's raw text before it is parsed: it measures nesting, entries, tokens and
// property names as JSON.parse would see them (text inside strings never counts), and refuses exactly
// what breaks a limit.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  jsonLimitExceeded, MAX_JSON_DEPTH, MAX_JSON_ENTRIES, MAX_JSON_NAMES, MAX_JSON_TOKENS,
} from '../../src/http/plugins/input.ts';
import { MAX_TRANSACTIONS } from '../../src/domain/psp-v3/status-payload.ts';

/** Nesting of arrays and objects in a parsed value. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value !== null && typeof value === 'object') return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

function codeOf(text: string): string | undefined {
  return jsonLimitExceeded(text)?.code;
}

/** Strings full of what the scan must not mistake for structure. */
const tricky = fc.string({ unit: fc.constantFrom('"', '\\', '[', ']', '{', '}', ',', ':', 'a', ' ', '\u00f8', '\u0000'), maxLength: 12 });

const nested: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { arbitrary: fc.oneof(tricky, fc.integer(), fc.boolean(), fc.constant(null)), weight: 3 },
    { arbitrary: fc.array(tie('value'), { maxLength: 3 }), weight: 1 },
    { arbitrary: fc.dictionary(tricky, tie('value'), { maxKeys: 3 }), weight: 1 },
  ),
})).value;

/** A value wrapped in `levels` arrays or objects. */
const deep = fc.tuple(nested, fc.integer({ min: 0, max: MAX_JSON_DEPTH + 8 }), fc.constantFrom('array', 'object'), tricky)
  .map(([inner, levels, kind, key]) => {
    let value = inner;
    for (let i = 0; i < levels; i++) value = kind === 'array' ? [value] : { [key]: value };
    return value;
  });

describe('jsonLimitExceeded', () => {
  it(`refuses exactly the values nested deeper than ${MAX_JSON_DEPTH}, compact or indented, whatever their strings hold`, () => {
    fc.assert(fc.property(deep, fc.constantFrom(undefined, 2, '\t'), (value, indent) => {
      const text = JSON.stringify(value, null, indent);
      const expected = depthOf(value) > MAX_JSON_DEPTH ? 'body_too_deep' : undefined;
      assert.equal(codeOf(text), expected, text.slice(0, 200));
    }), { numRuns: 500 });
  });

  it('is not misled by escaped quotes and backslashes', () => {
    const inString = '['.repeat(MAX_JSON_DEPTH + 1);
    assert.equal(codeOf(JSON.stringify([`\\"${inString}`, '\\', `"${inString}\\`])), undefined);
    assert.equal(codeOf(JSON.stringify({ [`${inString}"`]: '\\\\' })), undefined);
    assert.equal(codeOf(`["\\\\"${',['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}]`), 'body_too_deep', 'a string ending in an escaped backslash ends there');
  });

  it(`allows ${MAX_JSON_ENTRIES} entries in one array or object, not one more`, () => {
    assert.equal(MAX_JSON_ENTRIES, MAX_TRANSACTIONS, 'the longest list of any API body fits');
    const list = (n: number) => `[${Array(n).fill('0').join(',')}]`;
    assert.equal(codeOf(list(MAX_JSON_ENTRIES)), undefined);
    assert.equal(codeOf(list(MAX_JSON_ENTRIES + 1)), 'body_too_complex');
    const members = (n: number) => `{${Array(n).fill('"a":0').join(',')}}`;
    assert.equal(codeOf(members(MAX_JSON_ENTRIES)), undefined);
    assert.equal(codeOf(members(MAX_JSON_ENTRIES + 1)), 'body_too_complex');
    // Entries are counted per array: many lists of up to the limit each are fine (until the token limit).
    assert.equal(codeOf(`[${Array(3).fill(list(MAX_JSON_ENTRIES)).join(',')}]`), undefined);
  });

  it(`allows ${MAX_JSON_NAMES} different property names, not one more`, () => {
    const names = (n: number) => `[${Array.from({ length: n }, (_, i) => `{"k${i}":${i}}`).join(',')}]`;
    assert.equal(codeOf(names(MAX_JSON_NAMES)), undefined);
    assert.equal(codeOf(names(MAX_JSON_NAMES + 1)), 'body_too_complex');
  });

  it(`allows ${MAX_JSON_TOKENS.toLocaleString('en')} tokens, not many more`, () => {
    const inner = `[${Array(10_000).fill('0').join(',')}]`; // 10,001 tokens, and the comma after it
    const lists = (n: number) => `[${Array(n).fill(inner).join(',')}]`;
    const fits = Math.floor((MAX_JSON_TOKENS - 2) / 10_002);
    assert.equal(codeOf(lists(fits)), undefined);
    assert.equal(codeOf(lists(fits + 1)), 'body_too_complex');
  });

  it(`passes ${MAX_TRANSACTIONS.toLocaleString('en')} status updates with every field, pretty-printed`, () => {
    const tx = { pspTransactionId: 'x'.repeat(36), status: 'CANCELLED', amount: '-2147483648', currency: 'NOK', paymentText: 'ø'.repeat(100), operationStatus: 'SUCCESS' };
    assert.equal(codeOf(JSON.stringify({ transactions: Array(MAX_TRANSACTIONS).fill(tx) }, null, 2)), undefined);
  });

  it('leaves what is not JSON to JSON.parse', () => {
    for (const text of ['', 'hello', '"unterminated', ']]]', 'a=1&b=2', '{"a":}', '[[[[']) assert.equal(codeOf(text), undefined, text);
  });
});
