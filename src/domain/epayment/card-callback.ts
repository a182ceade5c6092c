// The card callback of a CARD_PASSTHROUGH payment: which of the user's cards may pay, the body POSTed
// to the PSP's cardCallbackUrl (the newest published form, with cardInfo), and what the PSP's answer
// means. Pure; the signing is security/request-signature.ts, the sending operations/epayment.
import { createHash } from 'node:crypto';
import { MAGIC_AMOUNTS, schemeOf } from '../network-tokens.ts';
import { encryptPan, testCardNumber } from './encrypted-pan.ts';
import type { Amount, CardType } from './create-request.ts';

/** A test user's card as the wallet holds it. */
export interface WalletCard {
  cardId: string;
  brand: string;
  last4: string;
  expiryMonth: string;
  expiryYear: string;
}

/**
 * The card type a test user's card pays as in this payment (allowedCardTypes' terms), or undefined
 * when the payment does not allow it. A Visa/Dankort co-brand pays as Dankort where Dankort is
 * allowed, unless preferVisaPartOfVisaDankort (or Dankort not allowed) routes it through Visa. A
 * standalone Dankort has no network token: it pays (as DANKORT, its number in encryptedPan) only when
 * the payment names the PSP's encryption key (`panKey`), and is not offered otherwise.
 */
export function cardTypeOf(card: { brand: string }, allowed: readonly CardType[], preferVisa = false, panKey = false): CardType | undefined {
  const ok = (t: CardType) => (allowed.includes(t) ? t : undefined);
  switch (card.brand) {
    case 'VISA': return ok('VISA_DEBIT');
    case 'VISA_CREDIT': return ok('VISA_CREDIT');
    case 'MASTERCARD': return ok('MC_DEBIT');
    case 'MASTERCARD_CREDIT': return ok('MC_CREDIT');
    case 'VISA_DANKORT': return preferVisa ? ok('VISA_DEBIT') ?? ok('DANKORT') : ok('DANKORT') ?? ok('VISA_DEBIT');
    case 'DANKORT': return panKey ? ok('DANKORT') : undefined;
    default: return undefined;
  }
}

/** The user's cards that the payment allows, in the user's order, each with the type it pays as. */
export function allowedCards<C extends WalletCard>(cards: C[], allowed: readonly CardType[], preferVisa = false, panKey = false): Array<C & { cardType: CardType }> {
  const out: Array<C & { cardType: CardType }> = [];
  for (const c of cards) {
    const cardType = cardTypeOf(c, allowed, preferVisa, panKey);
    if (cardType) out.push({ ...c, cardType });
  }
  return out;
}

/** The first 8 digits of each brand's test card numbers (the masked number shows them). */
const BIN8: Record<string, string> = {
  VISA: '47969485', VISA_CREDIT: '45717360', MASTERCARD: '51374100', MASTERCARD_CREDIT: '54133300', DANKORT: '50190000', VISA_DANKORT: '45710000',
};

export interface CallbackNetworkToken {
  number: string;
  cryptogram: string;
  expiryMonth: string;
  expiryYear: string;
  tokenType: 'VISA' | 'MASTERCARD';
  eci: string;
  paymentAccountReference: string;
}

interface CardInfoBase {
  maskedCardNumber: string;
  cardType: string;
  cardIssuedInCountryCode: string;
}

/** A card with a network token (every card but a standalone Dankort). */
export interface TokenCardInfo extends CardInfoBase {
  cardDataType: 'TOKEN';
  networkToken: CallbackNetworkToken;
}

/** A standalone Dankort: its number, encrypted with the PSP's key (domain/epayment/encrypted-pan.ts). */
export interface PanCardInfo extends CardInfoBase {
  cardDataType: 'PAN';
  encryptedPan: string;
}

export interface CardCallbackBody {
  pspReference: string;
  authorizationAttemptId: string;
  merchantSerialNumber: string;
  amount: Amount;
  softDeclineCompletedRedirectUrl: string;
  cardInfo: TokenCardInfo | PanCardInfo;
}

/** Whether the card goes to the PSP as an encrypted PAN: a standalone Dankort paying as DANKORT. */
export function paysWithPan(card: { brand: string }, cardType: CardType): boolean {
  return card.brand === 'DANKORT' && cardType === 'DANKORT';
}

/** The network token of a card: the test token table's (magic amounts first), with a fresh cryptogram. */
export function networkTokenFor(card: WalletCard, amount: number, cryptogram: string): CallbackNetworkToken {
  const scheme = card.brand.startsWith('MASTERCARD') ? 'MASTERCARD' : 'VISA';
  const magic = MAGIC_AMOUNTS.get(amount);
  const number = magic?.number ?? (scheme === 'VISA' ? '4895370013193500' : '5413330089010442');
  const [month, year] = (magic?.expiry ?? `${card.expiryMonth}/${card.expiryYear.slice(-2)}`).split('/');
  const tokenType = schemeOf(number);
  return {
    number,
    cryptogram,
    expiryMonth: month.padStart(2, '0'),
    expiryYear: `20${year.slice(-2)}`,
    tokenType,
    eci: tokenType === 'VISA' ? '07' : '06',
    // Stable for the card across token renewals, as a real PAR is: 29 characters derived from the card.
    paymentAccountReference: `5001${createHash('sha256').update(card.cardId).digest('hex').toUpperCase().slice(0, 25)}`,
  };
}

export function callbackBody(args: {
  pspReference: string; authorizationAttemptId: string; msn: string; amount: Amount; softDeclineCompletedRedirectUrl: string;
  card: WalletCard; cardType: CardType; cryptogram: string; issuedIn: string;
  /**
   * For a standalone Dankort: the PSP's public key, and the time in the encrypted payload. Without a
   * key (it was removed) encryptedPan is empty: such a body is recorded, never sent.
   */
  pan?: { publicKeyPem: string | undefined; at: Date };
}): CardCallbackBody {
  const type = args.cardType;
  const base = {
    maskedCardNumber: maskedNumberOf(args.card),
    cardType: type.replace('_', '-'),
    cardIssuedInCountryCode: args.issuedIn,
  };
  return {
    pspReference: args.pspReference,
    authorizationAttemptId: args.authorizationAttemptId,
    merchantSerialNumber: args.msn,
    amount: args.amount,
    softDeclineCompletedRedirectUrl: args.softDeclineCompletedRedirectUrl,
    cardInfo: args.pan
      ? { ...base, cardDataType: 'PAN', encryptedPan: args.pan.publicKeyPem === undefined ? '' : encryptPan(args.pan.publicKeyPem, panOf(args.card), args.pan.at) }
      : { ...base, cardDataType: 'TOKEN', networkToken: networkTokenFor(args.card, args.amount.value, args.cryptogram) },
  };
}

function bin8Of(card: WalletCard): string {
  return BIN8[card.brand] ?? '47969485';
}

export function maskedNumberOf(card: WalletCard): string {
  return `${bin8Of(card)}XXXX${card.last4}`;
}

/** A test card's full number and expiry, as encryptedPan carries them. */
export function panOf(card: WalletCard): { cardNumber: string; expiryMonth: string; expiryYear: string } {
  return {
    cardNumber: testCardNumber(bin8Of(card), card.cardId, card.last4),
    expiryMonth: card.expiryMonth.padStart(2, '0'),
    expiryYear: card.expiryYear.length === 2 ? `20${card.expiryYear}` : card.expiryYear,
  };
}

/** The body as recorded: the token number masked and the cryptogram left out (an encryptedPan is kept: only the PSP can read it). */
export function recordedBody(body: CardCallbackBody): CardCallbackBody {
  if (body.cardInfo.cardDataType === 'PAN') return body;
  const t = body.cardInfo.networkToken;
  return {
    ...body,
    cardInfo: {
      ...body.cardInfo,
      networkToken: { ...t, number: `${t.number.slice(0, 6)}${'*'.repeat(Math.max(0, t.number.length - 10))}${t.number.slice(-4)}`, cryptogram: '[redacted]' },
    },
  };
}

/** The first six digits of the card the callback carried: GET's paymentMethod.cardBin. */
export function cardBinOf(body: CardCallbackBody): string {
  return body.cardInfo.maskedCardNumber.slice(0, 6);
}

/**
 * FAIL errorCodes after which the user may not try again (183, suspected fraud); every other code (and 300, "Refused by
 * Issuer", the one published) lets the user retry with the same or another card. A FAIL without an
 * errorCode is final too: the wallet cannot tell the user anything better.
 */
export const FINAL_FAIL_CODES: ReadonlySet<number> = new Set([183]);

export type CallbackAnswer =
  | { kind: 'reserve'; networkTransactionReference: string | null }
  | { kind: 'fail'; retryable: boolean; errorCode: number | null; errorMessage: string | null }
  | { kind: 'soft-decline'; softDeclineUrl: string }
  /** HTTP other than 200, no answer within the limit, a body that is not one of the three answers. */
  | { kind: 'error'; reason: string };

/** What the PSP's answer means. `round` 2 is the callback after 3-D Secure, which must not soft-decline again. */
export function interpretCallbackAnswer(status: number | undefined, body: string | undefined, error: string | undefined, round: number): CallbackAnswer {
  if (error !== undefined || status === undefined) return { kind: 'error', reason: error ?? 'no answer' };
  if (status !== 200) return { kind: 'error', reason: `HTTP ${status}` };
  let parsed: unknown;
  try { parsed = JSON.parse(body ?? ''); } catch { return { kind: 'error', reason: 'the answer is not JSON' }; }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { kind: 'error', reason: 'the answer is not a JSON object' };
  const a = parsed as Record<string, unknown>;
  switch (a.status) {
    case 'RESERVE': {
      const ntr = a.networkTransactionReference;
      return { kind: 'reserve', networkTransactionReference: typeof ntr === 'string' || typeof ntr === 'number' ? String(ntr).slice(0, 200) : null };
    }
    case 'FAIL': {
      const code = typeof a.errorCode === 'number' && Number.isInteger(a.errorCode) ? a.errorCode
        : typeof a.errorCode === 'string' && /^\d{1,9}$/.test(a.errorCode) ? Number(a.errorCode) : null;
      const message = typeof a.errorMessage === 'string' ? a.errorMessage.slice(0, 500) : null;
      return { kind: 'fail', retryable: code !== null && !FINAL_FAIL_CODES.has(code), errorCode: code, errorMessage: message };
    }
    case 'SOFT_DECLINE': {
      if (round > 1) return { kind: 'fail', retryable: false, errorCode: null, errorMessage: 'SOFT_DECLINE after 3-D Secure' };
      const url = a.softDeclineUrl;
      if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) return { kind: 'error', reason: 'SOFT_DECLINE without a softDeclineUrl' };
      try { new URL(url); } catch { return { kind: 'error', reason: 'SOFT_DECLINE with an invalid softDeclineUrl' }; }
      return { kind: 'soft-decline', softDeclineUrl: url };
    }
    default:
      return { kind: 'error', reason: `unknown status ${JSON.stringify(a.status ?? null).slice(0, 40)}` };
  }
}
