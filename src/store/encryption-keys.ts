// The PSPs' public keys for encryptedPan (schema.ts pspEncryptionKeys).
import { and, desc, eq } from 'drizzle-orm';
import type { Db, Tx } from './db.ts';
import { pspEncryptionKeys } from './schema.ts';

export type EncryptionKeyRow = typeof pspEncryptionKeys.$inferSelect;

/** Stores the key unless its id is taken; the row under that id either way. */
export async function insertEncryptionKey(tx: Tx, key: typeof pspEncryptionKeys.$inferInsert): Promise<{ inserted: boolean; row: EncryptionKeyRow }> {
  const [inserted] = await tx.insert(pspEncryptionKeys).values(key).onConflictDoNothing().returning();
  if (inserted) return { inserted: true, row: inserted };
  const [row] = await tx.select().from(pspEncryptionKeys).where(eq(pspEncryptionKeys.keyId, key.keyId));
  return { inserted: false, row };
}

export async function listEncryptionKeys(db: Db | Tx, pspId: string): Promise<EncryptionKeyRow[]> {
  return db.select().from(pspEncryptionKeys).where(eq(pspEncryptionKeys.pspId, pspId)).orderBy(desc(pspEncryptionKeys.createdAt));
}

/** The PSP's key of that id (undefined when it is another PSP's or not there). */
export async function findEncryptionKey(db: Db | Tx, pspId: string, keyId: string): Promise<EncryptionKeyRow | undefined> {
  const [row] = await db.select().from(pspEncryptionKeys).where(and(eq(pspEncryptionKeys.pspId, pspId), eq(pspEncryptionKeys.keyId, keyId)));
  return row;
}

export async function deleteEncryptionKey(db: Db | Tx, pspId: string, keyId: string): Promise<boolean> {
  const rows = await db.delete(pspEncryptionKeys).where(and(eq(pspEncryptionKeys.pspId, pspId), eq(pspEncryptionKeys.keyId, keyId))).returning({ keyId: pspEncryptionKeys.keyId });
  return rows.length > 0;
}
