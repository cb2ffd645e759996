import { CmqWire, CmqWireError } from "./errors";

/**
 * CMQ's `deadLetterPolicy`: a JSON string `{"deadLetterQueue", "policy", "maxReceiveCount"}`
 * (policy 0, after that many receives) or `{"deadLetterQueue", "policy": 1, "maxTimeToLive"}`
 * (after that many seconds). Translated to the service's `deadLetter`, whose schema checks the
 * ranges; the errors here are CMQ's for a policy it cannot read (CreateQueue, 10710 to 10770).
 */
export interface DeadLetterPolicyInput {
  queue: string;
  maxReceiveCount?: number;
  maxTimeToLive?: number;
}

/** JSON numbers, or decimal digits in a string, as SDKs build the policy either way. */
function integerField(value: unknown, name: string): number {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^\d{1,15}$/.test(value)) return Number(value);
  throw new CmqWireError(CmqWire.DeadLetterPolicyInvalid, `deadLetterPolicy.${name} must be an integer`);
}

export function deadLetterInput(text: string): DeadLetterPolicyInput {
  let policy: unknown;
  try {
    policy = JSON.parse(text);
  } catch {
    throw new CmqWireError(CmqWire.DeadLetterPolicyNotJson, "deadLetterPolicy must be a JSON string");
  }
  if (policy === null || typeof policy !== "object" || Array.isArray(policy)) {
    throw new CmqWireError(CmqWire.DeadLetterPolicyNotJson, "deadLetterPolicy must be a JSON object");
  }
  const fields = policy as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!["deadLetterQueue", "policy", "maxReceiveCount", "maxTimeToLive"].includes(key)) {
      throw new CmqWireError(CmqWire.DeadLetterPolicyInvalid, `deadLetterPolicy has no field ${key}`);
    }
  }
  if (typeof fields.deadLetterQueue !== "string" || fields.deadLetterQueue === "") {
    throw new CmqWireError(CmqWire.DeadLetterQueueMissing, "deadLetterPolicy.deadLetterQueue is missing");
  }
  const kind = fields.policy === undefined ? undefined : integerField(fields.policy, "policy");
  // Policy 0 is "received too often", 1 "lived too long" (CMQ's codes, not quantities).
  if (kind !== 0 && kind !== 1) throw new CmqWireError(CmqWire.DeadLetterPolicyKind, "deadLetterPolicy.policy must be 0 or 1");
  const needed = kind === 0 ? "maxReceiveCount" : "maxTimeToLive";
  const other = kind === 0 ? "maxTimeToLive" : "maxReceiveCount";
  if (fields[needed] === undefined) {
    throw new CmqWireError(CmqWire.DeadLetterPolicyInvalid, `deadLetterPolicy.${needed} is required with policy ${kind}`);
  }
  if (fields[other] !== undefined) {
    throw new CmqWireError(CmqWire.DeadLetterPolicyInvalid, `deadLetterPolicy.${other} does not go with policy ${kind}`);
  }
  return { queue: fields.deadLetterQueue, [needed]: integerField(fields[needed], needed) };
}

/** The service's `deadLetter` as CMQ's JSON string. */
export function deadLetterPolicyText(deadLetter: { queue: string; maxReceiveCount: number } | { queue: string; maxTimeToLive: number }): string {
  return JSON.stringify(
    "maxReceiveCount" in deadLetter
      ? { deadLetterQueue: deadLetter.queue, policy: 0, maxReceiveCount: deadLetter.maxReceiveCount }
      : { deadLetterQueue: deadLetter.queue, policy: 1, maxTimeToLive: deadLetter.maxTimeToLive },
  );
}
