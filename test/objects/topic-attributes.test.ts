import { describe, expect, it } from "vitest";
import { expectOk } from "./support";
import { scope, topicStub, uniqueName } from "../support/topics";

const prefix = `${scope.account}/${scope.region}/`;

describe("topic attributes", () => {
  it("confirms a topic created again with the same attributes in another key order", async () => {
    const name = uniqueName("t");
    const stub = topicStub(name);
    expectOk(await stub.create(name, scope.account, prefix, { maxMsgSize: 65_536, msgRetentionSeconds: 86_400, filterType: "tag" }));

    const again = expectOk(await stub.create(name, scope.account, prefix, { filterType: "tag", msgRetentionSeconds: 86_400, maxMsgSize: 65_536 }));

    expect(again.created).toBe(false);
  });

  it("confirms a subscription made again with the same attributes in another key order", async () => {
    const name = uniqueName("t");
    const stub = topicStub(name);
    expectOk(await stub.create(name, scope.account, prefix, { maxMsgSize: 65_536, msgRetentionSeconds: 86_400, filterType: "tag" }));
    const attributes = {
      protocol: "http" as const,
      endpoint: "http://sink.test/ok/a",
      filterTags: [],
      bindingKeys: [],
      notifyStrategy: "BACKOFF_RETRY" as const,
      notifyContentFormat: "JSON" as const,
      signingSecret: null,
    };
    expectOk(await stub.subscribe("s", attributes));

    const { signingSecret, protocol, ...rest } = attributes;
    const again = expectOk(await stub.subscribe("s", { signingSecret, ...rest, protocol }));

    expect(again.created).toBe(false);
  });
});
