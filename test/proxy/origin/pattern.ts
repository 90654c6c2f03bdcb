/**
 * @module
 * The byte pattern of the proxy tests' large bodies: byte `i` is `i % 251`, so either side
 * can recompute a body's hash without keeping a copy. Shared by the recording origin (its
 * downloads) and the tests (their uploads).
 */

/** A stream of `total` bytes of the pattern, in chunks, with no length known up front. */
export function patternStream(total: number, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) {
        controller.close();
        return;
      }
      const size = Math.min(chunk, total - sent);
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = (sent + i) % 251;
      sent += size;
      controller.enqueue(bytes);
    },
  });
}
