import { parseOneOrBatch } from "../schema/parse";
import {
  CreateSubscriptionBody,
  CreateTopicBody,
  PublishBatchBody,
  PublishBody,
  PublishedMessage,
  UpdateSubscriptionBody,
  UpdateTopicBody,
} from "../schema/topic";
import { ListQueuesQuery } from "../schema/queue";
import type { HandlerOutput, RouteSpec } from "./rest";

const ok = (body: unknown): HandlerOutput => ({ status: 200, body });

/** The topic model's REST routes, in the same table shape as the queue routes. */
export const topicRoutes: RouteSpec[] = [
  {
    method: "GET",
    path: "/v1/topics",
    operationId: "listTopics",
    summary: "List topics by name, with a prefix filter and cursor pagination",
    query: ListQueuesQuery,
    responses: { 200: "`{topics: [...], nextCursor}`" },
    handle: async ({ topics, query }) => ok(await topics.listTopics(query)),
  },
  {
    method: "PUT",
    path: "/v1/topics/:name",
    operationId: "createTopic",
    summary: "Create a topic (201), or confirm an identical one (200); different attributes are a conflict (409)",
    body: CreateTopicBody,
    bodyOptional: true,
    responses: { 200: "identical topic exists", 201: "topic created", 409: "TopicAlreadyExists" },
    handle: async ({ topics, params, body }) => {
      const { created, topic } = await topics.createTopic(params.name!, body);
      return { status: created ? 201 : 200, body: topic };
    },
  },
  {
    method: "GET",
    path: "/v1/topics/:name",
    operationId: "getTopic",
    summary: "A topic's attributes, subscription count and stored message count",
    responses: { 200: "the topic", 404: "TopicNotFound" },
    handle: async ({ topics, params }) => ok(await topics.getTopic(params.name!)),
  },
  {
    method: "PATCH",
    path: "/v1/topics/:name",
    operationId: "updateTopic",
    summary: "Change maxMsgSize or msgRetentionSeconds (filterType is fixed at creation)",
    body: UpdateTopicBody,
    responses: { 200: "the topic after the change" },
    handle: async ({ topics, params, body }) => ok(await topics.updateTopic(params.name!, body)),
  },
  {
    method: "DELETE",
    path: "/v1/topics/:name",
    operationId: "deleteTopic",
    summary: "Delete a topic, its subscriptions and their pending deliveries",
    responses: { 204: "deleted", 404: "TopicNotFound" },
    handle: async ({ topics, params }) => {
      await topics.deleteTopic(params.name!);
      return { status: 204 };
    },
  },
  {
    method: "POST",
    path: "/v1/topics/:name/messages",
    operationId: "publishMessages",
    summary:
      "Publish one message (`{body, tags, routingKey}` → `{id}`) or a batch (`{messages: [...]}` → `{messages: [{id}]}`); answers once stored",
    body: PublishBody,
    parseBody: (input) => parseOneOrBatch(PublishedMessage, PublishBatchBody, input),
    responses: { 200: "message ids", 413: "MessageTooLarge or BatchTooLarge" },
    handle: async ({ topics, params, body }) => {
      const ids = await topics.publish(params.name!, body.messages);
      return ok(body.batch ? { messages: ids.map((id) => ({ id })) } : { id: ids[0] });
    },
  },
  {
    method: "GET",
    path: "/v1/topics/:name/subscriptions",
    operationId: "listSubscriptions",
    summary: "A topic's subscriptions with their delivery stats",
    responses: { 200: "`{subscriptions: [...]}`" },
    handle: async ({ topics, params }) => ok({ subscriptions: await topics.listSubscriptions(params.name!) }),
  },
  {
    method: "PUT",
    path: "/v1/topics/:name/subscriptions/:subscription",
    operationId: "subscribe",
    summary: "Subscribe a queue, an http(s) endpoint or a bound Worker (201; 200 identical; 409 different)",
    body: CreateSubscriptionBody,
    responses: { 200: "identical subscription exists", 201: "subscription created", 409: "SubscriptionAlreadyExists" },
    handle: async ({ topics, params, body }) => {
      const { created, subscription } = await topics.subscribe(params.name!, params.subscription!, body);
      return { status: created ? 201 : 200, body: subscription };
    },
  },
  {
    method: "GET",
    path: "/v1/topics/:name/subscriptions/:subscription",
    operationId: "getSubscription",
    summary: "A subscription's attributes and stats (delivered, failed, pending, lastError, lastErrorAt)",
    responses: { 200: "the subscription", 404: "SubscriptionNotFound" },
    handle: async ({ topics, params }) => ok(await topics.getSubscription(params.name!, params.subscription!)),
  },
  {
    method: "PATCH",
    path: "/v1/topics/:name/subscriptions/:subscription",
    operationId: "updateSubscription",
    summary: "Change filters, notify strategy, content format or signing secret",
    body: UpdateSubscriptionBody,
    responses: { 200: "the subscription after the change" },
    handle: async ({ topics, params, body }) =>
      ok(await topics.updateSubscription(params.name!, params.subscription!, body)),
  },
  {
    method: "DELETE",
    path: "/v1/topics/:name/subscriptions/:subscription",
    operationId: "unsubscribe",
    summary: "Remove a subscription; its pending deliveries stop",
    responses: { 204: "removed", 404: "SubscriptionNotFound" },
    handle: async ({ topics, params }) => {
      await topics.unsubscribe(params.name!, params.subscription!);
      return { status: 204 };
    },
  },
];
