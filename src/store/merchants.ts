// Merchants (sales units), each owned by one PSP.
import { and, asc, eq } from 'drizzle-orm';
import type { Tx } from './db.ts';
import { merchants } from './schema.ts';

export type MerchantRow = typeof merchants.$inferSelect;
export type NewMerchant = typeof merchants.$inferInsert;

/** Inserts a merchant; returns undefined when the MSN is taken (the caller picks another). */
export async function insertMerchant(tx: Tx, merchant: NewMerchant): Promise<MerchantRow | undefined> {
  const [row] = await tx.insert(merchants).values(merchant).onConflictDoNothing().returning();
  return row;
}

export async function findMerchant(tx: Tx, msn: string): Promise<MerchantRow | undefined> {
  const [row] = await tx.select().from(merchants).where(eq(merchants.msn, msn));
  return row;
}

export async function findMerchantOfPsp(tx: Tx, pspId: string, msn: string): Promise<MerchantRow | undefined> {
  const [row] = await tx.select().from(merchants).where(and(eq(merchants.msn, msn), eq(merchants.pspId, pspId)));
  return row;
}

export async function listMerchantsOfPsp(tx: Tx, pspId: string): Promise<MerchantRow[]> {
  return tx.select().from(merchants).where(eq(merchants.pspId, pspId)).orderBy(asc(merchants.createdAt), asc(merchants.msn));
}

export async function listAllMerchants(tx: Tx): Promise<MerchantRow[]> {
  return tx.select().from(merchants).orderBy(asc(merchants.createdAt), asc(merchants.msn));
}

export async function updateMerchant(
  tx: Tx, msn: string, changes: Partial<Omit<NewMerchant, 'msn' | 'pspId' | 'createdAt'>>, pspId?: string,
): Promise<MerchantRow | undefined> {
  const where = pspId === undefined ? eq(merchants.msn, msn) : and(eq(merchants.msn, msn), eq(merchants.pspId, pspId));
  const [row] = await tx.update(merchants).set({ ...changes, updatedAt: new Date() }).where(where).returning();
  return row;
}
