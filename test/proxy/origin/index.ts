/**
 * A real origin for the proxy tests: an auxiliary Worker that records every request it
 * receives and answers in the ways an origin can (echo, streamed upload and download,
 * any status, redirect, slow, dropped connection).
 *
 * It is also the proxy-mode gateway's outbound service: requests for hosts under
 * `origin.test` are the origin's; everything else (the gateway's calls to Clerk) is handed
 * on to the Clerk emulator, so no test can reach the real network.
 */

export interface OriginEnv {
  CLERK: Fetcher;
}

export type ReceivedRequest = {
  host: string;
  method: string;
  path: string;
  search: string;
  /** Header names as the origin saw them, lower-cased by the runtime. */
  headers: Record<string, string>;
  bytes: number;
  sha256: string | null;
};

import { DOWN_HOST, ORIGIN_HOST } from "../config";
import { patternStream } from "./pattern";

const received: ReceivedRequest[] = [];
/** What `/compressed` sends, gzip-encoded. */
const COMPRESSIBLE = "compressible ".repeat(100);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function digest(body: ReadableStream<Uint8Array> | null): Promise<{ bytes: number; sha256: string | null }> {
  if (!body) return { bytes: 0, sha256: null };
  // Read chunk by chunk: a 5 MB upload is checked without holding more than the hash state and one chunk.
  const hasher = new crypto.DigestStream("SHA-256");
  let bytes = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  await body.pipeThrough(counter).pipeTo(hasher);
  const hash = [...new Uint8Array(await hasher.digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { bytes, sha256: hash };
}

async function origin(request: Request, url: URL): Promise<Response> {
  if (url.pathname === "/__origin/requests") {
    if (request.method === "DELETE") received.length = 0;
    return Response.json({ requests: received });
  }
  const record: ReceivedRequest = {
    host: url.host,
    method: request.method,
    path: url.pathname,
    search: url.search,
    headers: Object.fromEntries(request.headers),
    bytes: 0,
    sha256: null,
  };
  received.push(record);
  // Thrown, the caller's fetch() fails like a reset connection (workerd logs it as uncaught).
  if (url.host === DOWN_HOST) throw new Error("test origin: connection dropped (fault injection)");
  if (url.pathname === "/first-chunk") {
    // Answers after the first chunk of the upload: only possible if the gateway streams it.
    const reader = (request.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    reader.releaseLock();
    return Response.json({ first: first.value?.byteLength ?? 0 });
  }
  if (url.pathname === "/drip") {
    const chunks = Number(url.searchParams.get("chunks") ?? "3");
    const gap = Number(url.searchParams.get("gap") ?? "300");
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent > 0) await sleep(gap);
        controller.enqueue(new Uint8Array(1024).fill(sent));
        if (++sent === chunks) controller.close();
      },
    });
    return new Response(body, { headers: { "Content-Type": "application/octet-stream" } });
  }
  Object.assign(record, await digest(request.body));

  const status = /^\/status\/(\d{3})$/.exec(url.pathname);
  if (status) {
    const code = Number(status[1]);
    return new Response(code === 204 || code === 304 ? null : `origin says ${code}`, {
      status: code,
      headers: {
        "Content-Type": "text/plain",
        "Cache-Control": "public, max-age=60",
        "Set-Cookie": "origin_cookie=1; Path=/; HttpOnly",
        "Retry-After": "7",
        "X-Origin": "yes",
      },
    });
  }
  if (url.pathname === "/compressed") {
    // Compressed whatever the request asked for, as origins behind Cloudflare are asked for.
    const body = new Blob([COMPRESSIBLE]).stream().pipeThrough(new CompressionStream("gzip"));
    return new Response(body, {
      headers: { "Content-Type": "text/plain", "Content-Encoding": "gzip" },
      encodeBody: "manual",
    });
  }
  if (url.pathname === "/redirect") {
    return new Response(null, { status: 302, headers: { Location: "/after-redirect" } });
  }
  if (url.pathname === "/slow") {
    await sleep(Number(url.searchParams.get("ms") ?? "5000"));
    return new Response("slow answer");
  }
  if (url.pathname === "/download") {
    const total = Number(url.searchParams.get("bytes") ?? "0");
    return new Response(patternStream(total), { headers: { "Content-Type": "application/octet-stream" } });
  }
  const echo = JSON.stringify(record);
  return new Response(request.method === "HEAD" ? null : echo, {
    headers: {
      "Content-Type": "application/json",
      "Content-Length": String(new TextEncoder().encode(echo).byteLength),
      "X-Origin": "yes",
    },
  });
}

export default {
  async fetch(request: Request, env: OriginEnv): Promise<Response> {
    const url = new URL(request.url);
    if (url.host === ORIGIN_HOST || url.host.endsWith(`.${ORIGIN_HOST}`)) return origin(request, url);
    return env.CLERK.fetch(request);
  },
} satisfies ExportedHandler<OriginEnv>;
