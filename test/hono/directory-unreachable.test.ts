import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { afterEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { clerkMiddleware, getAuth, requireAuth } from "../../src/hono";
import type { DirectoryNamespace } from "../../src/revocation/directory-client";
import { DIRECTORY_FALLBACK_MAX_MS } from "../../src/revocation/revocations";
import { clearCalls, signIn, tokenWith, upstreamCalls } from "../support/emulator";
import { captureConsole, useFreshWorld } from "../support/fresh-world";

/**
 * The middleware when the user's SessionDirectory object cannot be reached (docs/directory.md,
 * "When the object cannot be reached"): within DIRECTORY_FALLBACK_MAX_MS the check falls back to
 * KV markers as on the gateway's routes; past it the session is never signed in, and
 * requireAuth() answers 503 with Retry-After in Clerk's envelope itself, so an app's onError
 * (here one that would turn any exception into a 200) never decides what a caller gets.
 */

type Envelope = { errors: Array<{ code: string; long_message: string }> };

useFreshWorld();
const capture = captureConsole();

const clocks: MockInstance[] = [];
afterEach(() => {
  for (const clock of clocks.splice(0)) clock.mockRestore();
});

function directory() {
  const namespace = env.SESSION_DIRECTORY;
  if (!namespace) throw new Error("SESSION_DIRECTORY is bound in wrangler.toml");
  return namespace;
}

/** A namespace whose objects never answer (an object being reset, an unreachable location). */
function unreachable(): DirectoryNamespace {
  const fail = () => Promise.reject(new Error("Durable Object reset because its code was updated."));
  const stub = { isRevoked: fail, recordRevoked: fail, claimWebhook: fail };
  return {
    idFromName: (name: string) => directory().idFromName(name),
    get: () => stub,
  } as unknown as DirectoryNamespace;
}

/** An app as a user writes it, with an error handler that would hide any exception as a 200. */
function app() {
  const target = new Hono();
  target.onError((_error, c) => c.json({ handledBy: "app.onError" }, 200));
  target.use("*", clerkMiddleware({ bindings: { SESSION_DIRECTORY: "BROKEN_DIRECTORY" } }));
  target.get("/whoami", (c) => {
    const auth = getAuth(c);
    return c.json(auth.isAuthenticated ? { userId: auth.userId } : { userId: null, reason: auth.debug().reason });
  });
  target.get("/private", requireAuth(), (c) => c.json({ userId: getAuth(c).userId }));
  return target;
}

const bindings = { ...env, BROKEN_DIRECTORY: unreachable() };
const get = (target: Hono, path: string, token: string) =>
  target.request(`https://app.example.test${path}`, { headers: { Authorization: `Bearer ${token}` } }, bindings);

describe("clerkMiddleware with the user's SessionDirectory unreachable", () => {
  it("falls back to KV within the bound; past it: signed out, and requireAuth answers 503 + Retry-After, not the app's onError", async () => {
    const device = await signIn("dave");
    const issued = Math.floor(Date.now() / 1000);
    // Outlives the clock jump below (a minted long-lived token).
    const token = await tokenWith(device.session_id, { iat: issued, nbf: issued - 10, exp: issued + 3_600 });
    const target = app();

    const start = Date.now();
    const now = vi.spyOn(Date, "now");
    clocks.push(now);
    now.mockReturnValue(start);
    const inside = await get(target, "/private", token);
    expect(inside.status).toBe(200);
    expect(await inside.json()).toEqual({ userId: device.user_id });
    expect(capture.json().filter((line) => line.msg === "directory_unreachable_fallback")).toHaveLength(1);

    now.mockReturnValue(start + DIRECTORY_FALLBACK_MAX_MS + 1_000);
    await clearCalls();
    const refused = await get(target, "/private", token);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("Retry-After")).toBe("5");
    expect(refused.headers.get("Cache-Control")).toBe("private, no-store");
    const body = (await refused.json()) as Envelope;
    expect(body.errors[0]?.code).toBe("directory_unavailable");
    expect(body.errors[0]?.long_message).toBeTypeOf("string");

    // A public route serves the caller as anonymous: never as the user, never an exception.
    const open = await get(target, "/whoami", token);
    expect(open.status).toBe(200);
    expect(await open.json()).toEqual({ userId: null, reason: "directory_unavailable" });
    expect(await upstreamCalls()).toBe(0);
    expect(capture.json().filter((line) => line.msg === "directory_unreachable_refused")).toHaveLength(2);
    // Not counted as a failed attempt by the caller.
    expect(capture.json().filter((line) => line.msg === "auth_signed_out")).toHaveLength(0);
  });
});
