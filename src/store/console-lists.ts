// Lists of the console's PSP, merchant and test user pages, one keyset page at a time (`after` is the
// last key of the previous page), so a page costs the same however many there are.
import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm';
import { rows, type Tx } from './db.ts';
import { merchants, testUsers } from './schema.ts';
import type { MerchantRow } from './merchants.ts';
import type { TestUserRow } from './users.ts';

export async function merchantsPage(tx: Tx, opts: { pspId?: string; after?: string; limit: number }): Promise<MerchantRow[]> {
  const where: SQL[] = [];
  if (opts.pspId !== undefined) where.push(eq(merchants.pspId, opts.pspId));
  if (opts.after !== undefined) where.push(gt(merchants.msn, opts.after));
  return tx.select().from(merchants).where(where.length > 0 ? and(...where) : undefined).orderBy(asc(merchants.msn)).limit(opts.limit);
}

export async function usersPage(tx: Tx, opts: { after?: string; limit: number; owner?: string }): Promise<TestUserRow[]> {
  return tx.select().from(testUsers).where(and(
    opts.after === undefined ? undefined : gt(testUsers.phone, opts.after),
    opts.owner === undefined ? undefined : eq(testUsers.ownerPspId, opts.owner),
  )).orderBy(asc(testUsers.phone)).limit(opts.limit);
}

/** How many merchants each PSP has. */
export async function merchantCounts(tx: Tx): Promise<Map<string, number>> {
  const found = await rows<{ psp_id: string; n: string | number }>(tx, sql`select psp_id, count(*) as n from merchants group by psp_id`);
  return new Map(found.map((r) => [r.psp_id, Number(r.n)]));
}
