declare namespace Cloudflare {
  interface Env {
    CONSUMER: Fetcher;
  }
}
