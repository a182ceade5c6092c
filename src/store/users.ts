// Test users of the simulated app and their cards.
import { asc, eq, inArray } from 'drizzle-orm';
import type { Tx } from './db.ts';
import { cards, testUsers } from './schema.ts';

export type TestUserRow = typeof testUsers.$inferSelect;
export type CardRow = typeof cards.$inferSelect;
export type NewCard = typeof cards.$inferInsert;

export async function insertUserIfAbsent(tx: Tx, phone: string, name: string, pinHash: string | null = null, ownerPspId: string | null = null): Promise<boolean> {
  const rows = await tx.insert(testUsers).values({ phone, name, pinHash, ownerPspId }).onConflictDoNothing().returning({ phone: testUsers.phone });
  return rows.length > 0;
}

/** Changes a user's name and/or PIN hash (null removes the PIN); undefined when there is no such user. */
export async function updateUser(tx: Tx, phone: string, changes: { name?: string; pinHash?: string | null }): Promise<TestUserRow | undefined> {
  const [row] = await tx.update(testUsers).set(changes).where(eq(testUsers.phone, phone)).returning();
  return row;
}

export async function findUser(tx: Tx, phone: string): Promise<TestUserRow | undefined> {
  const [row] = await tx.select().from(testUsers).where(eq(testUsers.phone, phone));
  return row;
}

/** Every user, or with `owner` only those that PSP made. */
export async function listUsers(tx: Tx, owner?: string): Promise<TestUserRow[]> {
  return tx.select().from(testUsers).where(owner === undefined ? undefined : eq(testUsers.ownerPspId, owner))
    .orderBy(asc(testUsers.createdAt), asc(testUsers.phone));
}

export async function insertCard(tx: Tx, card: NewCard): Promise<CardRow> {
  const [row] = await tx.insert(cards).values(card).returning();
  return row;
}

export async function cardsOf(tx: Tx, phones: string[]): Promise<CardRow[]> {
  if (phones.length === 0) return [];
  return tx.select().from(cards).where(inArray(cards.phone, phones)).orderBy(asc(cards.position), asc(cards.createdAt));
}

export async function findCard(tx: Tx, cardId: string): Promise<CardRow | undefined> {
  const [row] = await tx.select().from(cards).where(eq(cards.cardId, cardId));
  return row;
}
