import { authorize, can } from "../auth/authenticate";
import { ErrorCode, ServiceError, unwrap } from "../errors";
import { AccountLimits, type Action } from "../schema/account";
import type { CatalogEntry } from "../objects/catalog-object";
import { serviceBinding } from "../delivery/service-binding";
import { objectKeyPrefix, topicObject } from "../objects/keys";
import { defaultSubscriptionAttributes, defaultTopicAttributes } from "../objects/topic/attributes";
import { QueueName } from "../schema/queue";
import { parse } from "../schema/parse";
import {
  SubscriptionName,
  TopicLimits,
  TopicName,
  type CreateSubscriptionBody,
  type CreateTopicBody,
  type PublishedMessage,
  type SubscriptionAttributes,
  type SubscriptionInfo,
  type TopicAttributes,
  type TopicInfo,
  type UpdateSubscriptionBody,
  type UpdateTopicBody,
} from "../schema/topic";
import { matchesFilter, pageOf, type ListQuery } from "./listing";
import { senderIdOf, type Scope } from "./queues";
import { quota, withinQuota } from "./quotas";

export interface TopicList {
  topics: Array<{ name: string; createdAt: number; modifiedAt: number } & TopicAttributes>;
  nextCursor: string | null;
  total: number;
}

export interface SubscriptionList {
  subscriptions: SubscriptionInfo[];
  nextCursor: string | null;
  total: number;
}

/** Topic operations every interface shares; publishing goes straight to the topic's object. */
export class TopicOperations {
  private readonly objectKeyPrefix: string;

  constructor(
    private readonly env: Env,
    private readonly scope: Scope,
  ) {
    this.objectKeyPrefix = objectKeyPrefix(scope.account, scope.region);
  }

  /** The topic's object, once the name is valid and the principal may do `action` on it. */
  private topic(name: string, action: Action) {
    parse(TopicName, name, "topic name");
    authorize(this.scope.principal, action, `topic:${name}`);
    return topicObject(this.env, this.objectKeyPrefix, name);
  }

  private catalog() {
    return this.env.CATALOG.get(this.env.CATALOG.idFromName(this.scope.account));
  }

  private async index(topic: TopicInfo): Promise<void> {
    const { name, createdAt, modifiedAt, maxMsgSize, msgRetentionSeconds, filterType } = topic;
    await this.catalog().put("topic", this.scope.region, {
      name,
      createdAt,
      modifiedAt,
      attributes: { maxMsgSize, msgRetentionSeconds, filterType },
    });
  }

  async createTopic(name: string, input: CreateTopicBody): Promise<{ created: boolean; topic: TopicInfo }> {
    parse(TopicName, name, "topic name");
    authorize(this.scope.principal, "manage", `topic:${name}`);
    const limit = quota(this.env.MAX_TOPICS_PER_ACCOUNT, AccountLimits.topicsPerAccount);
    const attributes = defaultTopicAttributes(input);
    return withinQuota(this.catalog(), "topic", this.scope.region, name, limit, async () => {
      const result = unwrap(await this.topic(name, "manage").create(name, this.scope.account, this.objectKeyPrefix, attributes));
      await this.index(result.topic);
      return result;
    });
  }

  async getTopic(name: string): Promise<TopicInfo> {
    return unwrap(await this.topic(name, "read").getInfo());
  }

  async updateTopic(name: string, patch: UpdateTopicBody): Promise<TopicInfo> {
    const topic = unwrap(await this.topic(name, "manage").updateAttributes(patch));
    await this.index(topic);
    return topic;
  }

  async deleteTopic(name: string): Promise<void> {
    parse(TopicName, name, "topic name");
    const { existed } = unwrap(await this.topic(name, "manage").destroy());
    const indexed = await this.catalog().remove("topic", this.scope.region, name);
    if (!existed && !indexed) throw new ServiceError(ErrorCode.TopicNotFound, `topic ${name} does not exist`);
  }

  async listTopics(query: ListQuery): Promise<TopicList> {
    const catalog = this.catalog();
    const readable = (await catalog.names("topic", this.scope.region, { prefix: query.prefix, search: query.search })).filter(
      (name) => can(this.scope.principal, "read", `topic:${name}`),
    );
    const page = pageOf(readable, (name) => name, query);
    const entries = (await catalog.entries("topic", this.scope.region, page.items)) as CatalogEntry<TopicAttributes>[];
    return {
      topics: entries.map((topic) => ({
        name: topic.name,
        ...topic.attributes,
        createdAt: topic.createdAt,
        modifiedAt: topic.modifiedAt,
      })),
      nextCursor: page.nextCursor,
      total: page.total,
    };
  }

  async publish(name: string, messages: PublishedMessage[]): Promise<string[]> {
    return unwrap(await this.topic(name, "publish").publish(messages, senderIdOf(this.scope.principal))).ids;
  }

  /**
   * Checks an endpoint against its protocol: a queue of this account and region, an http(s) URL of
   * the same scheme without blanks (CMQ 10570), or a service binding configured on this Worker.
   */
  private async checkEndpoint(protocol: SubscriptionAttributes["protocol"], endpoint: string): Promise<void> {
    if (protocol === "queue") {
      parse(QueueName, endpoint, "endpoint");
      // Deliveries are sends into the queue: the principal must be allowed that.
      authorize(this.scope.principal, "send", `queue:${endpoint}`);
      const queue = await this.catalog().get("queue", this.scope.region, endpoint);
      if (!queue) throw new ServiceError(ErrorCode.QueueNotFound, `queue ${endpoint} does not exist`);
      return;
    }
    if (protocol === "worker") {
      if (!serviceBinding(this.env, endpoint)) {
        throw new ServiceError(
          ErrorCode.InvalidParameter,
          `endpoint: no service binding named ${endpoint} is configured on this Worker`,
        );
      }
      return;
    }
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new ServiceError(ErrorCode.InvalidParameter, `endpoint: ${endpoint} is not a URL`);
    }
    if (/\s/.test(endpoint) || url.protocol !== `${protocol}:`) {
      throw new ServiceError(
        ErrorCode.InvalidParameter,
        `endpoint: a ${protocol} subscription needs a ${protocol}:// URL without blanks`,
      );
    }
  }

  async subscribe(
    topicName: string,
    name: string,
    input: CreateSubscriptionBody,
  ): Promise<{ created: boolean; subscription: SubscriptionInfo }> {
    parse(TopicName, topicName, "topic name");
    parse(SubscriptionName, name, "subscription name");
    authorize(this.scope.principal, "manage", `topic:${topicName}`);
    const attributes = defaultSubscriptionAttributes(input);
    await this.checkEndpoint(input.protocol, input.endpoint);
    return unwrap(await this.topic(topicName, "manage").subscribe(name, attributes));
  }

  async getSubscription(topicName: string, name: string): Promise<SubscriptionInfo> {
    parse(SubscriptionName, name, "subscription name");
    return unwrap(await this.topic(topicName, "read").getSubscription(name));
  }

  /** A topic's subscriptions, filtered and paged as queues and topics are (a topic holds at most 100). */
  async listSubscriptions(topicName: string, query: ListQuery = { limit: TopicLimits.subscriptionsPerTopic }): Promise<SubscriptionList> {
    const all = unwrap(await this.topic(topicName, "read").listSubscriptions());
    const matching = all
      .filter((subscription) => matchesFilter(subscription.name, query))
      .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : 0));
    const page = pageOf(matching, (subscription) => subscription.name, query);
    return { subscriptions: page.items, nextCursor: page.nextCursor, total: page.total };
  }

  async updateSubscription(topicName: string, name: string, patch: UpdateSubscriptionBody): Promise<SubscriptionInfo> {
    parse(SubscriptionName, name, "subscription name");
    return unwrap(await this.topic(topicName, "manage").updateSubscription(name, patch));
  }

  async unsubscribe(topicName: string, name: string): Promise<void> {
    parse(SubscriptionName, name, "subscription name");
    unwrap(await this.topic(topicName, "manage").unsubscribe(name));
  }
}
