import { abortAllDurableObjects } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { expect } from "vitest";
import { RootPrincipal } from "../../../src/auth/authenticate";
import { ServiceError } from "../../../src/errors";
import { settlingAfter } from "../../../src/objects/queue/partition-epoch";
import { partitionOfGroup } from "../../../src/schema/partitions";
import type { ReceivedMessage } from "../../../src/schema/queue";
import { QueueOperations } from "../../../src/service/queues";

/**
 * The model-based test of a partitioned queue, driven through the service layer (routing, the
 * backlog hint, handles that name their partition, counts and purge for the whole queue, raising
 * and lowering the count): random sequences of sends, receives, deletes, visibility changes,
 * purges, resizes (FIFO queues' too: a group stays in one partition, in order, while earlier counts
 * settle) and evictions, each checked against a small model of which messages are
 * waiting, in flight (with their latest handle and receive count) or gone. Time does not pass:
 * visibility timeouts are an hour, so only a visibility change makes a message receivable again.
 */

export interface PartitionConfig {
  partitions: number;
  fifo: boolean;
}

export type PartitionCommand =
  | { t: "send"; groups: Array<string | undefined> }
  | { t: "receive"; max: number }
  | { t: "delete"; picks: HandlePick[] }
  | { t: "release"; pick: HandlePick }
  | { t: "purge" }
  | { t: "resize"; partitions: number }
  | { t: "evict" };

/** A handle: a message's latest, an older one of any message, or a made-up one naming some partition. */
type HandlePick = { kind: "latest" | "stale"; k: number } | { kind: "forged"; partition: number };

interface ModelMessage {
  id: string;
  group: string | undefined;
  state: "waiting" | "received" | "gone";
  receiveCount: number;
  handle: string | null;
  /** The partition its handles name, once it was received; a message never changes partition. */
  partition: number | null;
}

export const partitionConfigArb: fc.Arbitrary<PartitionConfig> = fc.record({
  partitions: fc.integer({ min: 2, max: 8 }),
  fifo: fc.oneof({ weight: 2, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const pickArb: fc.Arbitrary<HandlePick> = fc.oneof(
  { weight: 12, arbitrary: fc.nat(40).map((k) => ({ kind: "latest" as const, k })) },
  { weight: 2, arbitrary: fc.nat(80).map((k) => ({ kind: "stale" as const, k })) },
  { weight: 1, arbitrary: fc.nat(9).map((partition) => ({ kind: "forged" as const, partition })) },
);

const commandArb: fc.Arbitrary<PartitionCommand> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom<string | undefined>("a", "b", "c", "d", "e"), fc.constant(undefined)), { minLength: 1, maxLength: 8 })
      .map((groups) => ({ t: "send" as const, groups })),
  },
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 16 }).map((max) => ({ t: "receive" as const, max })) },
  { weight: 4, arbitrary: fc.array(pickArb, { minLength: 1, maxLength: 6 }).map((picks) => ({ t: "delete" as const, picks })) },
  { weight: 2, arbitrary: pickArb.map((pick) => ({ t: "release" as const, pick })) },
  { weight: 1, arbitrary: fc.constant({ t: "purge" as const }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 8 }).map((partitions) => ({ t: "resize" as const, partitions })) },
  { weight: 1, arbitrary: fc.constant({ t: "evict" as const }) },
);

export const partitionCommandsArb = fc.array(commandArb, { minLength: 1, maxLength: 30, size: "max" });

export const partitionTally = { sequences: 0, sent: 0, received: 0, deleted: 0, refused: 0, released: 0, raised: 0, lowered: 0, lowerRefused: 0, settlingRefused: 0, fifoResized: 0, evictions: 0 };

function codeOf(error: unknown): string {
  if (error instanceof ServiceError) return error.code;
  throw error;
}

export async function runPartitionSequence(config: PartitionConfig, commands: PartitionCommand[]): Promise<void> {
  partitionTally.sequences++;
  const queues = new QueueOperations(env, { account: "default", region: "local", principal: RootPrincipal() });
  const name = `pm-${crypto.randomUUID().slice(0, 8)}${config.fifo ? ".fifo" : ""}`;
  await queues.createQueue(name, { partitions: config.partitions, visibilityTimeout: 3_600, ...(config.fifo ? { fifo: true } : {}) });
  let partitions = config.partitions;
  /** A FIFO queue's earlier counts still settling: nothing drains them here, as time does not pass. */
  let settling: number[] = [];
  const messages: ModelMessage[] = [];
  const issued: Array<{ handle: string; message: ModelMessage }> = [];
  let dedup = 0;

  const live = () => messages.filter((m) => m.state !== "gone");
  /** FIFO: a group's head is its first message not gone; it is receivable when waiting and nothing of its group is in flight. */
  const receivable = () =>
    live().filter((m) => {
      if (m.state !== "waiting") return false;
      if (!config.fifo) return true;
      const group = live().filter((other) => other.group === m.group);
      return group[0] === m && group.every((other) => other.state === "waiting");
    });
  const resolve = (pick: HandlePick): { handle: string; message: ModelMessage | null } => {
    if (pick.kind === "forged") return { handle: `${pick.partition > 0 ? `p${pick.partition}_` : ""}1-00000000000000000000000000000000`, message: null };
    if (pick.kind === "latest") {
      const held = live().filter((m) => m.state === "received");
      if (held.length > 0) {
        const message = held[pick.k % held.length]!;
        return { handle: message.handle!, message };
      }
    }
    if (issued.length === 0) return { handle: "0-00000000000000000000000000000000", message: null };
    const { handle, message } = issued[pick.k % issued.length]!;
    return { handle, message: message.state === "received" && message.handle === handle ? message : null };
  };

  const checkCounts = async (where: string) => {
    const info = await queues.getQueue(name);
    const waiting = live().filter((m) => m.state === "waiting").length;
    const received = live().filter((m) => m.state === "received").length;
    expect({ partitions: info.partitions, active: info.counts.active, inactive: info.counts.inactive, total: info.counts.total }, where).toEqual({
      partitions,
      active: waiting,
      inactive: received,
      total: waiting + received,
    });
  };

  const receive = async (max: number, where: string): Promise<ReceivedMessage[]> => {
    const before = receivable();
    // FIFO: a batch takes a group's messages from its head on, in order.
    const nextOfGroup = new Map<string | undefined, number>();
    const got = await queues.receive(name, { max, waitSeconds: 0, visibilityTimeout: undefined });
    const byId = new Map(live().map((m) => [m.id, m]));
    if (before.length > 0) expect(got.length, `${where}: a receive finds one of the ${before.length} receivable messages`).toBeGreaterThan(0);
    expect(got.length, where).toBeLessThanOrEqual(max);
    for (const message of got) {
      const m = byId.get(message.id);
      expect(m, `${where}: ${message.id} is a message the model holds`).toBeDefined();
      if (config.fifo) {
        const group = live().filter((other) => other.group === m!.group);
        const position = nextOfGroup.get(m!.group) ?? 0;
        expect(before.includes(group[0]!) && group[position] === m, `${where}: ${message.id} is next in group ${m!.group}`).toBe(true);
        nextOfGroup.set(m!.group, position + 1);
      } else {
        expect(before.includes(m!), `${where}: ${message.id} was receivable`).toBe(true);
      }
      const partition = /^p(\d+)_/.exec(message.receiptHandle)?.[1];
      const handlePartition = partition === undefined ? 0 : Number(partition);
      if (m!.partition !== null) expect(handlePartition, `${where}: ${message.id} stays in its partition`).toBe(m!.partition);
      if (config.fifo) {
        // A group lives in one partition at a time: the one its earlier messages still wait in, else its partition under the count.
        const placed = live().filter((other) => other.group === m!.group && other !== m && other.partition !== null);
        for (const other of placed) expect(handlePartition, `${where}: group ${m!.group} in one partition`).toBe(other.partition);
        if (settling.length === 0) expect(handlePartition, `${where}: group ${m!.group} in its partition`).toBe(partitionOfGroup(m!.group!, partitions));
      }
      m!.partition = handlePartition;
      m!.state = "received";
      m!.receiveCount++;
      m!.handle = message.receiptHandle;
      expect(message.receiveCount, where).toBe(m!.receiveCount);
      issued.push({ handle: message.receiptHandle, message: m! });
    }
    partitionTally.received += got.length;
    return got;
  };

  for (const [index, command] of commands.entries()) {
    const where = `#${index} ${JSON.stringify(command)}`;
    switch (command.t) {
      case "send": {
        const outgoing: Array<{ body: string; groupId?: string; deduplicationId?: string }> = command.groups.map((group) => ({
          body: "m",
          ...(config.fifo ? { groupId: group ?? "a", deduplicationId: `d${dedup++}` } : group === undefined ? {} : { groupId: group }),
        }));
        const sent = await queues.send(name, outgoing);
        expect(sent, where).toHaveLength(outgoing.length);
        sent.forEach((message, position) =>
          messages.push({ id: message.id, group: outgoing[position]!.groupId, state: "waiting", receiveCount: 0, handle: null, partition: null }),
        );
        partitionTally.sent += sent.length;
        break;
      }
      case "receive":
        await receive(command.max, where);
        break;
      case "delete": {
        const picked = command.picks.map(resolve);
        const results = await queues.deleteMessages(name, picked.map((pick) => pick.handle));
        // A handle given twice in one call deletes once.
        const done = new Set<ModelMessage>();
        results.forEach((result, position) => {
          const { message } = picked[position]!;
          const deletes = message !== null && !done.has(message);
          expect({ handle: result.receiptHandle, deleted: result.deleted }, where).toEqual({ handle: picked[position]!.handle, deleted: deletes });
          if (!deletes) {
            expect(result.error?.code, where).toBe("ReceiptHandleInvalid");
            partitionTally.refused++;
            return;
          }
          done.add(message);
          message.state = "gone";
          partitionTally.deleted++;
        });
        break;
      }
      case "release": {
        const { handle, message } = resolve(command.pick);
        try {
          await queues.changeVisibility(name, handle, 0);
          expect(message, `${where}: only a latest handle changes visibility`).not.toBeNull();
          message!.state = "waiting";
          message!.handle = null;
          partitionTally.released++;
        } catch (error) {
          expect(codeOf(error), where).toBe("ReceiptHandleInvalid");
          expect(message, where).toBeNull();
        }
        break;
      }
      case "purge": {
        const { purged } = await queues.purge(name);
        expect(purged, where).toBe(live().length);
        for (const message of live()) message.state = "gone";
        break;
      }
      case "resize": {
        let settlingAfterChange: number[] | null = settling;
        if (config.fifo) {
          try {
            settlingAfterChange = command.partitions === partitions ? settling : settlingAfter(settling, partitions, command.partitions);
          } catch {
            settlingAfterChange = null;
          }
        }
        try {
          await queues.updateQueue(name, { partitions: command.partitions });
          expect(settlingAfterChange, `${where}: a change past the settling counts kept is refused`).not.toBeNull();
          settling = settlingAfterChange!;
          // Lowered: no message the model knows is in a partition that is gone.
          for (const message of live()) if (message.partition !== null) expect(message.partition, where).toBeLessThan(command.partitions);
          if (config.fifo && command.partitions !== partitions) partitionTally.fifoResized++;
          if (command.partitions > partitions) partitionTally.raised++;
          if (command.partitions < partitions) partitionTally.lowered++;
          partitions = command.partitions;
        } catch (error) {
          expect(codeOf(error), where).toBe("PartitionsNotEmpty");
          if (config.fifo && settlingAfterChange === null) {
            partitionTally.settlingRefused++;
          } else {
            expect(command.partitions, where).toBeLessThan(partitions);
            // A FIFO partition also keeps the deduplication ids of the messages it took, and goes only once they expire.
            if (config.fifo) expect(messages.length, `${where}: refused only after messages were sent`).toBeGreaterThan(0);
            else expect(live().length, `${where}: refused only with messages in the queue`).toBeGreaterThan(0);
            partitionTally.lowerRefused++;
          }
        }
        break;
      }
      case "evict":
        await abortAllDurableObjects();
        partitionTally.evictions++;
        break;
    }
    await checkCounts(where);
  }

  // The end: every message still in the queue is received exactly once more, and the queue empties.
  for (const message of live()) {
    if (message.state === "received") {
      await queues.changeVisibility(name, message.handle!, 0);
      message.state = "waiting";
    }
  }
  for (let round = 0; live().length > 0; round++) {
    expect(round, "the queue drains").toBeLessThan(200);
    const got = await receive(16, "drain");
    await queues.deleteMessages(name, got.map((message) => message.receiptHandle));
    for (const message of got) messages.find((m) => m.id === message.id)!.state = "gone";
  }
  await checkCounts("the end");
  await queues.deleteQueue(name);
}
