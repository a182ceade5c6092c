import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CARD_NOT_ELIGIBLE_AMOUNT, MAGIC_AMOUNTS, schemeOf, tokenFor, type TokenType } from '../../src/domain/network-tokens.ts';

// The guide's "Magic Numbers for EMVCo Tokens" table, copied verbatim (psp-api-guide.md).
const GUIDE_TABLE: ReadonlyArray<[amount: number, number: string, expiry: string, cryptogram: string]> = [
  [2200, '5226603115488031', '05/25', 'AlhlvxmN2ZKuAAESNFZ4GoABFA=='],
  [3200, '4111111111111111', '03/30', 'uxToh3Ep6gsR8AAkvZALN19Iz34='],
  [4200, '4895370013193500', '03/30', 'AlhlvxmN2ZKuAAESNFZ4GoABFA=='],
  [4300, '5226603115488031', '03/30', 'AlhlvxmN2ZKuAAESNFZ4GoABFA=='],
  [4400, '4895370012792682', '12/22', 'AgAAAAAAAIR8CQrXSohbQAAAAAA='],
  [5100, '4268270087302871', '09/24', 'AgAAAAAAAIR8CQrXSohbQAAAAAA='],
  [5200, '5413330089010442', '12/25', 'AgAAAAAAAIR8CQrXSohbQAAAAAA='],
];
/** "All other amounts" in the guide: the Visa default. */
const VISA_DEFAULT = { number: '4895370013193500', expiryMonth: '05', expiryYear: '2025', cryptogram: 'AlhlvxmN2ZKuAAESNFZ4GoABFA==', tokenType: 'VISA', eci: '07' };
/** The module's Mastercard default (not in the guide's table, which only names the Visa default). */
const MASTERCARD_DEFAULT = { number: '5413330089010442', expiryMonth: '12', expiryYear: '2025', cryptogram: 'AgAAAAAAAIR8CQrXSohbQAAAAAA=', tokenType: 'MASTERCARD', eci: '06' };

function expected(number: string, expiry: string, cryptogram: string) {
  const [month, yy] = expiry.split('/');
  const tokenType = number.startsWith('4') ? 'VISA' : 'MASTERCARD';
  return {
    kind: 'token',
    binNumber: number.slice(0, 6),
    token: { number, cryptogram, expiryMonth: month, expiryYear: `20${yy}`, tokenType, eci: tokenType === 'VISA' ? '07' : '06' },
  };
}

describe('tokenFor: the guide magic amounts', () => {
  for (const [amount, number, expiry, cryptogram] of GUIDE_TABLE) {
    it(`${amount} øre → ${number} ${expiry}, whatever card was chosen`, () => {
      for (const brand of ['VISA', 'MASTERCARD'] as const) {
        assert.deepEqual(tokenFor(amount, brand), expected(number, expiry, cryptogram), brand);
      }
      assert.deepEqual(tokenFor(amount), expected(number, expiry, cryptogram));
    });
  }

  it('the module table has exactly the guide rows, no more', () => {
    assert.deepEqual([...MAGIC_AMOUNTS.keys()].sort((a, b) => a - b), GUIDE_TABLE.map(([a]) => a));
  });

  it('spells out a few rows in full (4-digit year, 2-digit month, eci by scheme, 6-digit BIN)', () => {
    assert.deepEqual(tokenFor(2200), {
      kind: 'token', binNumber: '522660',
      token: { number: '5226603115488031', cryptogram: 'AlhlvxmN2ZKuAAESNFZ4GoABFA==', expiryMonth: '05', expiryYear: '2025', tokenType: 'MASTERCARD', eci: '06' },
    });
    assert.deepEqual(tokenFor(3200), {
      kind: 'token', binNumber: '411111',
      token: { number: '4111111111111111', cryptogram: 'uxToh3Ep6gsR8AAkvZALN19Iz34=', expiryMonth: '03', expiryYear: '2030', tokenType: 'VISA', eci: '07' },
    });
    assert.deepEqual(tokenFor(4400), {
      kind: 'token', binNumber: '489537',
      token: { number: '4895370012792682', cryptogram: 'AgAAAAAAAIR8CQrXSohbQAAAAAA=', expiryMonth: '12', expiryYear: '2022', tokenType: 'VISA', eci: '07' },
    });
    assert.deepEqual(tokenFor(5100, 'MASTERCARD'), {
      kind: 'token', binNumber: '426827',
      token: { number: '4268270087302871', cryptogram: 'AgAAAAAAAIR8CQrXSohbQAAAAAA=', expiryMonth: '09', expiryYear: '2024', tokenType: 'VISA', eci: '07' },
    });
    assert.deepEqual(tokenFor(5200), {
      kind: 'token', binNumber: '541333',
      token: { number: '5413330089010442', cryptogram: 'AgAAAAAAAIR8CQrXSohbQAAAAAA=', expiryMonth: '12', expiryYear: '2025', tokenType: 'MASTERCARD', eci: '06' },
    });
  });

  it('3100 emulates a card not eligible for tokenisation, for either brand', () => {
    assert.equal(CARD_NOT_ELIGIBLE_AMOUNT, 3100);
    assert.deepEqual(tokenFor(3100), { kind: 'not-eligible' });
    assert.deepEqual(tokenFor(3100, 'VISA'), { kind: 'not-eligible' });
    assert.deepEqual(tokenFor(3100, 'MASTERCARD'), { kind: 'not-eligible' });
  });
});

describe('tokenFor: other amounts', () => {
  it('examples: the default token of the chosen brand (Visa when none is given)', () => {
    for (const amount of [100, 2100, 2201, 3000, 3101, 4199, 5300, 49900, 2_147_483_647]) {
      assert.deepEqual(tokenFor(amount), { kind: 'token', binNumber: '489537', token: VISA_DEFAULT }, String(amount));
      assert.deepEqual(tokenFor(amount, 'VISA'), { kind: 'token', binNumber: '489537', token: VISA_DEFAULT }, String(amount));
      assert.deepEqual(tokenFor(amount, 'MASTERCARD'), { kind: 'token', binNumber: '541333', token: MASTERCARD_DEFAULT }, String(amount));
    }
  });

  it('property: any amount not in the table and not 3100 gives the brand default token', () => {
    const special = new Set([...GUIDE_TABLE.map(([a]) => a), 3100]);
    const amount = fc.oneof(
      fc.integer({ min: 100, max: 2_147_483_647 }),
      fc.integer({ min: 2000, max: 6000 }),
      fc.constantFrom(...[...special].flatMap((a) => [a - 1, a + 1, a * 10, a / 100])),
    ).filter((a) => !special.has(a));
    fc.assert(fc.property(amount, fc.constantFrom<TokenType>('VISA', 'MASTERCARD'), (a, brand) => {
      const d = tokenFor(a, brand);
      const token = brand === 'VISA' ? VISA_DEFAULT : MASTERCARD_DEFAULT;
      assert.deepEqual(d, { kind: 'token', binNumber: token.number.slice(0, 6), token });
    }), { numRuns: 500 });
  });

  it('property: every token is well formed (16 digits, BIN = first 6, MM, YYYY, eci by scheme)', () => {
    fc.assert(fc.property(fc.oneof(fc.integer({ min: 1, max: 2_147_483_647 }), fc.constantFrom(...GUIDE_TABLE.map(([a]) => a))),
      fc.constantFrom<TokenType>('VISA', 'MASTERCARD'), (a, brand) => {
        const d = tokenFor(a, brand);
        if (d.kind === 'not-eligible') return assert.equal(a, 3100);
        assert.match(d.token.number, /^\d{16}$/);
        assert.equal(d.binNumber, d.token.number.slice(0, 6));
        assert.match(d.token.expiryMonth, /^(0[1-9]|1[0-2])$/);
        assert.match(d.token.expiryYear, /^20\d\d$/);
        assert.equal(d.token.tokenType, d.token.number.startsWith('4') ? 'VISA' : 'MASTERCARD');
        assert.equal(d.token.eci, d.token.tokenType === 'VISA' ? '07' : '06');
      }), { numRuns: 300 });
  });
});

describe('schemeOf', () => {
  it('4… is Visa; 5… and 2-series are Mastercard', () => {
    assert.equal(schemeOf('4111111111111111'), 'VISA');
    assert.equal(schemeOf('4895370013193500'), 'VISA');
    assert.equal(schemeOf('5226603115488031'), 'MASTERCARD');
    assert.equal(schemeOf('5413330089010442'), 'MASTERCARD');
    assert.equal(schemeOf('2221000000000009'), 'MASTERCARD');
  });
});
