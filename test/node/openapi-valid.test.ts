import SwaggerParser from "@apidevtools/swagger-parser";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { describe, expect, it } from "vitest";
import { restRoutes } from "../../src/api/rest/routes";
import { liveRoutes } from "../../src/api/rest/live-routes";
import { buildOpenApi } from "../../src/api/rest/openapi";

/** /openapi.json as the Worker serves it, checked by the validators people run on it. */
const document = () => structuredClone(buildOpenApi(restRoutes, liveRoutes)) as Record<string, unknown>;

describe("/openapi.json", () => {
  it("passes swagger-parser's validation (what `swagger-cli validate` runs)", async () => {
    await expect(SwaggerParser.validate(document() as never)).resolves.toBeTruthy();
  });

  it("passes redocly's recommended lint rules without an error", async () => {
    const config = await createConfig({ extends: ["recommended"] });
    const problems = await lintFromString({ source: JSON.stringify(document()), absoluteRef: "openapi.json", config });
    const errors = problems.filter((problem) => problem.severity === "error").map((problem) => `${problem.ruleId}: ${problem.message} at ${problem.location[0]?.pointer}`);
    expect(errors).toEqual([]);
  });
});
