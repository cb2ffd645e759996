import { FairQueueRule } from "../../../src/objects/queue/fairness";
import { FifoLimits } from "../../../src/schema/queue";

/**
 * The reference model of message groups, written from the rules rather than from the engine's
 * SQL: which messages a receive hands out on a FIFO queue (order per group, one batch in flight
 * per group), which on a fair standard queue (noisy tenants last), and deduplication inside the
 * window. The queue model (queue-model.test.ts) keeps the messages; these functions read them.
 */

export interface GroupedMessage {
  seq: number;
  state: "waiting" | "received" | "deleted" | "moving";
  visibleAt: number;
  /** The FIFO group, or the tenant on a standard queue; undefined for a message without one. */
  group: string | undefined;
}

const byVisibility = (a: GroupedMessage, b: GroupedMessage) => a.visibleAt - b.visibleAt || a.seq - b.seq;
const inFlight = (m: GroupedMessage, nowMs: number) => m.state === "received" && m.visibleAt > nowMs;

/**
 * A FIFO queue's receive: for each group whose first message not deleted is claimable and none of
 * whose messages is in flight or moving, in the order of those first messages' visibility, the
 * first message and the claimable ones right after it in send order; up to `max`.
 */
export function fifoClaim<M extends GroupedMessage>(messages: readonly M[], max: number, nowMs: number, claimable: (m: M) => boolean): M[] {
  const groups = new Map<string, M[]>();
  for (const m of [...messages].sort((a, b) => a.seq - b.seq)) {
    if (m.state === "deleted") continue;
    const members = groups.get(m.group!) ?? [];
    members.push(m);
    groups.set(m.group!, members);
  }
  const ready = [...groups.values()].filter(
    (members) => claimable(members[0]!) && !members.some((m) => m.state === "moving" || inFlight(m, nowMs)),
  );
  ready.sort((a, b) => byVisibility(a[0]!, b[0]!));
  const chosen: M[] = [];
  for (const members of ready) {
    if (chosen.length >= max) break;
    for (const m of members) {
      if (chosen.length >= max || !claimable(m)) break;
      chosen.push(m);
    }
  }
  return chosen;
}

/** The tenants noisy now (FairQueueRule): more than their share of the in-flight messages, and at least the minimum. */
export function noisyTenants(messages: readonly GroupedMessage[], nowMs: number): Set<string> {
  const flying = messages.filter((m) => inFlight(m, nowMs));
  const perTenant = new Map<string, number>();
  for (const m of flying) if (m.group !== undefined) perTenant.set(m.group, (perTenant.get(m.group) ?? 0) + 1);
  const noisy = new Set<string>();
  for (const [tenant, count] of perTenant) {
    if (count >= FairQueueRule.noisyMinInFlight && count > flying.length * FairQueueRule.noisyShareOfInFlight) noisy.add(tenant);
  }
  return noisy;
}

/**
 * A standard queue's receive: the claimable messages by visibility, the quiet tenants' (and those
 * without a tenant) first, the noisy ones' only to fill; handed out in send order.
 */
export function fairClaim<M extends GroupedMessage>(messages: readonly M[], max: number, nowMs: number, claimable: (m: M) => boolean): { chosen: M[]; fair: boolean } {
  const candidates = messages.filter(claimable).sort(byVisibility);
  const noisy = noisyTenants(messages, nowMs);
  const quiet = candidates.filter((m) => m.group === undefined || !noisy.has(m.group)).slice(0, max);
  const loud = noisy.size === 0 ? [] : candidates.filter((m) => m.group !== undefined && noisy.has(m.group)).slice(0, max - quiet.length);
  return { chosen: [...quiet, ...loud].sort((a, b) => a.seq - b.seq), fair: noisy.size > 0 && quiet.length > 0 };
}

/** Deduplication ids remembered for the window: the first message's id and sequence, by id. */
export class DedupModel {
  private readonly entries = new Map<string, { id: string; seq: number; expiresAt: number }>();

  find(key: string, nowMs: number): { id: string; seq: number } | null {
    const entry = this.entries.get(key);
    return entry && entry.expiresAt > nowMs ? entry : null;
  }

  remember(key: string, id: string, seq: number, nowMs: number): void {
    this.entries.set(key, { id, seq, expiresAt: nowMs + FifoLimits.deduplicationWindowMs });
  }

  clone(): DedupModel {
    const copy = new DedupModel();
    for (const [key, entry] of this.entries) copy.entries.set(key, { ...entry });
    return copy;
  }
}

export const sequenceNumberOf = (seq: number): string => String(seq).padStart(20, "0");
