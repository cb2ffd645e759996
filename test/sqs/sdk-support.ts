/** What the tests that drive the service with an AWS SDK share, whichever SDK release they load. */

export const uniqueName = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

/** An SDK client's settings for the service at `endpoint`, signing with a key; no retries, so an error shows at once. */
export const clientSettings = (endpoint: string, accessKeyId: string, secretAccessKey: string) => ({
  endpoint,
  region: "eu-west-1",
  credentials: { accessKeyId, secretAccessKey },
  maxAttempts: 1,
});

/**
 * The error a command throws, for assertions on its type, name and status: one of `type` (the
 * SDK's `SQSServiceException`); anything else, or a success, fails the test.
 */
export async function failureOf<T>(type: abstract new (...args: never[]) => T, request: () => Promise<unknown>): Promise<T> {
  try {
    await request();
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error("the command succeeded");
}
