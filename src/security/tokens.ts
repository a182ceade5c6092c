// Access tokens: RS256 JWTs signed with a key generated once and stored in the database, so every
// process on one database issues and accepts the same tokens. Key material is imported once;
// verified tokens are remembered until they expire, so the hot path does no crypto for a token seen before.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { Database } from '../store/db.ts';
import { insertSigningKeyIfNone, loadSigningKeys } from '../store/keys.ts';
import type { Clock } from '../clock.ts';

const ALG = 'RS256';
/** The resource the real token endpoint names in its answer. */
export const TOKEN_RESOURCE = '00000002-0000-0000-c000-000000000000';

export interface AccessClaims {
  pspId: string;
  clientId: string;
  exp: number;
}

export interface IssuedToken {
  token_type: 'Bearer';
  expires_in: string;
  ext_expires_in: string;
  expires_on: string;
  not_before: string;
  resource: string;
  access_token: string;
}

export class TokenService {
  private readonly privateKey: CryptoKey;
  private readonly publicKey: CryptoKey;
  private readonly kid: string;
  private readonly publicJwk: JWK;
  private readonly issuer: string;
  private readonly ttl: number;
  private readonly clock: Clock;
  private readonly verified = new Map<string, AccessClaims>();

  private constructor(args: { privateKey: CryptoKey; publicKey: CryptoKey; kid: string; publicJwk: JWK; issuer: string; ttl: number; clock: Clock }) {
    this.privateKey = args.privateKey;
    this.publicKey = args.publicKey;
    this.kid = args.kid;
    this.publicJwk = args.publicJwk;
    this.issuer = args.issuer;
    this.ttl = args.ttl;
    this.clock = args.clock;
  }

  /** Loads the stored signing key, generating and storing one on the very first start. */
  static async create(database: Database, opts: { issuer: string; ttlSeconds: number; clock: Clock }): Promise<TokenService> {
    let keys = await loadSigningKeys(database.db);
    if (keys.length === 0) {
      const pair = await generateKeyPair(ALG, { modulusLength: 2048, extractable: true });
      const kid = randomUUID();
      const privateJwk = { ...(await exportJWK(pair.privateKey)), kid, alg: ALG };
      const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg: ALG, use: 'sig' };
      keys = await insertSigningKeyIfNone(database.db, { kid, alg: ALG, privateJwk, publicJwk });
    }
    const key = keys[0];
    const privateKey = (await importJWK(key.privateJwk as JWK, ALG)) as CryptoKey;
    const publicKey = (await importJWK(key.publicJwk as JWK, ALG)) as CryptoKey;
    return new TokenService({
      privateKey, publicKey, kid: key.kid, publicJwk: key.publicJwk as JWK,
      issuer: opts.issuer, ttl: opts.ttlSeconds, clock: opts.clock,
    });
  }

  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  async issue(pspId: string, clientId: string): Promise<IssuedToken> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const exp = now + this.ttl;
    const accessToken = await new SignJWT({ psp_id: pspId, client_id: clientId })
      .setProtectedHeader({ alg: ALG, typ: 'JWT', kid: this.kid })
      .setIssuer(this.issuer)
      .setSubject(clientId)
      .setAudience(TOKEN_RESOURCE)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.privateKey);
    return {
      token_type: 'Bearer',
      expires_in: String(this.ttl),
      ext_expires_in: String(this.ttl),
      expires_on: String(exp),
      not_before: String(now),
      resource: TOKEN_RESOURCE,
      access_token: accessToken,
    };
  }

  /** Verifies signature, issuer, audience and times. Returns undefined for any invalid token. */
  async verify(token: string): Promise<AccessClaims | undefined> {
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.exp > nowSeconds) return cached;
      this.verified.delete(token);
      return undefined;
    }
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: [ALG],
        issuer: this.issuer,
        audience: TOKEN_RESOURCE,
        currentDate: this.clock.now(),
      });
      if (typeof payload.psp_id !== 'string' || typeof payload.client_id !== 'string' || typeof payload.exp !== 'number') {
        return undefined;
      }
      const claims: AccessClaims = { pspId: payload.psp_id, clientId: payload.client_id, exp: payload.exp };
      if (this.verified.size >= 10_000) this.verified.clear();
      this.verified.set(token, claims);
      return claims;
    } catch {
      return undefined;
    }
  }
}
