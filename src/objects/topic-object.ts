import { systemClock, type Clock } from "../clock";
import { DurableObject } from "cloudflare:workers";
import { ok, toResult, type Result } from "../errors";
import type {
  PublishedMessage,
  SubscriptionAttributes,
  SubscriptionInfo,
  TopicInfo,
  TopicAttributes,
  UpdateSubscriptionBody,
  UpdateTopicBody,
} from "../schema/topic";
import { PushConcurrency, deliverToQueue, pushDelivery, runLimited } from "./topic/delivery";
import { topicEffects, type TopicEffects, type TopicOutcome } from "./topic/effects";
import { TopicEngine } from "./topic/engine";
import { LiveTopicSockets } from "./topic/live";
import type { DueDelivery, Subscription } from "./topic/storage";
import { AlarmScheduler } from "./scheduler";

export { DeliveryWatchdogMs } from "./topic/delivery";

type RecordOutcome = (sub: Subscription, row: DueDelivery, error: string | null) => void;

/** How long the alarm handler waits for its delivery round before leaving it to run on. */
const AlarmHoldMs = 1_000;

/**
 * One topic: its subscriptions, its own copy of each message for the retention period, and an
 * outbox row per (message, matching subscription). Publishing writes the message and its outbox
 * rows in one transaction and answers; deliveries run afterwards from the outbox, retried per the
 * subscription's strategy, driven by the alarm. Engine operations answer with their effects,
 * applied in one place (`apply`).
 */
export class TopicObject extends DurableObject<Env> {
  /** Where every method reads its `nowMs`; tests replace it through runInDurableObject. */
  clock: Clock = systemClock;
  readonly engine: TopicEngine;
  /** Bumped when the topic is deleted: outcomes of pushes begun before then are dropped. */
  private epoch = 0;
  /** Owns the alarm: deliveries, the lease watchdog and retention report their next deadline. */
  private readonly scheduler: AlarmScheduler;
  private delivering: Promise<void> | null = null;
  private deliverAgain = false;
  /** Live views: sockets held with the WebSocket Hibernation API, pushed to on publish. */
  private readonly live: LiveTopicSockets;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.engine = new TopicEngine(ctx.storage);
    this.scheduler = new AlarmScheduler(ctx.storage, [(nowMs) => this.engine.nextDeadline(nowMs)]);
    this.live = new LiveTopicSockets(ctx, { nowMs: () => this.clock.nowMs() });
    void ctx.blockConcurrencyWhile(async () => {
      await this.scheduler.load();
      this.apply(this.engine.releaseLeases().effects, this.clock.nowMs());
    });
  }

  /** Runs an engine operation and applies its effects; a refused operation has none. */
  private run<T>(nowMs: number, operation: () => TopicOutcome<T>): Result<T> {
    const result = toResult(operation);
    if (!result.ok) return result;
    this.apply(result.value.effects, nowMs);
    return ok(result.value.value);
  }

  /**
   * The one place effects take hold: deadlines and rescans go to the scheduler, which owns the
   * alarm; due deliveries start a background round, after the alarm covers them.
   */
  private apply(changes: TopicEffects, nowMs: number): void {
    for (const deadlineMs of changes.deadlines) this.scheduler.arm(deadlineMs);
    if (changes.rescan) this.scheduler.reschedule(nowMs);
    if (changes.deliverNow) this.startDelivery();
  }

  async create(
    name: string,
    account: string,
    objectKeyPrefix: string,
    attributes: TopicAttributes,
  ): Promise<Result<{ created: boolean; topic: TopicInfo }>> {
    const nowMs = this.clock.nowMs();
    return toResult(() => this.engine.create(name, account, objectKeyPrefix, attributes, nowMs));
  }

  async getInfo(): Promise<Result<TopicInfo>> {
    return toResult(() => this.engine.info());
  }

  async updateAttributes(patch: UpdateTopicBody): Promise<Result<TopicInfo>> {
    const nowMs = this.clock.nowMs();
    return this.run(nowMs, () => this.engine.updateAttributes(patch, nowMs));
  }

  /** Deletes the topic, its subscriptions and their pending deliveries. */
  async destroy(): Promise<Result<{ existed: boolean }>> {
    const existed = this.engine.meta !== null;
    this.live.closeAll("topic was deleted");
    this.engine.forget();
    this.epoch++;
    await this.scheduler.clear();
    // deleteAll() also drops the tables of a SQLite-backed object: recreate them.
    await this.ctx.storage.deleteAll();
    this.engine.migrate();
    return ok({ existed });
  }

  async subscribe(name: string, attributes: SubscriptionAttributes): Promise<Result<{ created: boolean; subscription: SubscriptionInfo }>> {
    const nowMs = this.clock.nowMs();
    return this.run(nowMs, () => this.engine.subscribe(name, attributes, nowMs));
  }

  async getSubscription(name: string): Promise<Result<SubscriptionInfo>> {
    return toResult(() => this.engine.subscription(name));
  }

  async listSubscriptions(): Promise<Result<SubscriptionInfo[]>> {
    return toResult(() => this.engine.listSubscriptions());
  }

  async updateSubscription(name: string, patch: UpdateSubscriptionBody): Promise<Result<SubscriptionInfo>> {
    const nowMs = this.clock.nowMs();
    return this.run(nowMs, () => this.engine.updateSubscription(name, patch, nowMs));
  }

  /** Removes a subscription and stops its pending deliveries. */
  async unsubscribe(name: string): Promise<Result<void>> {
    const nowMs = this.clock.nowMs();
    return this.run(nowMs, () => this.engine.unsubscribe(name));
  }

  /** Stores messages and one outbox row per matching subscription in one transaction, then answers. */
  /** Stores messages published by `senderId`, which queue subscriptions pass on; null when not known. */
  async publish(messages: PublishedMessage[], senderId: string | null = null): Promise<Result<{ ids: string[] }>> {
    const nowMs = this.clock.nowMs();
    const result = this.run(nowMs, () => this.engine.publish(messages, nowMs, senderId));
    if (result.ok && this.engine.meta) this.live.publish(this.engine.meta, messages, result.value.ids, senderId);
    return result;
  }

  /** `GET /v1/topics/{name}/live`, forwarded by the service once the caller is authorised. */
  override async fetch(request: Request): Promise<Response> {
    return this.live.accept(request, this.engine.meta);
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.live.message(ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.live.closed(ws, code);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.live.closed(ws);
  }

  override async alarm(): Promise<void> {
    this.scheduler.fired();
    // workerd runs one alarm at a time: a round held up to 15 s by a slow endpoint must not hold
    // back the retries of other deliveries, which each failed attempt arms the alarm for. So the
    // handler waits for a quick round (its errors retry the alarm) and leaves a slow one running;
    // a round cut short by an eviction is covered by its leases.
    const round = this.runDue(this.clock.nowMs());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const slow = new Promise<"slow">((resolve) => {
      timer = setTimeout(() => resolve("slow"), AlarmHoldMs);
    });
    const outcome = await Promise.race([round.then(() => "done" as const, (error: unknown) => ({ error })), slow]);
    clearTimeout(timer!);
    if (typeof outcome === "object") throw outcome.error;
    if (outcome === "slow") {
      round.catch((error: unknown) => {
        console.error("topic delivery round failed", error);
        // The fired alarm is spent and the round did not re-arm it.
        this.apply(topicEffects({ rescan: true }), this.clock.nowMs());
      });
    }
  }

  /** Attempts every delivery due at `nowMs`, drops what retention ended, and re-arms the alarm. */
  async runDue(nowMs: number): Promise<void> {
    if (!this.engine.meta) return;
    await this.deliverDue(nowMs);
    const purged = this.engine.meta ? this.engine.purgeExpired(nowMs).effects : topicEffects();
    // The alarm that led here is spent: only a full scan finds the next deadline.
    this.apply({ ...purged, rescan: true }, this.clock.nowMs());
  }

  /** Delivers in the background after a publish; the alarm is the fallback if the object stops. */
  private startDelivery(): void {
    if (this.delivering) {
      this.deliverAgain = true;
      return;
    }
    this.delivering = (async () => {
      try {
        do {
          this.deliverAgain = false;
          await this.deliverDue(this.clock.nowMs());
        } while (this.deliverAgain);
      } catch (error) {
        console.error("topic delivery round failed", error);
      } finally {
        this.delivering = null;
        // The round's leases are gone: the watchdog it armed no longer applies.
        this.apply(topicEffects({ rescan: true }), this.clock.nowMs());
      }
    })();
  }

  private async deliverDue(nowMs: number): Promise<void> {
    const meta = this.engine.meta;
    if (!meta) return;
    // Leased before any await, so a concurrent round does not attempt them too.
    const taken = this.engine.takeDue(nowMs);
    this.apply(taken.effects, this.clock.nowMs());
    const due = taken.value;
    if (due.length === 0) return;

    const bySubscription = new Map<number, DueDelivery[]>();
    for (const row of due) {
      const rows = bySubscription.get(row.subscription_id) ?? [];
      rows.push(row);
      bySubscription.set(row.subscription_id, rows);
    }
    // Outcomes are timed on the round's clock (`nowMs` plus the time the attempt took), so a round
    // run for a later moment schedules its retries from that moment.
    const startedAtMs = this.clock.nowMs();
    const epoch = this.epoch;
    // A topic deleted and created again meanwhile reuses ids: a late outcome must not touch it.
    const record: RecordOutcome = (sub, row, error) => {
      if (this.epoch !== epoch || !this.engine.meta || !this.engine.subscriptions.has(sub.id)) return;
      const attempt = this.engine.recordAttempt(sub, row, error, nowMs + (this.clock.nowMs() - startedAtMs));
      this.apply(attempt.effects, this.clock.nowMs());
    };
    const pushes: Array<() => Promise<void>> = [];
    const queueDeliveries: Promise<void>[] = [];
    for (const [subscriptionId, rows] of bySubscription) {
      const sub = this.engine.subscriptions.get(subscriptionId);
      if (!sub) continue;
      if (sub.attributes.protocol === "queue") {
        queueDeliveries.push(
          deliverToQueue(this.env, this.ctx.storage, meta, sub, rows, this.clock, () => this.epoch === epoch && this.engine.subscriptions.has(sub.id)).then((outcomes) => {
            for (const { rows: delivered, error } of outcomes) for (const row of delivered) record(sub, row, error);
          }),
        );
      } else {
        for (const row of rows) pushes.push(async () => record(sub, row, await pushDelivery(this.env, meta, sub, row, this.clock)));
      }
    }
    await Promise.all([...queueDeliveries, runLimited(pushes, PushConcurrency)]);
  }
}
