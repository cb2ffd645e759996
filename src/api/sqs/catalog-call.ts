import { catalog, runOperation, type OperationName, type OperationOutput } from "../../operations";
import type { SqsCall } from "./actions";

/**
 * Runs a catalog operation for an SQS action; an input field the catalog refuses is named by its
 * SQS parameter (`wireNames`), as SQS's own messages name it.
 */
export function runForSqs<TName extends OperationName>(
  call: SqsCall,
  name: TName,
  input: unknown,
  wireNames: Record<string, string>,
): Promise<OperationOutput<TName>> {
  const locate = (keys: string[]) => {
    const field = keys[0] ?? "";
    return [wireNames[field] ?? field, ...keys.slice(1)];
  };
  return runOperation(catalog[name] as never, call.context, input, locate) as Promise<OperationOutput<TName>>;
}
