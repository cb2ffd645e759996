declare namespace Cloudflare {
  interface Env {
    CONSUMER: Fetcher;
    SINK: Fetcher;
    AUDIT_WORKER: Fetcher;
  }
}
