import * as v from "valibot";
import { headerSafe } from "./text";

/**
 * Typed message attributes, as SQS defines them (SQS Developer Guide, "Amazon SQS message
 * attributes"; SendMessage API reference): at most 10 per message; a name is 1 to 256 characters
 * of `[A-Za-z0-9_.-]`, without a leading, trailing or doubled `.` and not starting with `AWS.` or
 * `Amazon.` in any case; a type is `String`, `Number` or `Binary`, optionally with a custom label
 * (`Number.float`, `Binary.gif`); a value is never empty.
 */
export const MessageAttributeLimits = {
  perMessage: 10,
  nameMaxLength: 256,
  typeMaxLength: 256,
  /** SQS numbers: up to 38 significant digits, magnitude from 10^-128 to 10^+126. */
  numberMaxDigits: 38,
  numberMinExponent: -128,
  numberMaxExponent: 126,
} as const;

export const AttributeBaseTypes = ["String", "Number", "Binary"] as const;
export type AttributeBaseType = (typeof AttributeBaseTypes)[number];

/** One attribute: its type and its value, base64 for a Binary type. */
export interface MessageAttribute {
  type: string;
  value: string;
}
export type MessageAttributes = Record<string, MessageAttribute>;

/** `Number.float` → `Number`; null when the type has none of the three base types. */
export function baseTypeOf(type: string): AttributeBaseType | null {
  const base = type.split(".", 1)[0];
  return (AttributeBaseTypes as readonly string[]).includes(base!) ? (base as AttributeBaseType) : null;
}

const AttributeNamePattern = /^[A-Za-z0-9_.-]+$/;
const ReservedNamePrefix = /^(aws|amazon)\./i;

/** Why a name is not an attribute name, or null when it is one. */
export function attributeNameProblem(name: string): string | null {
  if (name.length === 0 || name.length > MessageAttributeLimits.nameMaxLength) {
    return `is 1 to ${MessageAttributeLimits.nameMaxLength} characters`;
  }
  if (!AttributeNamePattern.test(name)) return "may hold only letters, digits, '_', '-' and '.'";
  if (name.startsWith(".") || name.endsWith(".") || name.includes("..")) return "may not start or end with '.' nor hold '..'";
  if (ReservedNamePrefix.test(name)) return "may not start with 'AWS.' or 'Amazon.' (reserved)";
  return null;
}

const SqsNumber = /^[+-]?(\d+)?(?:\.(\d*))?(?:[eE]([+-]?\d{1,6}))?$/;

/** Whether `text` is a number SQS accepts in a Number attribute. */
export function isAttributeNumber(text: string): boolean {
  const match = SqsNumber.exec(text);
  if (!match || (match[1] === undefined && !match[2])) return false;
  const whole = match[1] ?? "";
  const digits = `${whole}${match[2] ?? ""}`;
  const first = digits.search(/[1-9]/);
  if (first === -1) return true; // zero
  const significant = digits.slice(first).replace(/0+$/, "").length;
  if (significant > MessageAttributeLimits.numberMaxDigits) return false;
  // The decimal exponent of the leading significant digit: 12.5 → 1, 0.05 → -2, 3e4 → 4.
  const exponent = whole.length - 1 - first + Number(match[3] ?? "0");
  return exponent >= MessageAttributeLimits.numberMinExponent && exponent <= MessageAttributeLimits.numberMaxExponent;
}

const Base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Bytes a base64 text decodes to. */
export function base64ByteLength(text: string): number {
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

const textEncoder = new TextEncoder();

/**
 * What attributes add to a message's size, as SQS counts it against the maximum message size:
 * for each, the UTF-8 bytes of its name and type and the bytes of its value (decoded, for Binary).
 */
export function attributeBytes(attributes: MessageAttributes | undefined): number {
  let bytes = 0;
  for (const [name, { type, value }] of Object.entries(attributes ?? {})) {
    bytes += textEncoder.encode(name).byteLength + textEncoder.encode(type).byteLength;
    bytes += baseTypeOf(type) === "Binary" ? base64ByteLength(value) : textEncoder.encode(value).byteLength;
  }
  return bytes;
}

const AttributeValue = v.pipe(
  v.strictObject({
    type: v.pipe(
      v.string(),
      v.maxLength(MessageAttributeLimits.typeMaxLength),
      headerSafe("type"),
      v.check((type) => baseTypeOf(type) !== null && !/^[A-Za-z]+\.$/.test(type), "the type is String, Number or Binary, optionally followed by '.' and a custom label (Number.float)"),
      v.description("`String`, `Number` or `Binary`, optionally with a custom label: `Number.float`, `Binary.gif`"),
    ),
    value: v.pipe(
      v.string(),
      v.minLength(1, "an attribute value is not empty"),
      v.description("the value as text: a String's text, a Number's digits (`-1.5e3`), a Binary's bytes in base64"),
    ),
  }),
  v.check(
    ({ type, value }) => baseTypeOf(type) !== "Number" || isAttributeNumber(value),
    "a Number attribute's value is a decimal number of at most 38 significant digits, from 10^-128 to 10^126 in magnitude",
  ),
  v.check(({ type, value }) => baseTypeOf(type) !== "Binary" || Base64.test(value), "a Binary attribute's value is base64 (RFC 4648, with padding)"),
);

/** Keys a JavaScript object cannot hold as plain data; the record schema would drop them silently. */
const UnstorableKeys = ["__proto__", "constructor", "prototype"];

export const MessageAttributesSchema = v.pipe(
  v.unknown(),
  v.check(
    (input) => !Array.isArray(input) && (input === null || typeof input !== "object" || !UnstorableKeys.some((key) => Object.hasOwn(input, key))),
    (issue) => (Array.isArray(issue.input) ? "expected an object of attributes by name, not a list" : "the attribute names __proto__, constructor and prototype are not accepted"),
  ),
  v.record(
    v.pipe(
      v.string(),
      v.check((name) => attributeNameProblem(name) === null, (issue) => `attribute name '${issue.input}' ${attributeNameProblem(issue.input as string)}`),
    ),
    AttributeValue,
  ),
  v.check(
    (attributes) => Object.keys(attributes).length <= MessageAttributeLimits.perMessage,
    (issue) => `${Object.keys(issue.input as object).length} attributes; a message has at most ${MessageAttributeLimits.perMessage}`,
  ),
  v.description(
    "up to 10 typed attributes by name: `{\"color\": {\"type\": \"String\", \"value\": \"red\"}, \"price\": {\"type\": \"Number.float\", \"value\": \"9.5\"}, \"thumb\": {\"type\": \"Binary\", \"value\": \"iVBORw0=\"}}`; names, types and values count toward the size limit",
  ),
);

/** Attributes as a message row stores them: JSON, or null when there are none. */
export function encodeAttributes(attributes: MessageAttributes | undefined): string | null {
  return attributes && Object.keys(attributes).length > 0 ? JSON.stringify(attributes) : null;
}

export function decodeAttributes(stored: string | null | undefined): MessageAttributes {
  return stored ? (JSON.parse(stored) as MessageAttributes) : {};
}
