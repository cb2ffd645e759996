// Exit codes scripts can rely on. A service error is classed by its HTTP status, so a code the
// service adds later falls in the right class.
import { UsageError } from "./args.js";

export const ExitCode = {
  ok: 0,
  /** The service failed or could not be reached (5xx, network, timeout), or another error. */
  failed: 1,
  /** The command line is wrong, whether the tool or the service found it (400, 413). */
  usage: 2,
  /** The credentials were refused or do not allow the operation (401, 403). */
  auth: 3,
  /** The queue, topic, subscription, key or redrive does not exist (404). */
  notFound: 4,
  /** It conflicts with what exists (409: already exists, in use, full, redrive in progress). */
  conflict: 5,
  /** Stopped by SIGINT (Ctrl-C), 128 + 2 as shells report it. */
  interrupted: 130,
  /** Stopped by SIGTERM, 128 + 15. */
  terminated: 143,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A field of a thrown value that may be anything. */
const fieldOf = (error: unknown, name: string): unknown => (typeof error === "object" && error !== null ? (error as Record<string, unknown>)[name] : undefined);

/** The exit code for an error thrown by a command. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof UsageError) return ExitCode.usage;
  const status = fieldOf(error, "status");
  if (status === 401 || status === 403) return ExitCode.auth;
  if (status === 404) return ExitCode.notFound;
  if (status === 409) return ExitCode.conflict;
  if (status === 400 || status === 413) return ExitCode.usage;
  return ExitCode.failed;
}

/** The line printed on stderr for an error: `code: message (requestId)`. */
export function errorLine(error: unknown): string {
  if (error instanceof UsageError) return `UsageError: ${error.message}`;
  if (fieldOf(error, "name") === "EdgeCmqError") {
    const requestId = fieldOf(error, "requestId");
    return `${fieldOf(error, "code")}: ${fieldOf(error, "message")}${requestId ? ` (${requestId})` : ""}`;
  }
  return `Error: ${fieldOf(error, "message") ?? String(error)}`;
}
