import type { Reporter, TestCase, TestModule } from "vitest/node";

/**
 * Ends the run with a plain `N passed, N failed` line, so a run that executed no test shows as
 * such. An error outside any test (an unhandled rejection, a file that failed to load) counts as a
 * failure, as it fails the run.
 */
export default class CountReporter implements Reporter {
  private passed = 0;
  private failed = 0;
  private skipped = 0;

  onTestCaseResult(testCase: TestCase): void {
    const state = testCase.result().state;
    if (state === "passed") this.passed++;
    else if (state === "failed") this.failed++;
    else this.skipped++;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const brokenModules = testModules.filter((module) => module.state() === "failed" && module.children.size === 0).length;
    const failed = this.failed + unhandledErrors.length + brokenModules;
    const skipped = this.skipped > 0 ? `, ${this.skipped} skipped` : "";
    process.stdout.write(`\n${this.passed} passed, ${failed} failed${skipped}\n`);
  }
}
