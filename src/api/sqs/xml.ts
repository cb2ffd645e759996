import type { QueryMember, QueryShape } from "./query-shapes";

/** The namespace of every SQS query answer. */
export const SqsXmlNamespace = "http://queue.amazonaws.com/doc/2012-11-05/";
export const XmlContentType = "text/xml";

/** Characters XML 1.0 allows (https://www.w3.org/TR/xml/#charsets), the same SQS allows in a body. */
const NeedsEscape = /[&<>"\r]|[^\t\n\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const Escapable = /[&<>"\r]|[^\t\n\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const Entities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#xD;" };

/**
 * Text as XML character data. A carriage return is written `&#xD;`, as SQS writes it, because an
 * XML parser turns a literal one into a line feed; a character XML cannot carry at all (a control
 * character in an error message that quotes the request) becomes U+FFFD rather than breaking the
 * document.
 */
export function escapeXml(text: string): string {
  if (!NeedsEscape.test(text)) return text;
  return text.replace(Escapable, (char) => Entities[char] ?? "\uFFFD");
}

export const element = (name: string, content: string): string => `<${name}>${content}</${name}>`;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The shape of a member the table does not list, from its value: no member of an answer is dropped. */
function inferredShape(value: unknown): QueryShape {
  if (Array.isArray(value)) return { kind: "list", member: inferredShape(value[0]) };
  if (isRecord(value)) return { kind: "structure", members: {} };
  return { kind: "string" };
}

/** The members of a structure, each as the element(s) its shape makes. */
export function encodeMembers(value: Record<string, unknown>, members: Readonly<Record<string, QueryMember>>): string {
  let xml = "";
  for (const [name, memberValue] of Object.entries(value)) {
    if (memberValue === undefined || memberValue === null) continue;
    const member = members[name];
    xml += encodeValue(member?.location ?? name, memberValue, member?.shape ?? inferredShape(memberValue));
  }
  return xml;
}

/** One JSON value as XML named `name`: lists and maps flattened, as every SQS list and map is. */
function encodeValue(name: string, value: unknown, shape: QueryShape): string {
  switch (shape.kind) {
    case "list":
      return (value as unknown[]).map((item) => encodeValue(name, item, shape.member)).join("");
    case "map":
      return Object.entries(value as Record<string, unknown>)
        .map(([key, item]) => element(name, element(shape.keyName, escapeXml(key)) + encodeValue("Value", item, shape.value)))
        .join("");
    case "structure":
      return element(name, encodeMembers(value as Record<string, unknown>, shape.members));
    default:
      return element(name, escapeXml(String(value)));
  }
}
