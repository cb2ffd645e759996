declare namespace Cloudflare {
  interface Env {
    /** The service's own RPC entrypoint, bound as another Worker would bind it (vitest.config.ts). */
    CMQ: Service<import("../../src/api/rpc").QueueService>;
  }
}
