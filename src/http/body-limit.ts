import { createMiddleware } from "hono/factory";
import { ApiError, payloadTooLarge } from "../core/errors";
import type { AppEnv } from "./app-env";

/**
 * Reads a request's body once, before any route sees it, bounded to `maxBytes`, and leaves it
 * in Hono's body cache, so every later `c.req.text()` / `json()` (validation, the webhook
 * signature check) reads memory and can no longer fail mid-stream.
 *
 * A body the client did not finish sending (the connection dropped, or fewer bytes than its
 * Content-Length arrived) is the client's doing: a 400 in Clerk's envelope, not a 500 with an
 * error-level log line that anyone could raise on purpose. Whatever the route, a cut body is
 * never acted on, even when the part that arrived happens to parse.
 */
export const readBody = (maxBytes: number) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const raw = c.req.raw;
    if (!raw.body) return next();
    const declared = declaredLength(raw.headers);
    // Refused before a byte is read when the size is announced; counted as it arrives otherwise.
    if (declared !== undefined && declared > maxBytes) throw payloadTooLarge(maxBytes);

    const reader = raw.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) {
          reader.cancel().catch(() => {});
          throw payloadTooLarge(maxBytes);
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw incompleteBody("The request body could not be read to its end (the connection was closed)");
    }
    if (declared !== undefined && size !== declared) {
      throw incompleteBody(`The request body is ${size} bytes; its Content-Length announced ${declared}`);
    }

    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    // Hono caches bodies as promises (typed loosely as Body); text() and json() read the cached text.
    const cache = c.req.bodyCache as { text?: Promise<string>; arrayBuffer?: Promise<ArrayBuffer> };
    cache.text = Promise.resolve(new TextDecoder().decode(bytes));
    cache.arrayBuffer = Promise.resolve(bytes.buffer);
    await next();
  });

/** The Content-Length a request announced, when it means something (not with Transfer-Encoding, RFC 9112 §6.3). */
export function declaredLength(headers: Headers): number | undefined {
  if (headers.has("transfer-encoding")) return undefined;
  const value = headers.get("content-length")?.trim();
  return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

/** A body the client did not finish sending: its fault, a 4xx (also used by the proxy's uploads). */
export const incompleteBody = (longMessage: string) =>
  new ApiError(400, [
    { code: "request_body_incomplete", message: "Request body incomplete", long_message: longMessage },
  ]);
