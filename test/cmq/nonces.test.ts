import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock";

/** The nonce store of signed CMQ requests: one row per (SecretId, nonce) until it expires, pruned. */
const registry = () => env.ACCOUNTS.get(env.ACCOUNTS.idFromName("registry"));

describe("the account registry's nonce store", () => {
  it("takes a nonce once per SecretId until it expires, and drops expired ones", async () => {
    await runInDurableObject(registry(), async (object, state) => {
      const clock = new ManualClock(1_000_000);
      object.clock = clock;
      const rows = () => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM nonces WHERE secret_id LIKE 'AKIDnonce%'").one().n;

      const first = await object.claimNonce("AKIDnonce1", "100.42", 1_300_000);
      const replay = await object.claimNonce("AKIDnonce1", "100.42", 1_300_000);
      const otherKey = await object.claimNonce("AKIDnonce2", "100.42", 1_300_000);
      const kept = rows();
      clock.advance(300_000);
      const afterExpiry = await object.claimNonce("AKIDnonce1", "100.42", 1_600_000);
      const left = rows();

      expect([first, replay, otherKey]).toEqual([true, false, true]);
      expect(kept).toBe(2);
      expect(afterExpiry).toBe(true);
      expect(left).toBe(1);
    });
  });
});
