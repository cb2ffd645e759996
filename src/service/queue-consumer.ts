import { authorize } from "../auth/authenticate";
import { serviceBinding } from "../delivery/service-binding";
import { ErrorCode, ServiceError, unwrap } from "../errors";
import { objectKeyPrefix, queueObject } from "../objects/keys";
import { QueueName } from "../schema/queue";
import type { ConsumerInfo, ConsumerSettings } from "../schema/queue-consumer";
import { parse } from "../schema/parse";
import type { Scope } from "./queues";

/**
 * A queue's consumer Worker. Setting one needs `manage` (it configures the queue) and `receive`
 * (the consumer takes and deletes its messages, as a receiver does); the binding must be a service
 * binding configured on this Worker, checked as a topic's `worker` subscription is. Reading needs
 * `read`; pausing, resuming and deleting need `manage`.
 */
export class QueueConsumerOperations {
  private readonly objectKeyPrefix: string;

  constructor(
    private readonly env: Env,
    private readonly scope: Scope,
  ) {
    this.objectKeyPrefix = objectKeyPrefix(scope.account, scope.region);
  }

  private queue(name: string, ...actions: Array<"manage" | "read" | "receive">) {
    parse(QueueName, name, "queue name");
    for (const action of actions) authorize(this.scope.principal, action, `queue:${name}`);
    return queueObject(this.env, this.objectKeyPrefix, name);
  }

  async setConsumer(name: string, settings: ConsumerSettings): Promise<{ created: boolean; consumer: ConsumerInfo }> {
    const queue = this.queue(name, "manage", "receive");
    if (!serviceBinding(this.env, settings.binding)) {
      throw new ServiceError(ErrorCode.InvalidParameter, `binding: no service binding named ${settings.binding} is configured on this Worker`);
    }
    return unwrap(await queue.setConsumer(settings));
  }

  async getConsumer(name: string): Promise<ConsumerInfo> {
    return unwrap(await this.queue(name, "read").getConsumer());
  }

  async deleteConsumer(name: string): Promise<void> {
    unwrap(await this.queue(name, "manage").deleteConsumer());
  }

  async pauseConsumer(name: string, paused: boolean): Promise<ConsumerInfo> {
    return unwrap(await this.queue(name, "manage").pauseConsumer(paused));
  }
}
