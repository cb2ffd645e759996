import type { OperationContext } from "../../operations";
import { queueArnOf } from "./queue-url";

/** Where a queue's ARN must point to name a queue of the caller: this deployment's region, their account. */
export interface ArnScope {
  region: string;
  account: string;
}

const QueueArnPattern = /^arn:aws:sqs:([^:]+):([^:]+):([^:/]+)$/;

/**
 * The queue an ARN names, when it is an SQS queue ARN of the caller's account in this deployment's
 * region (`arn:aws:sqs:{region}:{account}:{name}`); null for any other ARN.
 */
export function queueNameOfArn(arn: string, scope: ArnScope): string | null {
  const match = QueueArnPattern.exec(arn);
  if (!match || match[1] !== scope.region || match[2] !== scope.account) return null;
  return match[3]!;
}

export const arnOfQueue = (scope: ArnScope, name: string): string => queueArnOf(scope.region, scope.account, name);

/** The scope of a call's ARNs: the caller's account in this deployment's region. */
export const arnScopeOf = (context: OperationContext): ArnScope => ({ region: context.scope.region, account: context.principal.account });
