// The operator API's bearer token: ADMIN_TOKEN when set; in the test environment otherwise a
// generated one, stored (hashed) in the database and shown once, on the start that created it.
import type { Config } from '../config.ts';
import type { Database } from '../store/db.ts';
import { getSetting, putSettingIfAbsent } from '../store/keys.ts';
import { randomToken, safeEqual, sha256 } from '../security/secrets.ts';
import type { ConsoleCredentials } from './principals.ts';

const SETTING = 'admin_token_sha256';

export interface AdminToken {
  /** sha256 of the accepted token, or undefined when the operator API is disabled. */
  hash: string | undefined;
  /** The token, only when this start generated it (to be printed once). */
  generated?: string;
  source: 'env' | 'generated' | 'stored' | 'disabled';
  /** The PSPs' console credentials, which the operator API also accepts (for their PSP's objects). */
  consoleCredentials?: ConsoleCredentials;
}

export async function resolveAdminToken(config: Config, database: Database): Promise<AdminToken> {
  if (config.adminToken) return { hash: sha256(config.adminToken), source: 'env' };
  if (config.vippsEnv !== 'test') return { hash: undefined, source: 'disabled' };
  const candidate = randomToken(24);
  if (await putSettingIfAbsent(database.db, SETTING, sha256(candidate))) {
    return { hash: sha256(candidate), generated: candidate, source: 'generated' };
  }
  return { hash: await getSetting(database.db, SETTING), source: 'stored' };
}

export function adminTokenMatches(admin: AdminToken, presented: string): boolean {
  return admin.hash !== undefined && safeEqual(sha256(presented), admin.hash);
}
