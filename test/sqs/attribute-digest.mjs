import { createHash } from "node:crypto";

/**
 * SQS's MD5OfMessageAttributes (SQS Developer Guide, "Calculating the MD5 message digest for
 * message attributes"), computed with Node's own MD5 to check the service's: names sorted; for
 * each, the length-prefixed (4 bytes, big-endian) name and type, one transport byte (1 for String
 * and Number, 2 for Binary) and the length-prefixed value.
 */
export function md5OfMessageAttributes(attributes) {
  const hash = createHash("md5");
  const withLength = (bytes) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.byteLength);
    hash.update(length);
    hash.update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const { DataType, StringValue, BinaryValue } = attributes[name];
    withLength(Buffer.from(name, "utf8"));
    withLength(Buffer.from(DataType, "utf8"));
    const isBinary = DataType.startsWith("Binary");
    hash.update(Uint8Array.of(isBinary ? 2 : 1));
    withLength(isBinary ? BinaryValue : Buffer.from(StringValue, "utf8"));
  }
  return hash.digest("hex");
}
