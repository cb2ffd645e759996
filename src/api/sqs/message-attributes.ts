import { toHex } from "../../auth/crypto";
import { baseTypeOf, type MessageAttributes } from "../../schema/message-attributes";
import type { SqsMessageAttributeValue } from "./wire";

/**
 * SQS message attributes on the wire (`MessageAttributeValue`: `DataType` with `StringValue` or
 * `BinaryValue`, base64 in both of SQS's protocols) and their digest. The service's attributes are
 * `{type, value}` with base64 values for Binary types: the translation only renames.
 */

/** The service's attributes from SQS's `MessageAttributes`, checked by the wire schema. */
export function attributesFromWire(wire: Record<string, SqsMessageAttributeValue> | undefined): MessageAttributes | undefined {
  if (wire === undefined) return undefined;
  const attributes: MessageAttributes = {};
  for (const [name, { DataType, StringValue, BinaryValue }] of Object.entries(wire)) {
    // A type of none of the three goes on with its value for the service to refuse, naming the rule.
    attributes[name] = { type: DataType!, value: (baseTypeOf(DataType!) === "Binary" ? BinaryValue : StringValue ?? BinaryValue) ?? "" };
  }
  return attributes;
}

/** The only message system attribute SQS has: an AWS X-Ray trace header, kept as the message's trace header. */
export const TraceHeaderAttribute = "AWSTraceHeader";

/** The trace header in SQS's `MessageSystemAttributes` (the wire schema admits no other). */
export function traceHeaderFromWire(wire: { AWSTraceHeader?: SqsMessageAttributeValue } | undefined): string | undefined {
  return wire?.AWSTraceHeader?.StringValue;
}

/** SQS's `MessageAttributes` from the service's. */
export function attributesToWire(attributes: MessageAttributes): Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }> {
  const wire: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }> = {};
  for (const [name, { type, value }] of Object.entries(attributes)) {
    wire[name] = baseTypeOf(type) === "Binary" ? { DataType: type, BinaryValue: value } : { DataType: type, StringValue: value };
  }
  return wire;
}

/**
 * The attributes a ReceiveMessage asks for by `MessageAttributeNames`: `All` or `.*` for every
 * one, `prefix.*` for those whose name starts with `prefix.`, else exact names.
 */
export function selectAttributes(attributes: MessageAttributes, names: readonly string[]): MessageAttributes {
  if (names.includes("All") || names.includes(".*")) return attributes;
  const prefixes = names.filter((name) => name.endsWith(".*")).map((name) => name.slice(0, -1));
  const exact = new Set(names);
  const selected: MessageAttributes = {};
  for (const [name, attribute] of Object.entries(attributes)) {
    if (exact.has(name) || prefixes.some((prefix) => name.startsWith(prefix))) selected[name] = attribute;
  }
  return selected;
}

const textEncoder = new TextEncoder();

async function md5Hex(bytes: Uint8Array): Promise<string> {
  return toHex(await crypto.subtle.digest("MD5", bytes));
}

/** MD5 of the UTF-8 body, hex, as SQS computes MD5OfMessageBody (the SDKs verify it). */
export function md5OfBody(body: string): Promise<string> {
  return md5Hex(textEncoder.encode(body));
}

function base64Bytes(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/**
 * MD5OfMessageAttributes as SQS computes it (SQS Developer Guide, "Calculating the MD5 message
 * digest for message attributes"): attributes sorted by name; for each, the name, the type, one
 * transport byte (1 for String and Number, 2 for Binary) and the value, each of name, type and
 * value preceded by its length in bytes as a 4-byte big-endian integer. Null when there are none.
 */
export async function md5OfAttributes(attributes: MessageAttributes): Promise<string | null> {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return null;
  const parts: Uint8Array[] = [];
  const withLength = (bytes: Uint8Array) => {
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, bytes.byteLength);
    parts.push(length, bytes);
  };
  for (const name of names) {
    const { type, value } = attributes[name]!;
    const isBinary = baseTypeOf(type) === "Binary";
    withLength(textEncoder.encode(name));
    withLength(textEncoder.encode(type));
    parts.push(Uint8Array.of(isBinary ? 2 : 1));
    withLength(isBinary ? base64Bytes(value) : textEncoder.encode(value));
  }
  const all = new Uint8Array(parts.reduce((total, part) => total + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.byteLength;
  }
  return md5Hex(all);
}
