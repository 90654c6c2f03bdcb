import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SessionDirectory } from "../../../src/revocation/session-directory";
import { kvKeys } from "../../../src/storage/kv-schema";
import {
  clearCalls,
  freshToken,
  setSessionStatus,
  signIn,
  upstreamCalls,
  type WebhookDelivery,
  webhookDeliveries,
} from "../../../test/support/emulator";
import { coldIsolate, useFreshWorld } from "../../../test/support/fresh-world";
import app from "../src/index";

/**
 * The example app with the SessionDirectory it hosts (wrangler.toml binds it as AUTH_DIRECTORY,
 * src/index.ts re-exports the class and maps the name). A session revoked through the mounted
 * gateway, or by a signed webhook to it, is refused on /api/* by an isolate that never learnt
 * of it and whose KV never shows the marker (KV not propagated yet, as KV documents for up to
 * 60 s): what refuses it there is the user's object alone.
 */
const ORIGIN = "https://api.example.test";

/** An isolate in another location: nothing in memory, and KV reads of revocation markers never see one. */
async function elsewhere(path: string, token: string): Promise<Response> {
  coldIsolate();
  const ctx = createExecutionContext();
  const request = new Request(new URL(path, ORIGIN), { headers: { Authorization: `Bearer ${token}` } });
  const response = await app.fetch(request, { ...env, AUTH_KV: markersNeverArrive(env.AUTH_KV) }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

function call(path: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
  const { token, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  return exports.default.fetch(new Request(new URL(path, ORIGIN), { ...rest, headers }));
}

function markersNeverArrive(kv: KVNamespace): KVNamespace {
  return new Proxy(kv, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property !== "get" && property !== "getWithMetadata") {
        return typeof value === "function" ? value.bind(target) : value;
      }
      return (key: unknown, ...rest: unknown[]) => {
        if (typeof key === "string" && key.startsWith(kvKeys.revoked(""))) {
          return Promise.resolve(property === "get" ? null : { value: null, metadata: null, cacheStatus: null });
        }
        return (value as (...args: unknown[]) => unknown).call(target, key, ...rest);
      };
    },
  });
}

/** The user's object's revocation rows, read from its SQLite storage. */
function storedRevocations(userId: string) {
  const stub = env.AUTH_DIRECTORY.get(env.AUTH_DIRECTORY.idFromName(userId));
  return runInDurableObject(stub, (_instance: SessionDirectory, state) =>
    state.storage.sql.exec("SELECT session_id, status, source FROM revoked ORDER BY session_id").toArray(),
  );
}

async function expectRefusedWithoutClerk(response: Promise<Response>) {
  await clearCalls();
  const refused = await response;
  expect(refused.status).toBe(401);
  expect(((await refused.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe(
    "authentication_invalid",
  );
  expect(await upstreamCalls()).toBe(0);
}

useFreshWorld();

describe("the app's SessionDirectory is the revocation authority on /api/*", () => {
  it("a revoke through the mounted gateway: recorded in the user's object, refused elsewhere though KV never shows it", async () => {
    const laptop = await signIn("alice");
    const phone = await signIn("alice");
    const phoneToken = await freshToken(phone.session_id);
    // The other location has seen the session as valid: "not revoked" is all it knows.
    expect((await elsewhere("/api/me", phoneToken)).status).toBe(200);

    const revoke = await call(`/clerk/v1/me/sessions/${phone.session_id}/revoke`, {
      method: "POST",
      token: laptop.token,
    });
    expect(revoke.status).toBe(200);
    // Reported done only once the object recorded it.
    expect(await storedRevocations(phone.user_id)).toEqual([
      { session_id: phone.session_id, status: "revoked", source: "gateway" },
    ]);

    await expectRefusedWithoutClerk(elsewhere("/api/me", phoneToken));
    await expectRefusedWithoutClerk(elsewhere("/api/notes", phoneToken));
    // The same app with the same slow KV but without the objects would still accept it: the objects made the difference.
    coldIsolate();
    const ctx = createExecutionContext();
    const kvOnly = await app.fetch(
      new Request(new URL("/api/me", ORIGIN), { headers: { Authorization: `Bearer ${phoneToken}` } }),
      { ...env, AUTH_KV: markersNeverArrive(env.AUTH_KV), AUTH_DIRECTORY: undefined, AUTH_REVOCATION_LOG: undefined },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(kvOnly.status).toBe(200);
    // The revoking device still works everywhere.
    expect((await elsewhere("/api/me", laptop.token)).status).toBe(200);
  });

  it("a signed session.revoked webhook to the mounted gateway: recorded in the object, refused elsewhere at once", async () => {
    const phone = await signIn("bob");
    const token = await freshToken(phone.session_id);
    expect((await elsewhere("/api/me", token)).status).toBe(200);

    await setSessionStatus(phone.session_id, "revoked");
    const delivery: WebhookDelivery | undefined = (await webhookDeliveries("session.revoked")).at(-1);
    if (!delivery) throw new Error("no session.revoked delivery");
    const applied = await call("/clerk/webhooks/clerk", {
      method: "POST",
      headers: { "content-type": "application/json", ...delivery.headers },
      body: delivery.body,
    });
    expect(applied.status).toBe(200);
    expect(await storedRevocations(phone.user_id)).toEqual([
      { session_id: phone.session_id, status: "revoked", source: "webhook" },
    ]);

    await expectRefusedWithoutClerk(elsewhere("/api/me", token));
    // Every KV trace wiped as well: the object alone still refuses it.
    await env.AUTH_KV.delete(kvKeys.revoked(phone.session_id));
    await expectRefusedWithoutClerk(elsewhere("/api/notes", token));
  });
});
