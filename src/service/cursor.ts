import { ErrorCode, ServiceError } from "../errors";

/** List cursors are opaque to clients: the last name of a page, base64url-encoded. */
export const encodeCursor = (value: string): string =>
  btoa(value).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

export function decodeCursor(cursor: string): string {
  try {
    return atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    throw new ServiceError(ErrorCode.InvalidParameter, "query.cursor: malformed cursor");
  }
}
