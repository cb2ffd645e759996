import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RootSecretId, RootSecretKey, environment, runCli, startCliService } from "./support.mjs";

let service;
let configFile;
const wrongKey = "not-the-secret-key-of-this-service";

beforeAll(async () => {
  service = await startCliService();
  configFile = path.join(service.workDir, "config.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      profiles: {
        default: { endpoint: service.url, secretKey: wrongKey },
        root: { endpoint: service.url, secretKey: RootSecretKey },
        signed: { endpoint: service.url, secretId: RootSecretId, secretKey: RootSecretKey },
      },
    }),
  );
});

afterAll(async () => {
  await service?.stop();
});

const list = (env, ...flags) => runCli(["queues", "list", "--json", ...flags], { env: environment(service.workDir, env) });

describe("edge-cmq configuration", () => {
  it("takes the endpoint and secret key from the environment", async () => {
    const result = await list({ EDGE_CMQ_ENDPOINT: service.url, EDGE_CMQ_SECRET_KEY: RootSecretKey });

    expect(result.code).toBe(0);
    expect(result.json).toMatchObject({ queues: expect.any(Array), nextCursor: null });
  });

  it("signs with the secret id and key from the environment", async () => {
    const result = await list({ EDGE_CMQ_ENDPOINT: service.url, EDGE_CMQ_SECRET_ID: RootSecretId, EDGE_CMQ_SECRET_KEY: RootSecretKey });

    expect(result.code).toBe(0);
  });

  it("reads the default profile of $EDGE_CMQ_CONFIG, and the one named by --profile or EDGE_CMQ_PROFILE", async () => {
    const byDefault = await list({ EDGE_CMQ_CONFIG: configFile });
    const byFlag = await list({ EDGE_CMQ_CONFIG: configFile }, "--profile", "root");
    const signed = await list({ EDGE_CMQ_CONFIG: configFile }, "--profile", "signed");
    const byVariable = await list({ EDGE_CMQ_CONFIG: configFile, EDGE_CMQ_PROFILE: "root" });

    expect(byDefault.code).toBe(3);
    expect(byDefault.stderr).toMatch(/^Unauthenticated: /);
    expect([byFlag.code, signed.code, byVariable.code]).toEqual([0, 0, 0]);
  });

  it("finds the config file in $XDG_CONFIG_HOME/edge-cmq, else in ~/.config/edge-cmq", async () => {
    const profiles = JSON.stringify({ profiles: { default: { endpoint: service.url, secretKey: RootSecretKey } } });
    const configHome = path.join(service.workDir, "xdg");
    const home = path.join(service.workDir, "home");
    mkdirSync(path.join(configHome, "edge-cmq"), { recursive: true });
    mkdirSync(path.join(home, ".config", "edge-cmq"), { recursive: true });
    writeFileSync(path.join(configHome, "edge-cmq", "config.json"), profiles);
    writeFileSync(path.join(home, ".config", "edge-cmq", "config.json"), profiles);

    const fromXdg = await list({ XDG_CONFIG_HOME: configHome });
    const fromHome = await list({ HOME: home });

    expect([fromXdg.code, fromHome.code]).toEqual([0, 0]);
  });

  it("lets the environment override the default profile, and flags and --profile override the environment", async () => {
    const wrongEnv = { EDGE_CMQ_CONFIG: configFile, EDGE_CMQ_ENDPOINT: service.url, EDGE_CMQ_SECRET_KEY: wrongKey };

    const envOverDefault = await list({ EDGE_CMQ_CONFIG: configFile, EDGE_CMQ_SECRET_KEY: RootSecretKey });
    const flagOverEnv = await list(wrongEnv, "--secret-key", RootSecretKey);
    const profileOverEnv = await list(wrongEnv, "--profile", "root");
    const endpointFlag = await list({ EDGE_CMQ_ENDPOINT: "http://127.0.0.1:1", EDGE_CMQ_SECRET_KEY: RootSecretKey }, "--endpoint", service.url);

    expect([envOverDefault.code, flagOverEnv.code, profileOverEnv.code, endpointFlag.code]).toEqual([0, 0, 0, 0]);
  });

  it("refuses to run without an endpoint or credentials, or with an unknown profile (exit 2)", async () => {
    const noEndpoint = await list({ EDGE_CMQ_SECRET_KEY: RootSecretKey });
    const noCredentials = await list({ EDGE_CMQ_ENDPOINT: service.url });
    const unknownProfile = await list({ EDGE_CMQ_CONFIG: configFile }, "--profile", "nope");

    expect([noEndpoint.code, noCredentials.code, unknownProfile.code]).toEqual([2, 2, 2]);
    expect(noEndpoint.stderr).toMatch(/^UsageError: no endpoint: /);
    expect(noCredentials.stderr).toMatch(/^UsageError: no credentials: /);
    expect(unknownProfile.stderr).toBe(`UsageError: no profile "nope" in ${configFile}\n`);
  });

  it("refuses a config file that is not JSON (exit 2)", async () => {
    const broken = path.join(service.workDir, "broken.json");
    writeFileSync(broken, "{ profiles:");

    const result = await list({ EDGE_CMQ_CONFIG: broken });

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^UsageError: the config file .+broken\.json is not JSON: /);
  });
});

describe("edge-cmq exit codes", () => {
  const env = () => environment(service.workDir, { EDGE_CMQ_ENDPOINT: service.url, EDGE_CMQ_SECRET_KEY: RootSecretKey });

  it.each([
    ["a group without its command", ["queues"], /^Usage: edge-cmq queues <command>[\s\S]+\nUsageError: missing a command; see `edge-cmq queues --help`\n$/],
    ["an unknown command", ["queues", "shred"], /^UsageError: unknown command 'shred'; see `edge-cmq queues --help`\n$/],
    ["an unknown option", ["queues", "list", "--colour"], /^UsageError: Unknown option '--colour'.*; see `edge-cmq queues list --help`\n$/],
    ["a missing argument", ["messages", "send"], /^UsageError: missing <queue>; see `edge-cmq messages send --help`\n$/],
    ["an extra argument", ["queues", "get", "a", "b"], /^UsageError: unexpected argument 'b'/],
    ["a number that is not one", ["queues", "create", "q", "--visibility-timeout", "soon"], /^UsageError: --visibility-timeout takes an integer, not 'soon'/],
    ["a value the service refuses", ["queues", "create", "q", "--visibility-timeout", "0"], /^InvalidParameter: .+ \([0-9a-f-]{36}\)\n$/],
    ["an invalid queue name", ["queues", "get", "1-starts-with-a-digit"], /^InvalidParameter: /],
  ])("exits 2 on %s, with nothing on stdout", async (_, args, stderr) => {
    const result = await runCli(args, { env: env() });

    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(stderr);
  });

  it("exits 1 when the service cannot be reached, after the client's retries", async () => {
    const result = await runCli(["queues", "list"], { env: environment(service.workDir, { EDGE_CMQ_ENDPOINT: "http://127.0.0.1:1", EDGE_CMQ_SECRET_KEY: RootSecretKey }) });

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^NetworkError: /);
  });

  it("exits 3 when the service does not know the secret", async () => {
    const result = await runCli(["queues", "list"], { env: environment(service.workDir, { EDGE_CMQ_ENDPOINT: service.url, EDGE_CMQ_SECRET_KEY: wrongKey }) });

    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^Unauthenticated: .+ \([0-9a-f-]{36}\)\n$/);
  });
});
