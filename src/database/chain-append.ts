/**
 * One try at appending to a hash chain (a request's audit trail, an organisation's audit log). Appends read
 * the last position and insert at the next in one statement; when a concurrent append took that position
 * first, the chain's unique index refuses this one and the caller tries again. Inside a caller's
 * transaction a savepoint keeps that lost race from aborting the transaction.
 */
import type { DataSource, EntityManager } from 'typeorm';

export const lostRace = Symbol('lost race');

export async function tryChainAppend<T>(
  db: DataSource | EntityManager,
  positionConstraint: string,
  append: () => Promise<T>,
): Promise<T | typeof lostRace> {
  const inTransaction = 'queryRunner' in db && db.queryRunner?.isTransactionActive === true;
  try {
    if (inTransaction) await db.query(`SAVEPOINT sigill_chain_append`);
    const result = await append();
    if (inTransaction) await db.query(`RELEASE SAVEPOINT sigill_chain_append`);
    return result;
  } catch (error) {
    if (inTransaction) await db.query(`ROLLBACK TO SAVEPOINT sigill_chain_append; RELEASE SAVEPOINT sigill_chain_append`);
    const { code, constraint } = error as { code?: string; constraint?: string };
    if (code === '23505' && constraint === positionConstraint) return lostRace;
    throw error;
  }
}
