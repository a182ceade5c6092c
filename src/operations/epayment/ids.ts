// The wallet's own references of an ePayment payment's events.
import { randomInt } from 'node:crypto';

/** A pspReference of the wallet's: ten digits, as in the published examples. */
export function newPspReference(): string {
  return String(randomInt(1_000_000_000, 9_999_999_999));
}
