import { CreateAccountBody, CreateKeyBody, CreateTokenBody, UpdateAccountBody, UpdateKeyBody } from "../schema/account";
import type { HandlerOutput, RouteSpec } from "./rest";

const ok = (body: unknown): HandlerOutput => ({ status: 200, body });

/** Accounts, keys and browser tokens. */
export const accountRoutes: RouteSpec[] = [
  {
    method: "POST",
    path: "/v1/accounts",
    operationId: "createAccount",
    summary: "Create an account (root credentials only)",
    body: CreateAccountBody,
    responses: { 201: "`{id, name, createdAt, allowedOrigins}`", 403: "Forbidden", 409: "AccountAlreadyExists" },
    handle: async ({ accounts, body }) => ({ status: 201, body: await accounts.createAccount(body.name) }),
  },
  {
    method: "GET",
    path: "/v1/accounts",
    operationId: "listAccounts",
    summary: "List accounts (root credentials only)",
    responses: { 200: "`{accounts: [...]}`" },
    handle: async ({ accounts }) => ok({ accounts: await accounts.listAccounts() }),
  },
  {
    method: "GET",
    path: "/v1/accounts/:account",
    operationId: "getAccount",
    summary: "An account",
    responses: { 200: "the account", 404: "AccountNotFound" },
    handle: async ({ accounts, params }) => ok(await accounts.getAccount(params.account!)),
  },
  {
    method: "PATCH",
    path: "/v1/accounts/:account",
    operationId: "updateAccount",
    summary: "Set the origins whose pages may read the account's responses (null: any origin)",
    body: UpdateAccountBody,
    responses: { 200: "the account" },
    handle: async ({ accounts, params, body }) => ok(await accounts.setAllowedOrigins(params.account!, body.allowedOrigins)),
  },
  {
    method: "POST",
    path: "/v1/accounts/:account/keys",
    operationId: "createKey",
    summary: "Create a key with a policy; the answer is the only time its secretKey is shown",
    body: CreateKeyBody,
    responses: { 201: "`{secretId, secretKey, policy, createdAt, ...}`" },
    handle: async ({ accounts, params, body }) => ({ status: 201, body: await accounts.createKey(params.account!, body.policy) }),
  },
  {
    method: "GET",
    path: "/v1/accounts/:account/keys",
    operationId: "listKeys",
    summary: "List an account's keys, without their secrets",
    responses: { 200: "`{keys: [...]}`" },
    handle: async ({ accounts, params }) => ok({ keys: await accounts.listKeys(params.account!) }),
  },
  {
    method: "PATCH",
    path: "/v1/accounts/:account/keys/:secretId",
    operationId: "updateKey",
    summary: "Disable or enable a key, or replace its policy",
    body: UpdateKeyBody,
    responses: { 200: "the key", 404: "KeyNotFound" },
    handle: async ({ accounts, params, body }) => ok(await accounts.updateKey(params.account!, params.secretId!, body)),
  },
  {
    method: "POST",
    path: "/v1/accounts/:account/keys/:secretId/rotate",
    operationId: "rotateKey",
    summary: "Give a key a new secretKey; the old one stops working at once",
    responses: { 200: "`{secretId, secretKey, ...}`", 404: "KeyNotFound" },
    handle: async ({ accounts, params }) => ok(await accounts.rotateKey(params.account!, params.secretId!)),
  },
  {
    method: "DELETE",
    path: "/v1/accounts/:account/keys/:secretId",
    operationId: "deleteKey",
    summary: "Delete a key; its secret and the tokens it minted stop working",
    responses: { 204: "deleted", 404: "KeyNotFound" },
    handle: async ({ accounts, params }) => {
      await accounts.deleteKey(params.account!, params.secretId!);
      return { status: 204 };
    },
  },
  {
    method: "POST",
    path: "/v1/tokens",
    operationId: "createToken",
    summary: "Mint a short-lived token for `actions` on `resources` (at most the caller's rights, at most 24 h)",
    body: CreateTokenBody,
    responses: { 201: "`{token, expiresAt}`", 403: "Forbidden" },
    handle: async ({ accounts, body }) => ({ status: 201, body: await accounts.mintToken(body) }),
  },
];
