import fc from "fast-check";

/**
 * Runs a fast-check property with the suite's defaults, overridable from the environment for longer
 * runs or a replay (vitest.config.ts passes `FC_*` variables through to the tests):
 *
 *   FC_RUNS=2000 FC_TIME_LIMIT_MS=600000 npx vitest run test/reliability/queue-model.test.ts
 *   FC_SEED=-1234 FC_PATH="12:3:0" npx vitest run test/reliability/queue-model.test.ts
 *
 * A failure throws fast-check's report: the counterexample, its `seed` and `path`. The whole run,
 * shrinking included, is bounded by the time limit so that the report arrives before the test's
 * timeout; runs cut short by it are logged, not failed.
 */
export async function checkProperty<Ts>(label: string, property: fc.IAsyncProperty<Ts>, defaultRuns: number): Promise<void> {
  const seed = readEnv("FC_SEED");
  const path = readEnv("FC_PATH");
  const details = await fc.check(property, {
    numRuns: Number(readEnv("FC_RUNS") ?? defaultRuns),
    ...(seed !== undefined ? { seed: Number(seed) } : {}),
    ...(path !== undefined ? { path } : {}),
    interruptAfterTimeLimit: propertyTimeLimitMs(),
    includeErrorInReport: true,
  });
  console.log(
    `${label}: ${details.numRuns} runs, seed ${details.seed}${details.interrupted ? " (stopped at the time limit)" : ""}${
      details.failed ? " FAILED" : ""
    }`,
  );
  if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? "property failed");
}

function readEnv(name: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  return value === undefined || value === "" ? undefined : value;
}

export function propertyTimeLimitMs(): number {
  return Number(readEnv("FC_TIME_LIMIT_MS") ?? 100_000);
}

/** The vitest timeout of a property test: its time limit plus room for the report. */
export function propertyTimeoutMs(): number {
  return propertyTimeLimitMs() + 60_000;
}
