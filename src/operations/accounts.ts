import * as v from "valibot";
import { AccountLimits, CreateAccountBody, CreateKeyBody, CreateTokenBody, UpdateAccountBody, UpdateKeyBody } from "../schema/account";
import { QueueLimits } from "../schema/queue";
import { AccountListResult, AccountResult, HealthResult, KeyListResult, KeyResult, NewKeyResult, TokenResult, WhoAmIResult } from "../schema/results";
import { operation } from "./operation";
import { ListOptions } from "./shared";

const account = { account: v.pipe(v.string(), v.maxLength(64)) };
const key = { ...account, secretId: v.pipe(v.string(), v.maxLength(64)) };

/** Listing options whose page holds the whole list unless a smaller `limit` is asked for. */
const wholeListOptions = (description: string, defaultLimit: number) => ({
  ...ListOptions.entries,
  prefix: v.optional(v.pipe(ListOptions.entries.prefix.wrapped, v.description(`${description} starting with this (case-insensitive)`))),
  search: v.optional(v.pipe(ListOptions.entries.search.wrapped, v.description(`${description} containing this anywhere (case-insensitive)`))),
  limit: v.optional(ListOptions.entries.limit.wrapped, defaultLimit),
});

export const accountOperations = {
  createAccount: operation({
    group: "accounts",
    summary: "Create an account",
    input: CreateAccountBody,
    output: AccountResult,
    access: { kind: "root" },
    errors: ["AccountAlreadyExists"],
    run: ({ accounts }, input) => accounts.createAccount(input.name),
  }),
  listAccounts: operation({
    group: "accounts",
    summary: "List accounts by name, with name filters and pagination",
    input: v.strictObject(wholeListOptions("names", QueueLimits.listMax)),
    output: AccountListResult,
    access: { kind: "root" },
    errors: [],
    run: async ({ accounts }, input) => {
      const page = await accounts.listAccounts(input);
      return { accounts: page.items, nextCursor: page.nextCursor, total: page.total };
    },
  }),
  getAccount: operation({
    group: "accounts",
    summary: "An account",
    input: v.strictObject(account),
    output: AccountResult,
    access: { kind: "accountAdmin" },
    errors: ["AccountNotFound"],
    run: ({ accounts }, input) => accounts.getAccount(input.account),
  }),
  updateAccount: operation({
    group: "accounts",
    summary: "Set the origins whose pages may read the account's answers (null: any origin)",
    input: v.strictObject({ ...account, ...UpdateAccountBody.entries }),
    output: AccountResult,
    access: { kind: "accountAdmin" },
    errors: ["AccountNotFound"],
    run: ({ accounts }, input) => accounts.setAllowedOrigins(input.account, input.allowedOrigins),
  }),

  createKey: operation({
    group: "keys",
    summary: "Create a key with a policy; the answer is the only time its secretKey is shown",
    input: v.strictObject({ ...account, ...CreateKeyBody.entries }),
    output: NewKeyResult,
    access: { kind: "accountAdmin" },
    errors: ["AccountNotFound", "QuotaExceeded"],
    run: ({ accounts }, input) => accounts.createKey(input.account, input.policy),
  }),
  listKeys: operation({
    group: "keys",
    summary: "List an account's keys by SecretId, without their secrets, with filters and pagination",
    input: v.strictObject({ ...account, ...wholeListOptions("SecretIds", AccountLimits.keysPerAccount) }),
    output: KeyListResult,
    access: { kind: "accountAdmin" },
    errors: ["AccountNotFound"],
    run: async ({ accounts }, { account: accountId, ...query }) => {
      const page = await accounts.listKeys(accountId, query);
      return { keys: page.items, nextCursor: page.nextCursor, total: page.total };
    },
  }),
  updateKey: operation({
    group: "keys",
    summary: "Disable or enable a key, or replace its policy",
    input: v.strictObject({ ...key, ...UpdateKeyBody.entries }),
    output: KeyResult,
    access: { kind: "accountAdmin" },
    errors: ["AccountNotFound", "KeyNotFound"],
    run: ({ accounts }, { account: accountId, secretId, ...change }) => accounts.updateKey(accountId, secretId, change),
  }),
  rotateKey: operation({
    group: "keys",
    summary: "Give a key a new secretKey; the old one stops working at once",
    input: v.strictObject(key),
    output: NewKeyResult,
    access: { kind: "accountAdmin" },
    errors: ["AccountNotFound", "KeyNotFound"],
    run: ({ accounts }, input) => accounts.rotateKey(input.account, input.secretId),
  }),
  deleteKey: operation({
    group: "keys",
    summary: "Delete a key; its secret and the tokens it minted stop working",
    input: v.strictObject(key),
    output: null,
    access: { kind: "accountAdmin" },
    errors: ["AccountNotFound", "KeyNotFound"],
    run: ({ accounts }, input) => accounts.deleteKey(input.account, input.secretId),
  }),

  createToken: operation({
    group: "tokens",
    summary: "Mint a short-lived token for `actions` on `resources`: at most the caller's rights, at most 24 h",
    input: v.strictObject({
      ...CreateTokenBody.entries,
      ttlSeconds: v.optional(CreateTokenBody.entries.ttlSeconds.wrapped, AccountLimits.tokenTtlSeconds.default),
    }),
    output: TokenResult,
    access: { kind: "authenticated" },
    errors: [],
    run: ({ accounts }, input) => accounts.mintToken(input),
  }),

  whoami: operation({
    group: "service",
    summary: "Who the credentials are: account, root or key (its SecretId and policy) or token (its scope and expiry)",
    input: v.strictObject({}),
    output: WhoAmIResult,
    access: { kind: "authenticated" },
    errors: [],
    run: async ({ accounts }) => accounts.whoami(),
  }),

  health: operation({
    group: "service",
    summary: "Whether the service answers; open to callers without credentials (load balancers), credentials sent are checked",
    input: v.strictObject({}),
    output: HealthResult,
    access: { kind: "public" },
    errors: [],
    run: async () => ({ status: "ok" as const }),
  }),
};
