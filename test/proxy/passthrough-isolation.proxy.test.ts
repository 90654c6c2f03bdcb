import { beforeEach, describe, expect, it } from "vitest";
import { clearFaults, emulatorCalls, SEED, setFault, signIn } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { call, SERVICE_KEY } from "../support/gateway";
import { TEST_BASE_PATH } from "./config";

/**
 * Clerk limits some Backend-API endpoints on their own (a user's metadata: 10 per 10 s per
 * user; invitations: 100 an hour) and answers 429 with a Retry-After for that endpoint
 * alone. A service reaching such a limit through BAPI_PASSTHROUGH must not make the
 * gateway stop calling Clerk for everyone else: the sign-outs, revokes and refreshes of
 * every user of the isolate.
 */

useFreshWorld();
beforeEach(clearFaults);

const V1 = `${TEST_BASE_PATH}/v1`;

describe("an endpoint's own 429 on a forwarded call blocks that endpoint only", () => {
  it("a user's sign-out still reaches Clerk after a service met a users endpoint's limit", async () => {
    const alice = await signIn("alice");
    await setFault({ path: "/v1/users/*", mode: "429", retry_after_seconds: 50 });
    const limited = await call(`${V1}/users/${SEED.users.alice.id}`, { serviceKey: SERVICE_KEY });
    expect(limited.status).toBe(429);
    await clearFaults();

    const signOut = await call(`${V1}/me/sessions/${alice.session_id}/revoke`, { method: "POST", token: alice.token });
    expect(signOut.status).toBe(200);
    expect(await emulatorCalls({ path: `/v1/sessions/${alice.session_id}/revoke` })).toHaveLength(1);

    // The endpoint Clerk limited stays blocked for its Retry-After: refused without a call.
    const again = await call(`${V1}/users/${SEED.users.alice.id}`, { serviceKey: SERVICE_KEY });
    expect(again.status).toBe(429);
    expect(await emulatorCalls({ path: "/v1/users/*" })).toHaveLength(1);
  });

  it("another forwarded resource is not blocked either", async () => {
    await setFault({ path: "/v1/users/*", mode: "429", retry_after_seconds: 50 });
    expect((await call(`${V1}/users/${SEED.users.alice.id}`, { serviceKey: SERVICE_KEY })).status).toBe(429);
    await clearFaults();
    const orgs = await call(`${V1}/organizations`, { serviceKey: SERVICE_KEY });
    expect(orgs.status).not.toBe(429);
    expect(await emulatorCalls({ path: "/v1/organizations" })).toHaveLength(1);
  });
});
