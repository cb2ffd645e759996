import { ErrorCode, ServiceError } from "../errors";

/** Largest request body read; a batch's bodies are bounded to 1 MiB, JSON escaping may add to it. */
export const MaxRequestBodyBytes = 4 * 1024 * 1024;

export function jsonResponse(body: unknown, status: number, headers?: HeadersInit): Response {
  const response = new Response(JSON.stringify(body), { status, headers });
  response.headers.set("content-type", "application/json; charset=utf-8");
  return response;
}

/**
 * Reads a body up to `maxBytes`. Content-Length is trusted only without Transfer-Encoding
 * (RFC 9112 §6.3); otherwise the streamed bytes are counted, so a chunked body cannot slip past.
 */
export async function readBodyText(request: Request, maxBytes = MaxRequestBodyBytes): Promise<string> {
  const declared = request.headers.has("transfer-encoding") ? null : request.headers.get("content-length");
  const declaredBytes = declared === null ? Number.NaN : Number(declared);
  if (declaredBytes > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return "";
  // With a length the HTTP layer holds the body to, the runtime reads it in one native step.
  const bytes = Number.isSafeInteger(declaredBytes) ? new Uint8Array(await request.arrayBuffer()) : await readCapped(request.body, maxBytes);
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new ServiceError(ErrorCode.MalformedRequest, "request body is not valid UTF-8");
  }
}

const tooLarge = (maxBytes: number) => new ServiceError(ErrorCode.RequestTooLarge, `request body is over ${maxBytes} bytes`);

const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Reads a stream of unknown length, counting bytes as they come, refusing it past `maxBytes`. */
async function readCapped(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Parses a JSON body; an empty body is `{}` where the route allows it (`emptyAllowed`), else refused. */
export function parseJsonText(text: string, emptyAllowed = true): unknown {
  if (text.trim() === "") {
    if (emptyAllowed) return {};
    throw new ServiceError(ErrorCode.MalformedRequest, "request body is required: send a JSON object");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ServiceError(
      ErrorCode.MalformedRequest,
      `request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
