// encryptedPan: how a standalone Dankort (a card with no network token) reaches the PSP. The PSP
// registers an RSA public key (at least 2048 bits) and names it in cardPassthrough.publicEncryptionKeyId;
// the card callback then carries cardDataType PAN and the card data encrypted with that key.
//
// The published material does not state the algorithm or the payload. This server follows the scheme
// MobilePay Online documented for its PSPs, the closest public model:
//   RSA/ECB/OAEPWithSHA-256AndMGF1Padding (OAEP, SHA-256 for the hash and for MGF1, no label) over the
//   UTF-8 JSON {"timestampticks":<.NET ticks, UTC>,"encryptedCardData":{"cardNumber":"…",
//   "expiryMonth":"MM","expiryYear":"YYYY"}}, then base64.
// Pure but for the randomness of OAEP.
import { constants, createHash, createPublicKey, publicEncrypt, type KeyObject } from 'node:crypto';

export const MIN_KEY_BITS = 2048;
export const MAX_KEY_BITS = 8192;

export interface PublicKeyInfo {
  /** The key as SPKI PEM, whatever PEM form it came in. */
  pem: string;
  bits: number;
  /** sha256 of the SPKI DER, hex. */
  fingerprint: string;
}

/** Reads a PEM public key (SPKI or PKCS#1 RSA), or says what is wrong with it. */
export function parsePublicKey(text: string): PublicKeyInfo | { error: string } {
  if (!/-----BEGIN (RSA )?PUBLIC KEY-----/.test(text)) {
    return { error: 'The publicKey must be a PEM RSA public key ("-----BEGIN PUBLIC KEY-----" or "-----BEGIN RSA PUBLIC KEY-----"); a private key or certificate is not accepted.' };
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem' });
  } catch {
    return { error: 'The publicKey is not a readable PEM public key.' };
  }
  if (key.asymmetricKeyType !== 'rsa') return { error: `The publicKey must be an RSA key (this one is ${key.asymmetricKeyType ?? 'of an unknown type'}).` };
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_KEY_BITS || bits > MAX_KEY_BITS) return { error: `The publicKey must have ${MIN_KEY_BITS} to ${MAX_KEY_BITS} bits (this one has ${bits}).` };
  const der = key.export({ type: 'spki', format: 'der' });
  return { pem: key.export({ type: 'spki', format: 'pem' }).toString(), bits, fingerprint: createHash('sha256').update(der).digest('hex') };
}

/** .NET ticks: 100-nanosecond intervals since 0001-01-01T00:00:00Z. Beyond 2^53, hence a bigint. */
export function dotnetTicks(at: Date): bigint {
  return (BigInt(at.getTime()) + 62_135_596_800_000n) * 10_000n;
}

/** The Luhn check digit for the digits before it. */
export function luhnCheckDigit(partial: string): string {
  let sum = 0;
  for (let i = partial.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = partial.charCodeAt(i) - 48;
    if (double) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

export function luhnValid(number: string): boolean {
  return /^\d{2,19}$/.test(number) && luhnCheckDigit(number.slice(0, -1)) === number.slice(-1);
}

/**
 * The full number of a test card: its brand's 8-digit BIN, 4 digits derived from the card's id, and
 * its last 4, so that it agrees with the masked number (BIN, XXXX, last 4). The middle digits are
 * chosen so that the number passes the Luhn check.
 */
export function testCardNumber(bin8: string, cardId: string, last4: string): string {
  const seed = createHash('sha256').update(cardId).digest();
  const middle3 = String(seed.readUInt16BE(0) % 1000).padStart(3, '0');
  // The check digit is the last of last4, fixed: the one digit d before last4 that makes the number
  // Luhn valid is found by trying each.
  for (let d = 0; d <= 9; d++) {
    const candidate = `${bin8}${middle3}${d}${last4}`;
    if (luhnValid(candidate)) return candidate;
  }
  // Unreachable: the digit in that position, doubled or not, takes every residue mod 10.
  throw new Error('no Luhn-valid test card number');
}

export interface PanCardData {
  cardNumber: string;
  expiryMonth: string;
  expiryYear: string;
}

/** The plaintext that goes into encryptedPan, exactly as it is encrypted. */
export function panPlaintext(card: PanCardData, at: Date): string {
  // The ticks are written as an integer literal: exact, though beyond what a double holds.
  return `{"timestampticks":${dotnetTicks(at).toString()},"encryptedCardData":${JSON.stringify({ cardNumber: card.cardNumber, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear })}}`;
}

/** encryptedPan: the card data encrypted with the PSP's public key (RSA-OAEP, SHA-256), base64. */
export function encryptPan(publicKeyPem: string, card: PanCardData, at: Date): string {
  return publicEncrypt({ key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(panPlaintext(card, at), 'utf8')).toString('base64');
}
