import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export const TestRootSecretId = "AKIDtestroot0000000000000000000000";
export const TestRootSecretKey = "test-root-secret-key-0123456789abcdef";

/** Tests that drive the real service from outside (`wrangler dev`, curl) run in node, not in workerd. */
const nodeTests = [
  "test/readme/**/*.test.mjs",
  "test/node/**/*.test.ts",
  "test/sqs/**/*.test.ts",
  "test/tcapi/**/*.test.ts",
  "test/client/**/*.node.test.mjs",
  "test/cli/**/*.node.test.mjs",
  // The web console in headless Chromium against the built console (npm test builds it first).
  "test/console/**/*.node.test.mjs",
];

export default defineConfig({
  test: {
    reporters: ["default", "./test/support/count-reporter.ts"],
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.jsonc" },
            miniflare: {
              bindings: { ROOT_SECRET_ID: TestRootSecretId, ROOT_SECRET_KEY: TestRootSecretKey },
              workers: [
                {
                  name: "sink",
                  modules: true,
                  scriptPath: "./test/support/sink-worker/index.js",
                  compatibilityDate: "2026-11-09",
                },
                {
                  // A queue's consumer Worker, steered by message bodies (see its header).
                  name: "queue-consumer",
                  modules: true,
                  scriptPath: "./test/support/queue-consumer-worker/index.js",
                  compatibilityDate: "2026-11-09",
                },
                {
                  // A second Worker that reaches this service only through its RPC entrypoint.
                  name: "consumer",
                  modules: true,
                  scriptPath: "./test/support/consumer-worker/index.js",
                  compatibilityDate: "2026-11-09",
                  // The plugin runs the Worker under test as "vitest-plugin-runner-<project name>".
                  serviceBindings: { CMQ: { name: "vitest-plugin-runner-edge-cmq", entrypoint: "QueueService" } },
                },
              ],
              // Outbound fetch() (HTTP push) goes to the sink Worker, so no test reaches the network.
              outboundService: "sink",
              // CMQ: the service's own RPC entrypoint, for the typed client's binding mode (test/client/).
              serviceBindings: {
                CONSUMER: "consumer",
                QUEUE_CONSUMER: "queue-consumer",
                SINK: "sink",
                AUDIT_WORKER: "sink",
                CMQ: { name: "vitest-plugin-runner-edge-cmq", entrypoint: "QueueService" },
              },
            },
          }),
        ],
        test: {
          name: "edge-cmq",
          include: ["test/**/*.test.ts"],
          exclude: nodeTests,
          // Drops the runtime's log lines that tests cause on purpose (the file lists each and why).
          globalSetup: ["./test/support/expected-runtime-logs.mjs"],
          testTimeout: 20_000,
          // FC_SEED, FC_RUNS, FC_PATH, FC_TIME_LIMIT_MS: replay or lengthen the property tests (test/reliability/).
          env: Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith("FC_"))) as Record<string, string>,
        },
      },
      {
        // Modules that mention the runtime's classes import in node with empty stand-ins.
        resolve: { alias: { "cloudflare:workers": new URL("./test/support/workers-runtime-stub.ts", import.meta.url).pathname } },
        test: {
          name: "service",
          environment: "node",
          include: nodeTests,
          // Each file starts `wrangler dev` itself; the whole README runs in well under a minute.
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
