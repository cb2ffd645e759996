import type { QueueObject } from "./queue-object";
import type { TopicObject } from "./topic-object";

/**
 * Where an account's queues and topics live in one region: every object key starts with it, so
 * one account's objects never share a name with another's.
 */
export function objectKeyPrefix(account: string, region: string): string {
  return `${account}/${region}/`;
}

/**
 * The name a queue's or topic's object is found by: `{account}/{region}/{name}`, lower case,
 * because names are unique without regard to case (CMQ 4460). The one place that derives it.
 */
export function objectKey(prefix: string, name: string): string {
  return prefix + name.toLowerCase();
}

export function queueObject(
  env: Env,
  prefix: string,
  name: string,
  locationHint?: DurableObjectLocationHint,
): DurableObjectStub<QueueObject> {
  const id = env.QUEUES.idFromName(objectKey(prefix, name));
  return locationHint ? env.QUEUES.get(id, { locationHint }) : env.QUEUES.get(id);
}

/**
 * The object of a queue's partition: partition 0 is the queue's own object; partition p > 0 is
 * `{account}/{region}/{name}#p`, a key no queue's name can have ('#' is not allowed in names).
 */
export function partitionObject(
  env: Env,
  prefix: string,
  name: string,
  partition: number,
  locationHint?: DurableObjectLocationHint,
): DurableObjectStub<QueueObject> {
  if (partition === 0) return queueObject(env, prefix, name, locationHint);
  const id = env.QUEUES.idFromName(`${objectKey(prefix, name)}#${partition}`);
  return locationHint ? env.QUEUES.get(id, { locationHint }) : env.QUEUES.get(id);
}

export function topicObject(env: Env, prefix: string, name: string): DurableObjectStub<TopicObject> {
  return env.TOPICS.get(env.TOPICS.idFromName(objectKey(prefix, name)));
}
