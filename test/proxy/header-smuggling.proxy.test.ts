import { beforeEach, describe, expect, it } from "vitest";
import { SEED, signIn } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { call } from "../support/gateway";
import { TEST_ORIGIN_SECRET } from "./config";
import { clearOrigin, originRequests } from "./support";

/**
 * Headers a caller sends to change what the origin believes: hop-by-hop headers that make a
 * compliant hop between the gateway and the origin delete the gateway's own headers, and
 * forwarding headers that claim another client address. The origin (test/proxy/origin)
 * records exactly what it received.
 */

useFreshWorld();
beforeEach(clearOrigin);

const hopByHop = {
  Connection: "keep-alive, X-Gateway-Secret, X-Clerk-User-Id, X-Clerk-Session-Id, X-Custom-Dropped",
  "Keep-Alive": "timeout=5",
  "Proxy-Connection": "keep-alive",
  "Proxy-Authorization": "Basic dXNlcjpwYXNz",
  TE: "deflate",
  Trailer: "X-Late",
  "X-Custom-Dropped": "named by Connection",
  "X-Custom-Kept": "kept",
};

const spoofedAddress = {
  "X-Forwarded-For": "10.0.0.1, 127.0.0.1",
  Forwarded: "for=127.0.0.1;host=admin.internal;proto=https",
  "X-Real-IP": "127.0.0.1",
  "True-Client-IP": "127.0.0.1",
};

describe("hop-by-hop headers stop at the gateway", () => {
  it("Connection cannot nominate the gateway's headers; hop-by-hop headers and the ones it names are not passed on", async () => {
    const alice = await signIn("alice");
    const response = await call("/api/me", { token: alice.token, headers: hopByHop });
    expect(response.status).toBe(200);
    const [seen] = await originRequests();
    expect(seen?.headers).toMatchObject({
      "x-gateway-secret": TEST_ORIGIN_SECRET,
      "x-clerk-user-id": SEED.users.alice.id,
      "x-clerk-session-id": alice.session_id,
      "x-custom-kept": "kept",
    });
    for (const name of ["connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer"]) {
      expect(seen?.headers[name], name).toBeUndefined();
    }
    expect(seen?.headers["x-custom-dropped"]).toBeUndefined();
  });

  it("TE: trailers alone passes (gRPC origins require it); any other TE does not", async () => {
    await call("/public/page", { headers: { TE: "trailers" } });
    await call("/public/page", { headers: { TE: "gzip, trailers" } });
    const [trailers, other] = await originRequests();
    expect(trailers?.headers.te).toBe("trailers");
    expect(other?.headers.te).toBeUndefined();
  });

  it("on a public path too", async () => {
    await call("/public/page", { headers: hopByHop });
    const [seen] = await originRequests();
    expect(seen?.headers["x-gateway-secret"]).toBe(TEST_ORIGIN_SECRET);
    expect(seen?.headers.connection).toBeUndefined();
    expect(seen?.headers["proxy-authorization"]).toBeUndefined();
  });

  it("a refused caller sending them still never reaches the origin", async () => {
    const response = await call("/api/me", { headers: { ...hopByHop, ...spoofedAddress } });
    expect(response.status).toBe(401);
    expect(await originRequests()).toEqual([]);
  });
});

describe("the client's address is the gateway's to say", () => {
  it("X-Forwarded-For and X-Real-IP carry CF-Connecting-IP; the caller's Forwarded and True-Client-IP are dropped", async () => {
    const alice = await signIn("alice");
    await call("/api/me", {
      token: alice.token,
      headers: { ...spoofedAddress, "CF-Connecting-IP": "203.0.113.7" },
    });
    const [seen] = await originRequests();
    expect(seen?.headers["x-forwarded-for"]).toBe("203.0.113.7");
    expect(seen?.headers["x-real-ip"]).toBe("203.0.113.7");
    expect(seen?.headers.forwarded).toBeUndefined();
    expect(seen?.headers["true-client-ip"]).toBeUndefined();
  });

  it("without a known address, none of the caller's claims is passed on (public path)", async () => {
    await call("/public/page", { headers: spoofedAddress });
    const [seen] = await originRequests();
    for (const name of ["x-forwarded-for", "forwarded", "x-real-ip", "true-client-ip"]) {
      expect(seen?.headers[name], name).toBeUndefined();
    }
  });
});
