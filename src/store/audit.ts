// The audit log (schema: audit_log): every action in the console and the operator API.
import { and, desc, eq, lt, or, type SQL } from 'drizzle-orm';
import type { Tx } from './db.ts';
import { auditLog } from './schema.ts';

export type AuditRow = typeof auditLog.$inferSelect;
export type NewAudit = typeof auditLog.$inferInsert;

export async function insertAudit(tx: Tx, entry: NewAudit): Promise<void> {
  await tx.insert(auditLog).values(entry);
}

/**
 * Entries newest first, `limit` before the entry `before`; with `pspId` only those of that PSP's
 * people and those about its objects.
 */
export async function listAudit(tx: Tx, opts: { limit: number; before?: number; pspId?: string }): Promise<AuditRow[]> {
  const conditions: Array<SQL | undefined> = [
    opts.before === undefined ? undefined : lt(auditLog.auditId, opts.before),
    opts.pspId === undefined ? undefined : or(eq(auditLog.actorPspId, opts.pspId), eq(auditLog.pspId, opts.pspId)),
  ];
  return tx.select().from(auditLog).where(and(...conditions)).orderBy(desc(auditLog.auditId)).limit(opts.limit);
}
