/**
 * @module
 * A forwarded request body, streamed to the origin (never buffered), held to what its
 * Content-Length announced: a client that sends more or less is cut off (forward.ts answers
 * 400), so the origin never acts on a body other than the one announced.
 */
/**
 * The request body as the origin receives it, streamed chunk by chunk (never buffered), with
 * a record of whether the CLIENT failed to send it: the connection dropped mid-body, or the
 * body ended before (or ran past) the Content-Length it announced. When that happens the
 * stream sent on errors too, so the origin never gets a cut body that looks complete, and
 * the gateway can answer 400 instead of blaming the origin with a 502. With a declared length
 * the origin gets the same Content-Length (FixedLengthStream); without one, a chunked body.
 */
export type GuardedBody = {
  stream: ReadableStream<Uint8Array>;
  clientFailure: () => string | undefined;
  /** Aborted when the client's body fails: the origin request is torn down, not ended. */
  signal: AbortSignal;
};

export function guardBody(body: ReadableStream<Uint8Array>, declared: number | undefined): GuardedBody {
  const reader = body.getReader();
  const aborter = new AbortController();
  let received = 0;
  let failure: string | undefined;
  // The stream sent on is not errored: an error inside the runtime's upload pump is reported
  // as an uncaught exception (an error-level line anyone could raise). Aborting the origin
  // request instead tears its connection down (the origin's read fails, nothing looks whole)
  // and cancels this stream, which cancels the client's.
  const fail = (message: string) => {
    failure = message;
    reader.cancel().catch(() => {});
    aborter.abort();
  };
  const guarded = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch {
          fail("The request body could not be read to its end (the connection was closed)");
          return;
        }
        if (chunk.done) {
          if (declared !== undefined && received !== declared) {
            fail(`The request body is ${received} bytes; its Content-Length announced ${declared}`);
          } else {
            controller.close();
          }
          return;
        }
        received += chunk.value.byteLength;
        // Checked before the chunk goes on, so the origin never gets the announced length whole.
        if (declared !== undefined && received > declared) {
          fail(`The request body is longer than its Content-Length (${declared} bytes)`);
          return;
        }
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        return reader.cancel(reason).catch(() => {});
      },
    },
    // Nothing read ahead: one chunk is in flight at a time, whatever the size of the upload.
    { highWaterMark: 0 },
  );
  const result = { clientFailure: () => failure, signal: aborter.signal };
  if (declared === undefined) return { stream: guarded, ...result };
  const fixed = new FixedLengthStream(declared);
  // Ends when the origin request is aborted (or completes); nothing of it is the caller's.
  guarded.pipeTo(fixed.writable).catch(() => {});
  return { stream: fixed.readable as ReadableStream<Uint8Array>, ...result };
}
