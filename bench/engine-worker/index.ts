// Benchmark-only Worker: measures, inside workerd and inside ONE Durable Object, the queue object's
// operations (send, receive, delete, each in batches) against raw SQLite inserts of the same bytes.
// Not part of the production Worker: it only imports the service's code.
//
// GET /run?messages=N&batch=100&bytes=1024&rounds=R&commit=1 → JSON with per-phase timings.
import { QueueObject } from "../../src/objects/queue-object";
import { defaultQueueAttributes } from "../../src/objects/queue/attributes";

export { QueueObject };

interface BenchEnv {
  ENGINE_BENCH: DurableObjectNamespace<EngineBench>;
}

interface BenchOptions {
  messages: number;
  batch: number;
  bytes: number;
  rounds: number;
  /** Await ctx.storage.sync() after every batch, so each batch is its own commit, as each RPC is. */
  commit: boolean;
}

interface Phase {
  name: string;
  messages: number;
  ms: number;
}

/**
 * A queue object with one more table (`bench_raw`) and one more method. The queue's operations go
 * through the object's own methods (the ones its RPC callers reach: send, receive, deleteMessages),
 * called in-process, so the figure is the object's and its engine's cost without the RPC hop.
 */
export class EngineBench extends QueueObject {
  /**
   * Workers freeze the clock while JavaScript runs and move it on at I/O; a zero timer is the
   * cheapest I/O boundary, so every reading is taken after one.
   */
  private async now(): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, 0));
    return Date.now();
  }

  private async barrier(commit: boolean): Promise<void> {
    if (commit) await this.ctx.storage.sync();
  }

  async runBench(options: BenchOptions): Promise<{ phases: Phase[]; clockCheckMs: number }> {
    const { messages, batch, bytes, rounds, commit } = options;
    const sql = this.ctx.storage.sql;
    const body = "x".repeat(bytes);
    sql.exec("CREATE TABLE IF NOT EXISTS bench_raw (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)");
    const created = await this.create("engine-bench", "bench/local/", defaultQueueAttributes({}));
    if (!created.ok) throw new Error(`create: ${created.error.code} ${created.error.message}`);

    // The clock really moves across the barrier: a busy wait of ~20 ms must read as ~20 ms.
    const c0 = await this.now();
    const spinUntil = performance.now() + 20;
    while (performance.now() < spinUntil) {
      /* busy */
    }
    const clockCheckMs = (await this.now()) - c0;

    const phases: Phase[] = [];
    const timed = async (name: string, run: () => Promise<number>) => {
      const start = await this.now();
      const count = await run();
      phases.push({ name, messages: count, ms: (await this.now()) - start });
    };
    const batches = Math.ceil(messages / batch);
    const outgoing = Array.from({ length: batch }, () => ({ body }));

    for (let round = 0; round < rounds; round++) {
      await timed("raw-insert", async () => {
        for (let b = 0; b < batches; b++) {
          this.ctx.storage.transactionSync(() => {
            for (let i = 0; i < batch; i++) sql.exec("INSERT INTO bench_raw (body) VALUES (?)", body);
          });
          await this.barrier(commit);
        }
        return batches * batch;
      });
      sql.exec("DELETE FROM bench_raw");
      await this.barrier(commit);

      await timed("send", async () => {
        for (let b = 0; b < batches; b++) {
          const result = await this.send(outgoing);
          if (!result.ok) throw new Error(`send: ${result.error.code} ${result.error.message}`);
          await this.barrier(commit);
        }
        return batches * batch;
      });

      const handles: string[][] = [];
      await timed("receive", async () => {
        let received = 0;
        for (let b = 0; b < batches; b++) {
          const result = await this.receive({ max: batch, waitSeconds: 0, visibilityTimeout: 600 });
          if (!result.ok) throw new Error(`receive: ${result.error.code} ${result.error.message}`);
          received += result.value.length;
          handles.push(result.value.map((message) => message.receiptHandle));
          await this.barrier(commit);
        }
        return received;
      });

      await timed("delete", async () => {
        let deleted = 0;
        for (const group of handles) {
          const result = await this.deleteMessages(group);
          if (!result.ok) throw new Error(`delete: ${result.error.code} ${result.error.message}`);
          deleted += result.value.filter((r) => r.deleted).length;
          await this.barrier(commit);
        }
        return deleted;
      });
    }
    return { phases, clockCheckMs };
  }
}

export default {
  async fetch(request: Request, env: BenchEnv): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/health") return new Response("ok");
    if (url.pathname !== "/run") return new Response("not found", { status: 404 });
    const number = (name: string, fallback: number) => {
      const value = Number(url.searchParams.get(name) ?? fallback);
      return Number.isSafeInteger(value) && value > 0 ? value : fallback;
    };
    const options: BenchOptions = {
      messages: number("messages", 10_000),
      batch: number("batch", 100),
      bytes: number("bytes", 1024),
      rounds: number("rounds", 1),
      commit: url.searchParams.get("commit") !== "0",
    };
    // A fresh object per run: no rows from an earlier run.
    const stub = env.ENGINE_BENCH.get(env.ENGINE_BENCH.idFromName(`run-${crypto.randomUUID()}`));
    try {
      return Response.json({ options, ...(await stub.runBench(options)) });
    } catch (error) {
      return Response.json({ error: error instanceof Error ? error.message : String(error) }, { status: 500 });
    }
  },
};
