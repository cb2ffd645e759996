import { DefaultFifoGroupId } from "./fifo";
import type { QueueEngine } from "./engine";
import type { TransferredMessage } from "./moves";

/** What a routed hand-over answers: which messages this partition took (stored, or already held), or stale. */
export type RoutedAccept = { stale: false; taken: boolean[]; stored: number } | { stale: true; epoch: number };

/**
 * Which handed-over messages a FIFO partition takes: all of them, or, asked as an earlier
 * partition of their groups, those it has taken before (their idempotency key is here, so a
 * retry whose first answer was lost finds it), those whose group it still holds in any state but
 * deleted, and a topic delivery whose deduplication id it has seen inside the window.
 */
export function handedOverWhereGroupIs(
  sql: SqlStorage,
  engine: QueueEngine,
  messages: readonly TransferredMessage[],
  onlyWhereGroupIs: boolean,
  nowMs: number,
): boolean[] {
  if (!onlyWhereGroupIs) return messages.map(() => true);
  const { attributes } = engine.requireMeta();
  const { groups } = engine.messages;
  return messages.map(({ idempotencyKey, groupId, deduplicationId, delayed }) => {
    if (sql.exec("SELECT 1 FROM idempotency_keys WHERE key = ?", idempotencyKey).toArray().length > 0) return true;
    const group = groupId ?? DefaultFifoGroupId;
    if (groups.headFlagFor(group) === 0) return true;
    return delayed === true && !!deduplicationId && groups.findDuplicate(groups.dedupKey(attributes, group, deduplicationId), nowMs) !== null;
  });
}
