declare namespace Cloudflare {
  interface Env {
    CONSUMER: Fetcher;
    /** test/support/queue-consumer-worker: a queue's consumer, steered by message bodies. */
    QUEUE_CONSUMER: Fetcher;
    SINK: Fetcher;
    AUDIT_WORKER: Fetcher;
  }
}
