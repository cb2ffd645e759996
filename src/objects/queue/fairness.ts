import { RowIs } from "./storage";

/**
 * Fair queues: on a standard queue a message's group id names its tenant. A tenant is noisy while
 * it holds more than `noisyShareOfInFlight` of the queue's in-flight messages and at least
 * `noisyMinInFlight` of its own (SQS fair queues' rule); receives then take other tenants' messages
 * first, and the noisy tenants' only to fill what remains. Nothing is dropped or throttled.
 */
export const FairQueueRule = {
  noisyShareOfInFlight: 0.1,
  noisyMinInFlight: 30,
} as const;

/** The tenants noisy now; none on a queue whose messages name no tenant, found from an empty index. */
export function noisyTenants(sql: SqlStorage, nowMs: number): string[] {
  const candidates = sql
    .exec<{ group_id: string; n: number }>(
      `SELECT group_id, COUNT(*) AS n FROM messages
       WHERE ${RowIs.grouped} AND ${RowIs.busy} AND ${RowIs.received} AND visible_at > ?
       GROUP BY group_id HAVING n >= ?`,
      nowMs,
      FairQueueRule.noisyMinInFlight,
    )
    .toArray();
  if (candidates.length === 0) return [];
  const inFlight = sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM messages WHERE ${RowIs.received} AND visible_at > ?`, nowMs).one().n;
  return candidates.filter((tenant) => tenant.n > inFlight * FairQueueRule.noisyShareOfInFlight).map((tenant) => tenant.group_id);
}
