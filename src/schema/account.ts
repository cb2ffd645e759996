import * as v from "valibot";
import { QueueNamePattern } from "./queue";

/** What a key may do. `manage` covers creating, changing and deleting queues, topics, subscriptions and keys. */
export const Actions = ["manage", "read", "send", "receive", "publish"] as const;
export type Action = (typeof Actions)[number];

export const AccountLimits = {
  statementsPerPolicy: 20,
  entriesPerStatement: 50,
  resourceMaxLength: 140,
  tokenTtlSeconds: { min: 1, max: 86_400, default: 900 },
  queuesPerAccount: 1_000,
  topicsPerAccount: 1_000,
  keysPerAccount: 100,
  allowedOriginsMax: 20,
} as const;

/** `*`, `queue:<pattern>` or `topic:<pattern>`; in a pattern `*` matches any run of characters. */
export const ResourcePattern = v.pipe(
  v.string(),
  v.maxLength(AccountLimits.resourceMaxLength),
  v.regex(/^(\*|(queue|topic):[A-Za-z0-9_*-]{1,64})$/, "a resource is *, queue:<pattern> or topic:<pattern>"),
);

export const ActionName = v.union([v.picklist(Actions), v.literal("*")]);

export const PolicyStatement = v.strictObject({
  actions: v.pipe(v.array(ActionName), v.minLength(1), v.maxLength(AccountLimits.entriesPerStatement)),
  resources: v.pipe(v.array(ResourcePattern), v.minLength(1), v.maxLength(AccountLimits.entriesPerStatement)),
});

export const Policy = v.strictObject({
  statements: v.pipe(v.array(PolicyStatement), v.maxLength(AccountLimits.statementsPerPolicy)),
});
export type Policy = v.InferOutput<typeof Policy>;

export const AccountName = v.pipe(
  v.string(),
  v.regex(QueueNamePattern, "an account name is 1 to 64 letters, digits, '-' or '_', starting with a letter"),
);

export const CreateAccountBody = v.strictObject({ name: AccountName });

const Origin = v.pipe(v.string(), v.regex(/^https?:\/\/[^/\s]+$/, "an origin is scheme://host[:port]"));

export const UpdateAccountBody = v.strictObject({
  /** Origins whose pages may read this account's responses; null lets any origin read them. */
  allowedOrigins: v.nullable(v.pipe(v.array(Origin), v.maxLength(AccountLimits.allowedOriginsMax))),
});

export const CreateKeyBody = v.strictObject({ policy: Policy });
export const UpdateKeyBody = v.strictObject({
  disabled: v.optional(v.boolean()),
  policy: v.optional(Policy),
});

export const CreateTokenBody = v.strictObject({
  actions: v.pipe(v.array(v.picklist(Actions)), v.minLength(1), v.maxLength(Actions.length)),
  resources: v.pipe(v.array(ResourcePattern), v.minLength(1), v.maxLength(AccountLimits.entriesPerStatement)),
  ttlSeconds: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(AccountLimits.tokenTtlSeconds.min),
      v.maxValue(AccountLimits.tokenTtlSeconds.max),
    ),
  ),
});
export type CreateTokenBody = v.InferOutput<typeof CreateTokenBody>;

export interface AccountInfo {
  id: string;
  name: string;
  createdAt: number;
  allowedOrigins: string[] | null;
}

export interface KeyInfo {
  secretId: string;
  accountId: string;
  policy: Policy;
  disabled: boolean;
  createdAt: number;
  rotatedAt: number | null;
}
