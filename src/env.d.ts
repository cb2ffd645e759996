declare namespace Cloudflare {
  interface Env {
    QUEUES: DurableObjectNamespace<import("./objects/queue-object").QueueObject>;
    TOPICS: DurableObjectNamespace<import("./objects/topic-object").TopicObject>;
    ACCOUNTS: DurableObjectNamespace<import("./objects/account-object").AccountObject>;
    CATALOG: DurableObjectNamespace<import("./objects/catalog-object").CatalogObject>;
    /** Root credentials; without both, every request is refused as not configured. */
    ROOT_SECRET_ID?: string;
    ROOT_SECRET_KEY?: string;
    /** Source of the keys that seal stored key secrets and sign tokens; the root key when unset. */
    SECRET_ENCRYPTION_KEY?: string;
    /** Per-account quotas (defaults 1,000 each). */
    MAX_QUEUES_PER_ACCOUNT?: string;
    MAX_TOPICS_PER_ACCOUNT?: string;
    /** The region this deployment serves; part of every queue's object name. */
    REGION?: string;
  }
}
interface Env extends Cloudflare.Env {}
