import { describe, expect, it } from "vitest";
import { cmqSign, cmqStringToSign, verifyCmqSignature, type CmqParam } from "../../src/auth/cmq-signature";
import { sign, stringToSign } from "../support/cmq";

/**
 * The worked example of Tencent Cloud's signature documentation (API 2.0, "Signature Method",
 * https://cloud.tencent.com/document/api/406/5906): its key, its string to sign and the
 * signature it prints; the HmacSHA256 value is that string signed with SHA-256.
 */
const DocSecretKey = "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA";
const DocParams: Record<string, string> = {
  Action: "DescribeInstances",
  Nonce: "11886",
  Region: "gz",
  SecretId: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA",
  Timestamp: "1465185768",
  "instanceIds.0": "ins-09dx96dg",
  limit: "20",
  offset: "0",
};
const DocSource =
  "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=11886&Region=gz&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&Timestamp=1465185768&instanceIds.0=ins-09dx96dg&limit=20&offset=0";

/** A CMQ SendMessage as the Python SDK signs it: a space in a value is signed as a space. */
const SendParams: Record<string, string> = {
  Action: "SendMessage",
  Nonce: "12345",
  RequestClient: "SDK_Python_1.3",
  SecretId: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA",
  SignatureMethod: "HmacSHA256",
  Timestamp: "1465185768",
  delaySeconds: "0",
  msgBody: "hello world",
  queueName: "test-queue",
};

const target = { method: "GET", host: "cvm.api.qcloud.com", path: "/v2/index.php" };
const shuffled = (params: Record<string, string>): CmqParam[] => Object.entries(params).reverse();

describe("the test's own signer", () => {
  it("builds the documentation's string to sign", () => {
    expect(stringToSign("GET", "cvm.api.qcloud.com", "/v2/index.php", DocParams)).toBe(DocSource);
  });

  it.each([
    ["HmacSHA1", "NSI3UqqD99b/UJb4tbG/xZpRW64="],
    ["HmacSHA256", "0Fe1ft4kVgMutEqdpnlULUPTP7hCEy7mB1/JUTGo+Kg="],
  ] as const)("signs it with %s as documented", async (method, expected) => {
    expect(await sign(DocSecretKey, DocSource, method)).toBe(expected);
  });

  it("signs a CMQ SendMessage as the Python SDK does", async () => {
    const source = stringToSign("POST", "cmq-queue-gz.api.qcloud.com", "/v2/index.php", SendParams);

    expect(await sign(DocSecretKey, source, "HmacSHA256")).toBe("Qbjk5Oig3CYx11M5UCBuM5MounxL6g+ad/fCXeNOXUY=");
  });
});

describe("the service's verifier", () => {
  it("sorts the parameters by code point, whatever their order", () => {
    expect(cmqStringToSign(target, shuffled(DocParams))).toBe(DocSource);
  });

  it("leaves Signature out of the string to sign", () => {
    expect(cmqStringToSign(target, [...shuffled(DocParams), ["Signature", "x"]])).toBe(DocSource);
  });

  it("reads _ in a key as . (a PHP form key)", () => {
    const params = shuffled(DocParams).map(([key, value]) => [key.replace(".", "_"), value] as const);

    expect(cmqStringToSign(target, params)).toBe(DocSource);
  });

  it("puts msgBody.10 before msgBody.2 and upper case before lower case", () => {
    const source = cmqStringToSign({ method: "post", host: "h", path: "/" }, [
      ["msgBody.2", "b"],
      ["msgBody.10", "c"],
      ["a", "1"],
      ["B", "2"],
    ]);

    expect(source).toBe("POSTh/?B=2&a=1&msgBody.10=c&msgBody.2=b");
  });

  it.each([
    ["HmacSHA1", "NSI3UqqD99b/UJb4tbG/xZpRW64="],
    ["HmacSHA256", "0Fe1ft4kVgMutEqdpnlULUPTP7hCEy7mB1/JUTGo+Kg="],
  ] as const)("computes the documented %s signature", async (method, expected) => {
    expect(await cmqSign(DocSecretKey, DocSource, method)).toBe(expected);
  });

  it("accepts the documented signature and refuses it under another key or another value", async () => {
    const params = shuffled(DocParams);

    expect(await verifyCmqSignature(target, params, "NSI3UqqD99b/UJb4tbG/xZpRW64=", DocSecretKey)).toBe(true);
    expect(await verifyCmqSignature(target, params, "NSI3UqqD99b/UJb4tbG/xZpRW64=", `${DocSecretKey}x`)).toBe(false);
    expect(await verifyCmqSignature(target, [...params, ["limit", "21"] as const].slice(1), "NSI3UqqD99b/UJb4tbG/xZpRW64=", DocSecretKey)).toBe(false);
  });

  it("signs with HmacSHA1 when SignatureMethod is absent or anything but HmacSHA256", async () => {
    const sha1 = await cmqSign(DocSecretKey, DocSource, "HmacSHA1");
    const withOther = [...shuffled(DocParams), ["SignatureMethod", "HmacMD5"] as const];
    const source = cmqStringToSign(target, withOther);

    expect(await verifyCmqSignature(target, withOther, await sign(DocSecretKey, source, "HmacSHA1"), DocSecretKey)).toBe(true);
    expect(await verifyCmqSignature(target, shuffled(DocParams), sha1, DocSecretKey)).toBe(true);
  });

  it("accepts a POST signed without its @-values, as the Python SDK signs it, and only a POST", async () => {
    const params: CmqParam[] = [...shuffled(SendParams).filter(([key]) => key !== "msgBody"), ["msgBody", "@mention"]];
    const withoutAt = params.filter(([, value]) => !value.startsWith("@"));
    const postTarget = { method: "POST", host: "cmq-queue-gz.api.qcloud.com", path: "/v2/index.php" };
    const signature = await cmqSign(DocSecretKey, cmqStringToSign(postTarget, withoutAt), "HmacSHA256");

    expect(await verifyCmqSignature(postTarget, params, signature, DocSecretKey)).toBe(true);
    expect(await verifyCmqSignature({ ...postTarget, method: "GET" }, params, signature, DocSecretKey)).toBe(false);
  });
});
