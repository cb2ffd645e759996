import { describe, expect, it } from "vitest";
import { api, uniqueName } from "../support/http";
import { counts, createQueue, openLive, sendBodies } from "./support";

describe("a live queue socket", () => {
  it("pushes no more messages than the credit granted", async () => {
    const queue = await createQueue(uniqueName());
    await sendBodies(queue, "a", "b", "c");
    const live = await openLive(`/v1/queues/${queue}/live`);

    live.send({ type: "credit", messages: 2 });

    expect(await live.take("credited")).toEqual({ type: "credited", credit: 2 });
    const pushed = await live.messages(2);
    expect(pushed.map((m) => m.body)).toEqual(["a", "b"]);
    expect(await counts(queue)).toMatchObject({ active: 1, inactive: 2 });
    live.close();
  });
});
