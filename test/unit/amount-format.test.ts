import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatAmount } from '../../src/http/web/epayment.ts';

const NBSP = '\u00a0';

describe('amounts on the user\'s pages', () => {
  it('writes each currency as its users read it', () => {
    assert.equal(formatAmount(49900, 'NOK'), `499,00${NBSP}kr`);
    assert.equal(formatAmount(12500, 'DKK'), `125,00${NBSP}kr`);
    assert.equal(formatAmount(123456789, 'EUR'), `1${NBSP}234${NBSP}567,89${NBSP}€`);
    assert.equal(formatAmount(499, 'USD'), '$4.99');
    assert.equal(formatAmount(1234567, 'GBP'), '£12,345.67');
    assert.equal(formatAmount(1, 'SEK'), `0,01${NBSP}kr`);
  });
});
