import * as v from "valibot";
import { ErrorCode, QueueError } from "../errors";

type Issue = v.BaseIssue<unknown>;

const pathOf = (issue: Issue): string => issue.path?.map((item) => String(item.key)).join(".") ?? "";

/** A union's own issue says little ("invalid type"); the alternative that got furthest says what is wrong. */
function mostSpecific(issue: Issue): Issue {
  if (!issue.issues || issue.issues.length === 0) return issue;
  let best = issue;
  for (const inner of issue.issues) {
    const candidate = mostSpecific(inner);
    if ((candidate.path?.length ?? 0) > (best.path?.length ?? 0) || best === issue) best = candidate;
  }
  return best;
}

/** Validates input against a schema, or throws InvalidParameter naming the first problem and where. */
export function parse<TSchema extends v.GenericSchema>(
  schema: TSchema,
  input: unknown,
  where = "body",
): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const issue = mostSpecific(result.issues[0]);
  const path = pathOf(issue);
  throw new QueueError(
    ErrorCode.InvalidParameter,
    `${where}${path ? `.${path}` : ""}: ${issue.message}`,
    result.issues.map((each) => ({ path: pathOf(each), message: each.message })),
  );
}
