import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  applyPatchStatus, candidateMsn, checkCountryChange, checkLogo, checkOrganizationNumber, organizationNumberFitsCountry, type MerchantStatus,
} from '../../src/domain/merchant.ts';
import { canonicalJson } from '../../src/operations/merchants.ts';
import { pngLogo } from '../support/server.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('checkLogo', () => {
  it('accepts PNGs from 100x100 to 1000x1000', () => {
    for (const [w, h] of [[100, 100], [200, 200], [1000, 1000], [100, 1000], [640, 480]]) {
      assert.equal(checkLogo(pngLogo(w, h)), undefined, `${w}x${h}`);
    }
  });

  it('accepts base64 with line breaks (as MIME encoders wrap it)', () => {
    const b64 = pngLogo(300, 300);
    assert.equal(checkLogo(`${b64.slice(0, 20)}\n${b64.slice(20)}\r\n`), undefined);
  });

  it('rejects a logo that is too small or too large, saying its size', () => {
    assert.deepEqual(checkLogo(pngLogo(50, 50)), { name: 'logo', reason: 'The logo is 50x50 pixels; the minimum is 100x100' });
    assert.deepEqual(checkLogo(pngLogo(99, 500)), { name: 'logo', reason: 'The logo is 99x500 pixels; the minimum is 100x100' });
    assert.deepEqual(checkLogo(pngLogo(1001, 200)), { name: 'logo', reason: 'The logo is 1001x200 pixels; the longest side can be at most 1000' });
    assert.deepEqual(checkLogo(pngLogo(200, 4000)), { name: 'logo', reason: 'The logo is 200x4000 pixels; the longest side can be at most 1000' });
  });

  it('rejects what is not base64 of a PNG', () => {
    const notPng = { name: 'logo', reason: 'Must be a base64 encoded PNG image' };
    for (const logo of [
      '', '   ', 'not base64!', 'QUJD=', 'QQ===',
      Buffer.from('GIF89a and more bytes to pass 24 bytes').toString('base64'),
      PNG_SIGNATURE.toString('base64'),
      Buffer.concat([PNG_SIGNATURE, Buffer.alloc(4), Buffer.from('IDAT'), Buffer.alloc(8)]).toString('base64'),
    ]) {
      assert.deepEqual(checkLogo(logo), notPng, JSON.stringify(logo));
    }
  });

  it('names the field it is given', () => {
    assert.equal(checkLogo('nope', 'merchant.logo')?.name, 'merchant.logo');
  });

  it('property: never throws, and rejects any string that is not base64 of a PNG', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.base64String()), (s) => {
      const compact = s.replace(/\s+/g, '');
      const isPng = /^[A-Za-z0-9+/]+={0,2}$/.test(compact) && compact.length % 4 === 0
        && Buffer.from(compact, 'base64').subarray(0, 8).equals(PNG_SIGNATURE);
      const problem = checkLogo(s);
      if (!isPng) assert.deepEqual(problem, { name: 'logo', reason: 'Must be a base64 encoded PNG image' });
    }), { numRuns: 500 });
  });

  it('property: arbitrary bytes are accepted only when they are a PNG header of an allowed size', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const buffer = Buffer.from(bytes);
      const problem = checkLogo(buffer.toString('base64'));
      if (problem === undefined) {
        assert.ok(buffer.subarray(0, 8).equals(PNG_SIGNATURE));
        assert.equal(buffer.toString('latin1', 12, 16), 'IHDR');
      }
    }), { numRuns: 300 });
  });

  it('property: a PNG header is accepted exactly when both sides are within 100..1000', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 5000 }), (w, h) => {
      const ok = w >= 100 && h >= 100 && w <= 1000 && h <= 1000;
      const problem = checkLogo(pngLogo(w, h));
      assert.equal(problem === undefined, ok, `${w}x${h}: ${problem?.reason}`);
      if (problem) assert.match(problem.reason, new RegExp(`^The logo is ${w}x${h} pixels`));
    }), { numRuns: 300 });
  });
});

describe('organization number per country', () => {
  const norwegian = { name: 'organizationNumber', reason: 'For a Norwegian merchant (address.country NO) it must be 9 digits without spaces' };

  it('accepts 9 digits for Norway, the country code in any case', () => {
    for (const country of ['NO', 'no', 'No']) {
      assert.equal(checkOrganizationNumber('918130047', country), undefined, country);
      assert.equal(checkOrganizationNumber('123456789', country), undefined, country);
    }
  });

  it('rejects for Norway what is not exactly 9 digits: spaces, too few or many, letters, other digits', () => {
    for (const orgno of [
      '123 456 789', ' 123456789', '123456789 ', '12345', '1234567890', 'ABCDEFGHI', '12345678A', 'NO918130047', '918130047MVA',
      '918-130-047', '', '１２３４５６７８９', '١٢٣٤٥٦٧٨٩', '123456789\n',
    ]) {
      assert.deepEqual(checkOrganizationNumber(orgno, 'NO'), norwegian, JSON.stringify(orgno));
      assert.deepEqual(checkOrganizationNumber(orgno, 'no'), norwegian, JSON.stringify(orgno));
    }
  });

  it('names no format for other countries: any number the schema allows is accepted', () => {
    for (const [orgno, country] of [['556036-0793', 'SE'], ['12345678', 'DK'], ['1572860-0', 'FI'], ['123 456 789', 'DE'], ['ABCDEFGHI', 'GB']]) {
      assert.equal(checkOrganizationNumber(orgno, country), undefined, `${orgno} ${country}`);
    }
  });

  it('property: for Norway accepted exactly when it is 9 ASCII digits; elsewhere always', () => {
    const orgno = fc.oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^[0-9]{7,11}$/), fc.stringMatching(/^[0-9 ]{9,11}$/));
    const country = fc.oneof(fc.constantFrom('NO', 'no', 'nO', 'SE', 'DK', 'FI'), fc.stringMatching(/^[A-Za-z]{2}$/));
    fc.assert(fc.property(orgno, country, (o, c) => {
      const isNorway = c.toUpperCase() === 'NO';
      const expected = !isNorway || (o.length === 9 && [...o].every((ch) => ch >= '0' && ch <= '9'));
      assert.equal(organizationNumberFitsCountry(o, c), expected, `${JSON.stringify(o)} ${c}`);
      assert.deepEqual(checkOrganizationNumber(o, c), expected ? undefined : norwegian, `${JSON.stringify(o)} ${c}`);
    }), { numRuns: 1000 });
  });

  it('a patch may move a merchant to Norway only with a Norwegian organization number', () => {
    assert.equal(checkCountryChange('918130047', 'SE', 'NO'), undefined);
    assert.equal(checkCountryChange('556036-0793', 'SE', 'DK'), undefined);
    const moved = checkCountryChange('556036-0793', 'SE', 'NO');
    assert.equal(moved?.name, 'address.country');
    assert.match(moved?.reason ?? '', /9 digits without spaces/);
    assert.equal(checkCountryChange('556036-0793', 'SE', 'no')?.name, 'address.country');
    // A merchant already in Norway (stored before the rule) keeps its country: not checked.
    assert.equal(checkCountryChange('12345', 'NO', 'NO'), undefined);
    assert.equal(checkCountryChange('12345', 'NO', 'no'), undefined);
  });
});

describe('candidateMsn', () => {
  it('makes six digits not starting with 0 from the random source', () => {
    assert.equal(candidateMsn(() => 0), '100000');
    assert.equal(candidateMsn(() => 0.5), '550000');
    assert.equal(candidateMsn(() => 0.999999999), '999999');
    assert.match(candidateMsn(), /^[1-9]\d{5}$/);
  });

  it('property: always matches /^[1-9]\\d{5}$/ for any random value in [0, 1)', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (r) => {
      assert.match(candidateMsn(() => r), /^[1-9]\d{5}$/);
    }), { numRuns: 1000 });
  });

  it('property: Math.random never yields anything else', () => {
    for (let i = 0; i < 2000; i++) assert.match(candidateMsn(), /^[1-9]\d{5}$/);
  });
});

describe('applyPatchStatus', () => {
  it('deactivates an active or pending merchant on deactivate:true', () => {
    assert.deepEqual(applyPatchStatus('ACTIVE', { deactivate: true }), { ok: true, status: 'DEACTIVATED' });
    assert.deepEqual(applyPatchStatus('PENDING', { deactivate: true, name: 'x' }), { ok: true, status: 'DEACTIVATED' });
  });

  it('keeps the status for other patches, including deactivate:false', () => {
    assert.deepEqual(applyPatchStatus('ACTIVE', { name: 'New' }), { ok: true, status: 'ACTIVE' });
    assert.deepEqual(applyPatchStatus('ACTIVE', { deactivate: false }), { ok: true, status: 'ACTIVE' });
    assert.deepEqual(applyPatchStatus('PENDING', { mccCode: '5411' }), { ok: true, status: 'PENDING' });
  });

  it('refuses any patch of a deactivated merchant, with a reason', () => {
    for (const patch of [{ name: 'x' }, { deactivate: false }, { deactivate: true }, {}]) {
      const decision = applyPatchStatus('DEACTIVATED', patch);
      assert.equal(decision.ok, false);
      assert.ok(!decision.ok && /deactivated/.test(decision.reason));
    }
  });

  it('property: the result is DEACTIVATED-only-by-request and never reactivates', () => {
    const status = fc.constantFrom<MerchantStatus>('ACTIVE', 'PENDING', 'DEACTIVATED');
    const patch = fc.record({ deactivate: fc.boolean(), name: fc.string() }, { requiredKeys: [] });
    fc.assert(fc.property(status, patch, (current, p) => {
      const decision = applyPatchStatus(current, p);
      if (current === 'DEACTIVATED') return assert.equal(decision.ok, false);
      assert.ok(decision.ok);
      assert.equal(decision.status, p.deactivate === true ? 'DEACTIVATED' : current);
    }));
  });
});

describe('canonicalJson', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    assert.equal(canonicalJson([2, 1]), '[2,1]');
    assert.equal(canonicalJson('x"y'), '"x\\"y"');
    assert.equal(canonicalJson(undefined), 'null');
  });

  it('differs for different values', () => {
    assert.notEqual(canonicalJson({ a: 1 }), canonicalJson({ a: '1' }));
    assert.notEqual(canonicalJson({ a: [1, 2] }), canonicalJson({ a: [2, 1] }));
    assert.notEqual(canonicalJson({ a: { b: 1 } }), canonicalJson({ 'a.b': 1 }));
  });

  /** A deep copy whose object keys are in the order the permutation seed picks. */
  function reorder(value: unknown, seed: number): unknown {
    if (Array.isArray(value)) return value.map((v) => reorder(v, seed));
    if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      const shuffled = entries
        .map(([k, v], i) => ({ k, v, rank: Math.sin(seed * 7919 + i * 104729) }))
        .sort((x, y) => x.rank - y.rank);
      return Object.fromEntries(shuffled.map(({ k, v }) => [k, reorder(v, seed + 1)]));
    }
    return value;
  }

  it('property: equal for JSON values that differ only in key order', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.integer(), (value, seed) => {
      const other = reorder(value, seed);
      assert.deepEqual(other, value);
      assert.equal(canonicalJson(other), canonicalJson(value));
    }), { numRuns: 500 });
  });

  it('property: equal for records with keys inserted in reverse order', () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), (value) => {
      const reversed = Object.fromEntries(Object.entries(value).reverse());
      assert.equal(canonicalJson(reversed), canonicalJson(value));
    }), { numRuns: 300 });
  });

  it('property: is JSON that parses back to the same value', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      assert.deepEqual(JSON.parse(canonicalJson(value)), JSON.parse(JSON.stringify(value)));
    }), { numRuns: 300 });
  });
});
