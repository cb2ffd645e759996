/**
 * The client's types, derived from the service's operation catalog and error table: imported for
 * their types only, so nothing of the service reaches a bundle, and a change to an operation's
 * schema changes the client's signatures with it.
 */
import type { InferInput } from "valibot";
import type { ErrorCode as ServiceErrorCode, ErrorTraitsOf } from "../../../src/errors";
import type { OperationName as ServiceOperationName, OperationOutput, catalog } from "../../../src/operations";
import type { HttpStatusOfError } from "../../../src/api/rest/errors";

/** The name of an operation of the service (`createQueue`, `sendMessages`, ...). */
export type OperationName = ServiceOperationName;

/** What an operation takes: its schema's input, so fields with a default are optional. */
export type OperationInput<TName extends OperationName> = InferInput<(typeof catalog)[TName]["input"]>;

/** What an operation answers. */
export type Output<TName extends OperationName> = OperationOutput<TName>;

/** A stable error code of the service. */
export type ErrorCode = ServiceErrorCode;

/** The service's own table of error traits and HTTP statuses, as types. */
export type ServiceErrorTraits = typeof ErrorTraitsOf;
export type ServiceHttpStatus = typeof HttpStatusOfError;
