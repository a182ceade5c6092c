// Who is calling: resolves a subscription key to its PSP and checks client credentials.
// PSP identities are cached in memory (a PSP's id, client_id and subscription key never change once
// created), so the hot path does no database round trip for them. Client secrets are checked with
// scrypt once; a verified client_id and secret are then remembered in the database (as an HMAC with a
// key stored there, so every process computes the same one) for as long as the token issued for them
// lives, and answered from there by every process: a PSP renewing its token pays neither scrypt nor the
// failed-attempt limits. Identical checks in flight at once share one scrypt.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Database } from '../store/db.ts';
import { sharedKey } from '../store/keys.ts';
import {
  findPspByClientId, findPspById, findPspBySubscriptionKeyHash, findVerifiedCredential, rememberVerifiedCredential, type PspRow,
} from '../store/psps.ts';
import { sha256, verifySecret } from '../security/secrets.ts';
import { ApiError, errors } from '../domain/errors.ts';

export interface PspIdentity {
  pspId: string;
  clientId: string;
  subscriptionKeyHash: string;
  name: string;
}

function identity(row: PspRow): PspIdentity {
  return { pspId: row.pspId, clientId: row.clientId, subscriptionKeyHash: row.subscriptionKeyHash, name: row.name };
}

/**
 * A wrong client_id or secret. `guess` is true when it could have been a guess of that client's secret
 * (the subscription key was the PSP's own and the client_id is that PSP's): only such failures count
 * against the client_id's failed-attempt limit.
 */
export class InvalidClient extends ApiError {
  readonly guess: boolean;
  constructor(guess: boolean) {
    const e = errors.invalidClient();
    super(e.status, e.code, e.message);
    this.guess = guess;
  }
}

const DIGEST_KEY_SETTING = 'credentials.digest_key';

export class Credentials {
  private readonly database: Database;
  private readonly clock: Clock;
  private readonly rememberMs: number;
  private readonly digestKey: KeyObject;
  private readonly bySubscriptionKey = new Map<string, PspIdentity>();
  private readonly byId = new Map<string, PspIdentity>();
  /** Checks of client_id and secret in progress: digest → the client's PSP and secret hash, or undefined when wrong. */
  private readonly checking = new Map<string, Promise<{ pspId: string; secretHash: string } | undefined>>();

  private constructor(database: Database, clock: Clock, rememberSeconds: number, digestKey: Buffer) {
    this.database = database;
    this.clock = clock;
    this.rememberMs = rememberSeconds * 1000;
    this.digestKey = createSecretKey(digestKey);
  }

  /** `rememberSeconds`: how long verified credentials are answered without scrypt (an access token's lifetime). */
  static async load(database: Database, opts: { clock: Clock; rememberSeconds: number }): Promise<Credentials> {
    return new Credentials(database, opts.clock, opts.rememberSeconds, await sharedKey(database.db, DIGEST_KEY_SETTING));
  }

  /** The PSP a subscription key belongs to; 401 when missing or unknown. */
  async pspForSubscriptionKey(key: string | undefined): Promise<PspIdentity> {
    if (key === undefined || key.trim() === '') throw errors.missingSubscriptionKey();
    const hash = sha256(key.trim());
    const cached = this.bySubscriptionKey.get(hash);
    if (cached) return cached;
    const row = await findPspBySubscriptionKeyHash(this.database.db, hash);
    if (!row) throw errors.invalidSubscriptionKey();
    const found = identity(row);
    this.remember(this.bySubscriptionKey, hash, found);
    return found;
  }

  async pspById(pspId: string): Promise<PspIdentity | undefined> {
    const cached = this.byId.get(pspId);
    if (cached) return cached;
    const row = await findPspById(this.database.db, pspId);
    if (!row) return undefined;
    const found = identity(row);
    this.remember(this.byId, pspId, found);
    return found;
  }

  /**
   * The PSP of credentials verified before (by any process) and still remembered; undefined when they
   * were not, whether or not they are right. One indexed read, no scrypt.
   */
  async verifiedClient(subscriptionKey: string | undefined, clientId: string | undefined, clientSecret: string | undefined): Promise<PspIdentity | undefined> {
    if (!subscriptionKey?.trim() || !clientId || !clientSecret) return undefined;
    const pspId = await findVerifiedCredential(this.database.db, this.digest(clientId, clientSecret), this.clock.now());
    if (pspId === undefined) return undefined;
    const psp = await this.pspById(pspId);
    return psp && psp.subscriptionKeyHash === sha256(subscriptionKey.trim()) ? psp : undefined;
  }

  /**
   * Checks client_id and client_secret against the PSP of the subscription key (scrypt) and, when
   * right, remembers them for every process. Throws InvalidClient when wrong.
   */
  async authenticateClient(psp: PspIdentity, clientId: string | undefined, clientSecret: string | undefined): Promise<void> {
    if (!clientId || !clientSecret) throw errors.missingClient();
    const digest = this.digest(clientId, clientSecret);
    let check = this.checking.get(digest);
    if (!check) {
      check = this.checkClient(clientId, clientSecret).finally(() => this.checking.delete(digest));
      this.checking.set(digest, check);
    }
    const verified = await check;
    if (verified?.pspId !== psp.pspId) throw new InvalidClient(clientId === psp.clientId);
    const now = this.clock.now();
    await rememberVerifiedCredential(this.database.db, {
      digest, pspId: verified.pspId, secretHash: verified.secretHash, now, expiresAt: new Date(now.getTime() + this.rememberMs),
    });
  }

  /** The PSP of the client and the hash checked when the secret is its own; undefined otherwise. */
  private async checkClient(clientId: string, clientSecret: string): Promise<{ pspId: string; secretHash: string } | undefined> {
    const row = await findPspByClientId(this.database.db, clientId);
    // Always run scrypt, also for an unknown client_id, so timing does not tell which part was wrong.
    const ok = await verifySecret(clientSecret, row?.clientSecretHash ?? DUMMY_HASH);
    return row && ok ? { pspId: row.pspId, secretHash: row.clientSecretHash } : undefined;
  }

  private digest(clientId: string, clientSecret: string): string {
    return createHmac('sha256', this.digestKey).update(clientId).update('\u0000').update(clientSecret).digest('base64url');
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= 10_000) map.clear();
    map.set(key, value);
  }
}

/** A valid scrypt hash of a random string, compared against when the client_id is unknown. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
