import { tdmq } from "tencentcloud-sdk-nodejs/tencentcloud/services/tdmq";
import { expect } from "vitest";
import { startTcapiService, type TcapiKey, type TcapiTestService } from "./service.mjs";

/**
 * The real tencentcloud-sdk-nodejs TDMQ client (API 3.0, TC3-HMAC-SHA256) against the real service
 * (`wrangler dev`), its endpoint and protocol the only change, signing with a key created through
 * the REST API: what a user of TDMQ for CMQ would run.
 */
export type TdmqClient = InstanceType<typeof tdmq.v20200217.Client>;

export interface SdkHarness {
  service: TcapiTestService;
  /** A client signing with a key of the default account that has every right. */
  client: TdmqClient;
  /** `signMethod` HmacSHA256 or HmacSHA1 makes the SDK send a signed form instead of TC3 headers and JSON. */
  clientFor(key: TcapiKey, reqMethod?: "POST" | "GET", signMethod?: FormSignMethod): TdmqClient;
  /** Receives one message through the REST API, waiting for it up to `waitSeconds`. */
  receiveOne(queue: string, waitSeconds?: number): Promise<{ body: string; tags: string[]; receiptHandle: string } | undefined>;
}

export type FormSignMethod = "HmacSHA256" | "HmacSHA1";

export async function startSdkHarness(): Promise<SdkHarness> {
  const service = await startTcapiService();
  const clientFor = (key: TcapiKey, reqMethod: "POST" | "GET" = "POST", signMethod?: FormSignMethod): TdmqClient =>
    new tdmq.v20200217.Client({
      credential: key,
      region: "ap-guangzhou",
      profile: { signMethod, httpProfile: { endpoint: service.endpoint, protocol: "http://", reqMethod, reqTimeout: 30 } },
    });
  return {
    service,
    client: clientFor(service.key),
    clientFor,
    async receiveOne(queue, waitSeconds = 5) {
      const received = await service.rest("POST", `/v1/queues/${queue}/messages/receive`, { max: 1, waitSeconds });
      expect(received.status).toBe(200);
      return received.body.messages[0];
    },
  };
}

export const uniqueName = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

/** The error a call throws, for assertions on its API 3.0 code. */
export async function failure(call: () => Promise<unknown>): Promise<{ code: string; message: string; requestId: string }> {
  try {
    await call();
  } catch (error) {
    const { code, message, requestId } = error as { code?: string; message: string; requestId: string };
    if (code) return { code, message, requestId };
    throw error;
  }
  throw new Error("the call succeeded");
}
