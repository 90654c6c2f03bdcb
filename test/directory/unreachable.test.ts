import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { backgroundSettled } from "../../src/core/wait-until";
import { DIRECTORY_TIMEOUT_MS, type DirectoryNamespace } from "../../src/revocation/directory-client";
import type { RevocationLogNamespace } from "../../src/revocation/recent";
import { DIRECTORY_FALLBACK_MAX_MS, isRevokedHere } from "../../src/revocation/revocations";
import type { SessionDirectory } from "../../src/revocation/session-directory";
import { kvKeys } from "../../src/storage/kv-schema";
import { directory, directoryObject } from "../support/directory";
import {
  clearCalls,
  clerkSession,
  setSessionStatus,
  signIn,
  upstreamCalls,
  webhookDeliveries,
} from "../support/emulator";
import { captureConsole, useFreshWorld } from "../support/fresh-world";
import { call, errorBody, kvJson, SERVICE_KEY } from "../support/gateway";
import { callKvOnly, callWith } from "./locations";

/**
 * When the user's SessionDirectory object cannot be reached (an object being reset, an
 * overloaded or unreachable location), the gateway never fails open silently:
 * - the revocation check falls back to KV markers (the weaker, KV-only bound) for at most
 *   DIRECTORY_FALLBACK_MAX_MS per user and isolate, each time with a warning log line and
 *   `directory: "fallback"` in the request log; past that, the user's requests get 503
 *   `directory_unavailable` (`directory: "refused"`) until the object answers again;
 * - a revoke Clerk confirmed but the object could not record is answered 503 (not "done");
 * - a webhook delivery that cannot be claimed is answered 503 and changes nothing (Svix retries).
 */

useFreshWorld();

afterEach(() => {
  for (const clock of clocks.splice(0)) clock.mockRestore();
});

/** A namespace whose objects never answer: every call rejects, or hangs until the gateway's deadline. */
function unreachable(mode: "reject" | "hang"): DirectoryNamespace {
  const fail = () =>
    mode === "reject"
      ? Promise.reject(new Error("Durable Object reset because its code was updated."))
      : new Promise<never>(() => undefined);
  const stub = { isRevoked: fail, recordRevoked: fail, claimWebhook: fail };
  return {
    idFromName: (name: string) => directory().idFromName(name),
    get: () => stub,
  } as unknown as DirectoryNamespace;
}

const capture = captureConsole();

/** The gateway's structured log lines of the current test. */
const logs = {
  requests: () => capture.json().filter((line) => line.msg === "request" && line.route === "/v1/me/sessions/active"),
  named: (msg: string) => capture.json().filter((line) => line.msg === msg),
  errors: () => capture.json().filter((line) => line.level === "error"),
};

/** Date.now, moved by the test; restored after it. */
const clocks: MockInstance[] = [];
function fakeNow() {
  const spy = vi.spyOn(Date, "now");
  clocks.push(spy);
  return spy;
}

function revocations(userId: string) {
  const stub = directoryObject(userId);
  return runInDurableObject(stub, (_instance: SessionDirectory, state) =>
    state.storage.sql.exec("SELECT session_id, source FROM revoked").toArray(),
  );
}

/**
 * A session token that outlives the fake clock jumps below (service-minted, one hour). Tests that
 * move Date.now each use a user of their own: KV writes made at a moved clock space later writes
 * to the same keys (one per second per key), so a user's keys are not reused at the real clock.
 */
async function hourToken(sessionId: string): Promise<string> {
  const minted = await call(`/v1/sessions/${sessionId}/tokens`, {
    method: "POST",
    serviceKey: SERVICE_KEY,
    json: { expires_in_seconds: 3600 },
  });
  expect(minted.status).toBe(200);
  return ((await minted.json()) as { jwt: string }).jwt;
}

describe("the revocation check when the object cannot be reached", () => {
  it("falls back to KV markers, with a warning and directory=fallback in the request log", async () => {
    // Without the revocation log: Clerk's 60 s tokens take the per-user check (as long-lived ones always do).
    const broken = callWith({ SESSION_DIRECTORY: unreachable("reject"), REVOCATION_LOG: undefined });
    const active = await signIn("alice");
    const revokedElsewhere = await signIn("alice");
    // A marker another location wrote (docs/kv-schema.md): the fallback still honours it.
    await env.SESSION_CACHE.put(
      kvKeys.revoked(revokedElsewhere.session_id),
      JSON.stringify({ revoked_at: Date.now(), status: "revoked", source: "gateway" }),
      { expirationTtl: 3600 },
    );

    expect((await broken("/v1/me/sessions/active", { token: active.token })).status).toBe(200);
    await clearCalls();
    const refused = await broken("/v1/me/sessions/active", { token: revokedElsewhere.token });
    expect(refused.status).toBe(401);
    expect(await upstreamCalls()).toBe(0);

    expect(logs.requests().map((line) => line.directory)).toEqual(["fallback", "fallback"]);
    const warnings = logs.named("directory_unreachable_fallback");
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({ level: "warn", user_id: active.user_id, session_id: active.session_id });
    expect(warnings[0]?.fallback_max_ms).toBe(DIRECTORY_FALLBACK_MAX_MS);
    expect(logs.errors()).toEqual([]);
  });

  it("an object that does not answer is given up on after DIRECTORY_TIMEOUT_MS", async () => {
    const hanging = callWith({ SESSION_DIRECTORY: unreachable("hang"), REVOCATION_LOG: undefined });
    const device = await signIn("alice");
    const started = Date.now();
    expect((await hanging("/v1/me/sessions/active", { token: device.token })).status).toBe(200);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(DIRECTORY_TIMEOUT_MS);
    expect(took).toBeLessThan(DIRECTORY_TIMEOUT_MS + 2_000);
    expect(logs.requests()[0]?.directory).toBe("fallback");
  });

  it("past DIRECTORY_FALLBACK_MAX_MS of failures the user's requests get 503 until the object answers again", async () => {
    const device = await signIn("dave");
    const token = await hourToken(device.session_id);
    const broken = callWith({ SESSION_DIRECTORY: unreachable("reject") });
    const healthy = callWith({});

    const start = Date.now();
    const now = fakeNow();
    now.mockReturnValue(start);
    expect((await broken("/v1/me/sessions/active", { token })).status).toBe(200);
    // Still failing just inside the bound: still the fallback (the 1 s "not revoked" memory has passed).
    now.mockReturnValue(start + DIRECTORY_FALLBACK_MAX_MS - 1);
    expect((await broken("/v1/me/sessions/active", { token })).status).toBe(200);

    now.mockReturnValue(start + DIRECTORY_FALLBACK_MAX_MS + 1_000);
    await clearCalls();
    const refused = await broken("/v1/me/sessions/active", { token });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("Retry-After")).toBe("5");
    expect((await errorBody(refused)).errors[0]?.code).toBe("directory_unavailable");
    expect(await upstreamCalls()).toBe(0);
    expect(logs.requests().map((line) => line.directory)).toEqual(["fallback", "fallback", "refused"]);
    expect(logs.named("directory_unreachable_refused")).toHaveLength(1);
    expect(logs.errors()).toEqual([]);

    // The object answers again: accepted, and the run of failures is over.
    now.mockReturnValue(start + DIRECTORY_FALLBACK_MAX_MS + 3_000);
    expect((await healthy("/v1/me/sessions/active", { token })).status).toBe(200);
    now.mockReturnValue(start + DIRECTORY_FALLBACK_MAX_MS + 5_000);
    expect((await broken("/v1/me/sessions/active", { token })).status).toBe(200);
    expect(logs.requests().at(-1)?.directory).toBe("fallback");
  });

  it("one user's unreachable object does not refuse another user", async () => {
    const carol = await signIn("carol");
    const bob = await signIn("bob");
    const carolToken = await hourToken(carol.session_id);
    const bobToken = await hourToken(bob.session_id);
    const broken = callWith({ SESSION_DIRECTORY: unreachable("reject") });
    const start = Date.now();
    const now = fakeNow();
    now.mockReturnValue(start);
    expect((await broken("/v1/me/sessions/active", { token: carolToken })).status).toBe(200);
    now.mockReturnValue(start + DIRECTORY_FALLBACK_MAX_MS + 1_000);
    expect((await broken("/v1/me/sessions/active", { token: carolToken })).status).toBe(503);
    expect((await broken("/v1/me/sessions/active", { token: bobToken })).status).toBe(200);
  });
});

describe("writes when the object cannot be reached", () => {
  it("a revoke Clerk confirmed but the object could not record is 503, refused here and marked in KV; a retry completes it", async () => {
    const broken = callWith({ SESSION_DIRECTORY: unreachable("reject") });
    const device = await signIn("alice");

    const revoke = await broken(`/v1/sessions/${device.session_id}/revoke`, {
      method: "POST",
      serviceKey: SERVICE_KEY,
    });
    expect(revoke.status).toBe(503);
    expect((await errorBody(revoke)).errors[0]?.code).toBe("directory_unavailable");
    expect((await clerkSession(device.session_id)).status).toBe("revoked");
    // Not reported done, but not forgotten either: this isolate and KV refuse it already.
    expect(isRevokedHere(device.session_id)).toBe(true);
    await backgroundSettled();
    expect(await kvJson(kvKeys.revoked(device.session_id))).toMatchObject({ status: "revoked", source: "gateway" });
    expect(await revocations(device.user_id)).toEqual([]);
    expect(logs.named("directory_record_failed")).toHaveLength(1);
    expect(logs.named("audit")[0]).toMatchObject({
      outcome: "error",
      status: 503,
      error_code: "directory_unavailable",
    });

    const retry = await call(`/v1/sessions/${device.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
    expect(retry.status).toBe(200);
    expect(await revocations(device.user_id)).toEqual([{ session_id: device.session_id, source: "gateway" }]);
    expect(logs.errors()).toEqual([]);
  });

  it("a webhook that cannot be claimed is 503 and applies nothing; Svix's next attempt applies it", async () => {
    const broken = callWith({ SESSION_DIRECTORY: unreachable("reject") });
    const device = await signIn("alice");
    await setSessionStatus(device.session_id, "revoked");
    const delivery = (await webhookDeliveries("session.revoked")).at(-1);
    if (!delivery) throw new Error("no delivery");
    const deliver = (via: typeof call) =>
      via("/webhooks/clerk", { method: "POST", headers: delivery.headers, body: delivery.body });

    const first = await deliver(broken);
    expect(first.status).toBe(503);
    expect((await errorBody(first)).errors[0]?.code).toBe("directory_unavailable");
    expect(await kvJson(kvKeys.revoked(device.session_id))).toBeNull();
    expect(await kvJson(kvKeys.webhook(delivery.id))).toBeNull();
    expect(logs.named("webhook_applied")).toEqual([]);

    const retry = await deliver(call);
    expect(retry.status).toBe(200);
    expect(await revocations(device.user_id)).toEqual([{ session_id: device.session_id, source: "webhook" }]);
    expect(logs.errors()).toEqual([]);
  });
});

describe("writes when the revocation log cannot take the append", () => {
  /** A revocation log whose every replica rejects every call. */
  const brokenLog = () => {
    const fail = () => Promise.reject(new Error("the revocation log cannot be reached (test)"));
    const stub = { since: fail, append: fail };
    return { idFromName: (name: string) => name, get: () => stub } as unknown as RevocationLogNamespace;
  };
  const inLog = async (sessionId: string) => {
    const namespace = env.REVOCATION_LOG;
    if (!namespace) throw new Error("REVOCATION_LOG is bound in wrangler.toml");
    const answer = await namespace.get(namespace.idFromName("revocation-log:enam")).since(0, null);
    return answer.entries.some((entry) => entry.sid === sessionId);
  };

  it("a revoke is 503 (not reported done) after the directory recorded it; a retry appends it", async () => {
    const device = await signIn("alice");
    const revoke = await callWith({ REVOCATION_LOG: brokenLog() })(`/v1/sessions/${device.session_id}/revoke`, {
      method: "POST",
      serviceKey: SERVICE_KEY,
    });
    expect(revoke.status).toBe(503);
    expect((await errorBody(revoke)).errors[0]?.code).toBe("directory_unavailable");
    expect(await revocations(device.user_id)).toEqual([{ session_id: device.session_id, source: "gateway" }]);
    expect(logs.named("revocation_log_append_failed")).toHaveLength(1);
    expect(await inLog(device.session_id)).toBe(false);
    const retry = await call(`/v1/sessions/${device.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
    expect(retry.status).toBe(200);
    expect(await inLog(device.session_id)).toBe(true);
  });

  it("a webhook claimed but not appended is 503; Svix's next copy is 409 and completes the append", async () => {
    const device = await signIn("alice");
    await setSessionStatus(device.session_id, "revoked");
    const delivery = (await webhookDeliveries("session.revoked")).at(-1);
    if (!delivery) throw new Error("no delivery");
    const deliver = (via: typeof call) =>
      via("/webhooks/clerk", { method: "POST", headers: delivery.headers, body: delivery.body });

    const first = await deliver(callWith({ REVOCATION_LOG: brokenLog() }));
    expect(first.status).toBe(503);
    expect(await revocations(device.user_id)).toEqual([{ session_id: device.session_id, source: "webhook" }]);
    expect(await inLog(device.session_id)).toBe(false);
    const retry = await deliver(call);
    expect(retry.status).toBe(409);
    expect(await inLog(device.session_id)).toBe(true);
  });
});

describe("deployments without the SESSION_DIRECTORY binding keep today's KV-only behaviour", () => {
  const kvOnly = callWith({ SESSION_DIRECTORY: undefined, REVOCATION_LOG: undefined });

  it("a revoke is refused at once here, written to KV, and nothing goes to an object", async () => {
    const device = await signIn("alice");
    const revoke = await kvOnly(`/v1/sessions/${device.session_id}/revoke`, {
      method: "POST",
      serviceKey: SERVICE_KEY,
    });
    expect(revoke.status).toBe(200);
    expect(isRevokedHere(device.session_id)).toBe(true);
    expect(await kvJson(kvKeys.revoked(device.session_id))).toMatchObject({ source: "gateway" });
    expect(await revocations(device.user_id)).toEqual([]);
    await clearCalls();
    expect((await kvOnly("/v1/me/sessions/active", { token: device.token })).status).toBe(401);
    expect(await upstreamCalls()).toBe(0);
  });

  it("another isolate without the binding refuses once KV has the marker (KV's bound, not the object's)", async () => {
    const device = await signIn("alice");
    expect((await callKvOnly("/v1/me/sessions/active", { token: device.token })).status).toBe(200);
    expect(
      (await call(`/v1/sessions/${device.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY })).status,
    ).toBe(200);
    // Local KV is one store, so only the 1 s "not revoked" memory is waited out here; in production
    // this is KV's propagation (up to 60 s, REVOCATION_READ_CACHE_TTL_SECONDS of cached "no marker" included).
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    await clearCalls();
    expect((await callKvOnly("/v1/me/sessions/active", { token: device.token })).status).toBe(401);
    expect(await upstreamCalls()).toBe(0);
  });
});
