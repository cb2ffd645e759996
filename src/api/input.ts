import { ErrorCode, ServiceError } from "../errors";

/**
 * An operation's input from fields a protocol names apart (a path, positional arguments) and an
 * object of the remaining fields. The object must be a plain object and may not restate a field
 * given apart: `PUT /v1/queues/a {"queue": "b"}` is refused, not silently resolved.
 */
export function inputOf(fields: Record<string, unknown>, rest: unknown, where: string): Record<string, unknown> {
  if (rest === null || typeof rest !== "object" || Array.isArray(rest)) {
    const received = rest === null ? "null" : Array.isArray(rest) ? "an array" : typeof rest;
    throw new ServiceError(ErrorCode.InvalidParameter, `${where}: expected an object but received ${received}`);
  }
  for (const key of Object.keys(fields)) {
    if (Object.hasOwn(rest, key)) {
      throw new ServiceError(ErrorCode.InvalidParameter, `${where}.${key}: given apart, it may not appear here too`);
    }
  }
  return { ...(rest as Record<string, unknown>), ...fields };
}
