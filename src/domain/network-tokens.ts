// The network token delivered in makePayment: the guide's "Magic Numbers for EMVCo Tokens" table.
// Certain amounts select a fixed token whatever card the user picked; 3100 emulates a card that is
// not eligible for tokenisation; every other amount gets the chosen card's default token.

export type TokenType = 'VISA' | 'MASTERCARD';

export interface NetworkToken {
  number: string;
  cryptogram: string;
  expiryMonth: string;
  expiryYear: string;
  tokenType: TokenType;
  eci: string;
}

interface Row {
  number: string;
  expiry: string;
  cryptogram: string;
}

/** Amount in øre → token, exactly as printed in the guide. */
export const MAGIC_AMOUNTS: ReadonlyMap<number, Row> = new Map([
  [2200, { number: '5226603115488031', expiry: '05/25', cryptogram: 'AlhlvxmN2ZKuAAESNFZ4GoABFA==' }],
  [3200, { number: '4111111111111111', expiry: '03/30', cryptogram: 'uxToh3Ep6gsR8AAkvZALN19Iz34=' }],
  [4200, { number: '4895370013193500', expiry: '03/30', cryptogram: 'AlhlvxmN2ZKuAAESNFZ4GoABFA==' }],
  [4300, { number: '5226603115488031', expiry: '03/30', cryptogram: 'AlhlvxmN2ZKuAAESNFZ4GoABFA==' }],
  [4400, { number: '4895370012792682', expiry: '12/22', cryptogram: 'AgAAAAAAAIR8CQrXSohbQAAAAAA=' }],
  [5100, { number: '4268270087302871', expiry: '09/24', cryptogram: 'AgAAAAAAAIR8CQrXSohbQAAAAAA=' }],
  [5200, { number: '5413330089010442', expiry: '12/25', cryptogram: 'AgAAAAAAAIR8CQrXSohbQAAAAAA=' }],
]);

/** The amount that emulates "card not eligible": no token is delivered. */
export const CARD_NOT_ELIGIBLE_AMOUNT = 3100;

/** The default token of each card brand ("All other amounts" in the guide for VISA). */
const DEFAULT_BY_BRAND: Record<TokenType, Row> = {
  VISA: { number: '4895370013193500', expiry: '05/25', cryptogram: 'AlhlvxmN2ZKuAAESNFZ4GoABFA==' },
  MASTERCARD: { number: '5413330089010442', expiry: '12/25', cryptogram: 'AgAAAAAAAIR8CQrXSohbQAAAAAA=' },
};

/** The scheme of a token number: 4… is Visa, 5… (and 2-series) Mastercard. */
export function schemeOf(number: string): TokenType {
  return number.startsWith('4') ? 'VISA' : 'MASTERCARD';
}

function toToken(row: Row): NetworkToken {
  const [month, year] = row.expiry.split('/');
  const tokenType = schemeOf(row.number);
  return {
    number: row.number,
    cryptogram: row.cryptogram,
    expiryMonth: month,
    expiryYear: `20${year}`,
    tokenType,
    eci: tokenType === 'VISA' ? '07' : '06',
  };
}

export type TokenDecision =
  | { kind: 'token'; token: NetworkToken; binNumber: string }
  | { kind: 'not-eligible' };

/** The token for a payment of `amount` øre paid with a card of `brand`. */
export function tokenFor(amount: number, brand: TokenType = 'VISA'): TokenDecision {
  if (amount === CARD_NOT_ELIGIBLE_AMOUNT) return { kind: 'not-eligible' };
  const token = toToken(MAGIC_AMOUNTS.get(amount) ?? DEFAULT_BY_BRAND[brand]);
  return { kind: 'token', token, binNumber: token.number.slice(0, 6) };
}
