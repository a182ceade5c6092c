// Signing keys and small settings.
import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Tx } from './db.ts';
import { settings, signingKeys } from './schema.ts';

export interface StoredKey {
  kid: string;
  alg: string;
  privateJwk: Record<string, unknown>;
  publicJwk: Record<string, unknown>;
}

export async function loadSigningKeys(tx: Tx): Promise<StoredKey[]> {
  return tx.select().from(signingKeys).orderBy(signingKeys.createdAt);
}

/** Stores a key unless another process stored one first; either way returns the keys now stored. */
export async function insertSigningKeyIfNone(tx: Tx, key: StoredKey): Promise<StoredKey[]> {
  await tx.transaction(async (t) => {
    await t.execute(sql`lock table ${signingKeys} in share row exclusive mode`);
    const existing = await t.select({ kid: signingKeys.kid }).from(signingKeys).limit(1);
    if (existing.length === 0) await t.insert(signingKeys).values(key);
  });
  return loadSigningKeys(tx);
}

export async function getSetting(tx: Tx, key: string): Promise<string | undefined> {
  const found = await tx.select({ value: settings.value }).from(settings).where(eq(settings.key, key));
  return found[0]?.value;
}

/** Sets a setting only if absent. Returns true when this call stored it. */
export async function putSettingIfAbsent(tx: Tx, key: string, value: string): Promise<boolean> {
  const inserted = await tx.insert(settings).values({ key, value }).onConflictDoNothing().returning({ key: settings.key });
  return inserted.length > 0;
}

/**
 * A random 32-byte key stored once under `setting` (created on first use; when two processes race,
 * both get the one stored first), so that every process on the database uses the same one.
 */
export async function sharedKey(tx: Tx, setting: string): Promise<Buffer> {
  let stored = await getSetting(tx, setting);
  if (stored === undefined) {
    await putSettingIfAbsent(tx, setting, randomBytes(32).toString('base64'));
    stored = await getSetting(tx, setting);
  }
  if (stored === undefined) throw new Error(`the key ${setting} could not be stored`);
  return Buffer.from(stored, 'base64');
}
