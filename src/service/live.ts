import { can, type Principal } from "../auth/authenticate";
import { ErrorCode, ServiceError } from "../errors";
import { LiveSettingsHeader } from "../objects/live";
import { objectKeyPrefix, queueObject, topicObject } from "../objects/keys";
import type { LiveGrant, LiveQueueOptions, LiveTopicOptions } from "../schema/live";
import { QueueName } from "../schema/queue";
import { TopicName } from "../schema/topic";
import { parse } from "../schema/parse";
import { senderIdOf, type Scope } from "./queues";

/**
 * Opens live sockets: the rights are checked here, by the same policy code as every request, once
 * at the upgrade; the queue's or topic's object then holds the socket and is told what it may do.
 */
export class LiveOperations {
  private readonly prefix: string;

  constructor(
    private readonly env: Env,
    private readonly scope: Scope,
  ) {
    this.prefix = objectKeyPrefix(scope.account, scope.region);
  }

  /** `receive` lets the socket consume, `send` lets it produce; one of them is needed. */
  async openQueue(name: string, options: LiveQueueOptions): Promise<Response> {
    parse(QueueName, name, "queue name");
    const { principal } = this.scope;
    const grant: LiveGrant = {
      canReceive: can(principal, "receive", `queue:${name}`),
      canSend: can(principal, "send", `queue:${name}`),
      senderId: senderIdOf(principal),
      expiresAt: expiryOf(principal),
    };
    if (!grant.canReceive && !grant.canSend) {
      throw new ServiceError(ErrorCode.Forbidden, `not allowed: receive or send on queue:${name}`);
    }
    return upgradeAt(queueObject(this.env, this.prefix, name), { grant, options });
  }

  /** A topic's stream is read with `receive` on the topic. */
  async openTopic(name: string, options: LiveTopicOptions): Promise<Response> {
    parse(TopicName, name, "topic name");
    if (!can(this.scope.principal, "receive", `topic:${name}`)) {
      throw new ServiceError(ErrorCode.Forbidden, `not allowed: receive on topic:${name}`);
    }
    return upgradeAt(topicObject(this.env, this.prefix, name), { expiresAt: expiryOf(this.scope.principal), options });
  }
}

function expiryOf(principal: Principal): number | null {
  return principal.token?.expiresAt ?? null;
}

/** Hands the upgrade to the object; a refusal comes back as its error, before any socket exists. */
async function upgradeAt(stub: { fetch(request: Request): Promise<Response> }, settings: object): Promise<Response> {
  const response = await stub.fetch(
    new Request("https://live.internal/", { headers: { upgrade: "websocket", [LiveSettingsHeader]: JSON.stringify(settings) } }),
  );
  if (response.status === 101 && response.webSocket) return response;
  const refusal = (await response.json().catch(() => null)) as { code?: ErrorCode; message?: string } | null;
  throw new ServiceError(refusal?.code ?? ErrorCode.InternalError, refusal?.message ?? "the socket could not be opened");
}
