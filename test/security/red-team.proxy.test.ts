import { describe, expect, it } from "vitest";
import { TEST_BASE_PATH } from "../proxy/config";
import { clearOrigin, originRequests } from "../proxy/support";
import { emulatorCalls, setSessionStatus, signIn } from "../support/emulator";
import { coldIsolate, useFreshWorld } from "../support/fresh-world";
import { call, SERVICE_KEY } from "../support/gateway";

/**
 * The red team's long-lived-token finding through the proxy front door (ORIGIN_URL): the proxy
 * authenticates with the same resolvePrincipal, without the gateway's per-request services,
 * so the session-status check must work there too.
 */

useFreshWorld();

describe("2. (proxy mode) a long-lived token cannot outlive its session at the origin either", () => {
  it("a day-long token of a session that expired without a webhook is refused before the origin, after one status read", async () => {
    await clearOrigin();
    const alice = await signIn("alice");
    const minted = await call(`${TEST_BASE_PATH}/v1/sessions/${alice.session_id}/tokens`, {
      method: "POST",
      serviceKey: SERVICE_KEY,
      json: { expires_in_seconds: 86_400 },
    });
    expect(minted.status).toBe(200);
    const { jwt } = (await minted.json()) as { jwt: string };

    expect((await call("/api/orders", { token: jwt })).status).toBe(200);
    expect(await originRequests()).toHaveLength(1);

    await setSessionStatus(alice.session_id, "expired");
    // The status read while active is remembered briefly; a cold isolate asks again.
    coldIsolate();
    await clearOrigin();
    const refused = await call("/api/orders", { token: jwt });
    expect(refused.status).toBe(401);
    expect(await originRequests()).toEqual([]);
    expect((await emulatorCalls({ method: "GET", path: `/v1/sessions/${alice.session_id}` })).length).toBe(2);
  });
});
