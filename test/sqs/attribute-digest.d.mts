import type { MessageAttributeValue } from "@aws-sdk/client-sqs";

export function md5OfMessageAttributes(attributes: Record<string, MessageAttributeValue>): string;
