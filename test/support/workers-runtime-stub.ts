/**
 * What node-side tests need of `cloudflare:workers` to import modules that mention it: the base
 * classes, empty. Nothing that runs in these tests calls them.
 */
export class DurableObject {}
export class RpcTarget {}
export class WorkerEntrypoint {}
export const env = {};
export function waitUntil(_promise: Promise<unknown>): void {}
