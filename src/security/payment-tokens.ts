// Tokens of a payment that the server must be able to produce again but must not store: the landing
// token of an init sent with an Idempotency-Key (a retry gets the same vippsRedirectUrl) and the
// reference in the 3-D Secure operation URLs (sent again with every makePayment). Each is an HMAC of
// the payment's (pspId, pspTransactionId), which is unique, under a random key; the database keeps
// only their sha256. The key is generated once and kept in the settings table, shared by every process.
import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { Database } from '../store/db.ts';
import { getSetting, putSettingIfAbsent } from '../store/keys.ts';

const KEY_SETTING = 'payment.token_key';
/** How many ePayment tokens each process keeps at most. */
const RECENT_TOKENS = 20_000;

export class PaymentTokens {
  /** A KeyObject: an HMAC under a raw Buffer key costs several times as much (the key is imported on every call). */
  private readonly key: KeyObject;
  private readonly recent = new Map<string, string>();

  constructor(key: Buffer) {
    if (key.length < 32) throw new Error('the payment token key must have at least 32 bytes');
    this.key = createSecretKey(key);
  }

  /** Loads the key, generating and storing it on the very first start. */
  static async load(database: Database): Promise<PaymentTokens> {
    let stored = await getSetting(database.db, KEY_SETTING);
    if (stored === undefined) {
      await putSettingIfAbsent(database.db, KEY_SETTING, randomBytes(32).toString('base64'));
      stored = await getSetting(database.db, KEY_SETTING);
    }
    if (stored === undefined) throw new Error('the payment token key could not be stored');
    return new PaymentTokens(Buffer.from(stored, 'base64'));
  }

  private derive(purpose: string, pspId: string, pspTransactionId: string, bytes: number): string {
    return createHmac('sha256', this.key).update(JSON.stringify([purpose, pspId, pspTransactionId])).digest().subarray(0, bytes).toString('base64url');
  }

  /** The landing token of a keyed init: 24 bytes, as long as a random one. */
  landingToken(pspId: string, pspTransactionId: string): string {
    return this.derive('landing', pspId, pspTransactionId, 24);
  }

  /** The reference in the payment's 3-D Secure operation URLs. */
  threeDsRef(pspId: string, pspTransactionId: string): string {
    return this.derive('3ds', pspId, pspTransactionId, 18);
  }

  /**
   * The token in an ePayment payment's redirectUrl, from its (MSN, reference), which is unique: a
   * create retried with its Idempotency-Key is answered with the same URL, and no token is stored.
   */
  epaymentToken(msn: string, reference: string): string {
    // GET answers a CREATED payment with its redirectUrl, and PSPs poll: the latest tokens are kept
    // (a token never changes, so keeping it is safe; the map is emptied when it is full).
    const id = `${msn}\u0000${reference}`;
    let token = this.recent.get(id);
    if (token === undefined) {
      token = this.derive('epayment', msn, reference, 24);
      if (this.recent.size >= RECENT_TOKENS) this.recent.clear();
      this.recent.set(id, token);
    }
    return token;
  }

  /** The reference in an ePayment payment's softDeclineCompletedRedirectUrl. */
  softDeclineRef(msn: string, reference: string): string {
    return this.derive('epayment-3ds', msn, reference, 18);
  }

  /** The token in an agreement's vippsConfirmationUrl: the agreement id is unique, so nothing is stored. */
  agreementToken(agreementId: string): string {
    return this.derive('agreement', 'recurring', agreementId, 24);
  }

  /** The reference in a Recurring sign-up's softDeclineCompletedRedirectUrl. */
  agreementSoftDeclineRef(agreementId: string): string {
    return this.derive('agreement-3ds', 'recurring', agreementId, 18);
  }
}
