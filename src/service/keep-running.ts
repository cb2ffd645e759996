import { waitUntil } from "cloudflare:workers";

/** Lets `work` finish after the request that started it ends (its client went away). */
export function keepRunning(work: Promise<unknown>): void {
  try {
    waitUntil(work);
  } catch {
    // Outside a request (a test calling the service directly) there is nothing to extend.
  }
}
