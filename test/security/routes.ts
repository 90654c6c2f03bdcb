/**
 * Every gateway route, for suites that must cover all of them (revocation, authorization
 * matrix, fuzzing). `sid` fills `{session_id}`; bodies are the smallest valid ones.
 */
import { decodeJwt } from "jose";
import { expect } from "vitest";
import { clearCalls, SEED, type SignedIn, upstreamCalls } from "../support/emulator";
import { type CallOptions, errorBody } from "../support/gateway";

export type RouteCase = { name: string; method: "GET" | "POST"; path: string; json?: unknown };

export function everyRoute(sid: string, userId: string = SEED.users.alice.id): RouteCase[] {
  return [
    { name: "GET /v1/me/sessions/active", method: "GET", path: "/v1/me/sessions/active" },
    { name: "GET /v1/me/sessions", method: "GET", path: "/v1/me/sessions" },
    { name: "POST /v1/me/sessions/{id}/revoke", method: "POST", path: `/v1/me/sessions/${sid}/revoke` },
    { name: "GET /v1/sessions", method: "GET", path: `/v1/sessions?user_id=${userId}` },
    { name: "POST /v1/sessions", method: "POST", path: "/v1/sessions", json: { user_id: userId } },
    { name: "GET /v1/sessions/{id}", method: "GET", path: `/v1/sessions/${sid}` },
    { name: "POST /v1/sessions/{id}/revoke", method: "POST", path: `/v1/sessions/${sid}/revoke` },
    { name: "POST /v1/sessions/{id}/tokens", method: "POST", path: `/v1/sessions/${sid}/tokens` },
    {
      name: "POST /v1/sessions/{id}/tokens/{template}",
      method: "POST",
      path: `/v1/sessions/${sid}/tokens/supabase`,
    },
  ];
}

/** The revoked session's token on every route of `via` (and as refresh's expired_token): all 401, none reaches Clerk. */
export async function expectRefusedEverywhere(
  via: (path: string, options?: CallOptions) => Promise<Response>,
  device: SignedIn,
  token: string,
) {
  expect(decodeJwt(token).exp).toBeGreaterThan(Date.now() / 1000);
  await clearCalls();
  for (const route of everyRoute(device.session_id)) {
    const response = await via(route.path, {
      method: route.method,
      token,
      ...(route.json ? { json: route.json } : {}),
    });
    expect(response.status, route.name).toBe(401);
    expect((await errorBody(response)).errors[0]?.code).toBe("authentication_invalid");
  }
  const refresh = await via(`/v1/sessions/${device.session_id}/refresh`, {
    method: "POST",
    json: { expired_token: token, refresh_token: device.refresh_token, request_origin: "http://localhost:8787" },
  });
  expect(refresh.status, "refresh").toBe(401);
  expect(await upstreamCalls()).toBe(0);
}

/** `who` signs out of their own session through `via`: it goes through, and reaches Clerk exactly once. */
export async function expectSignOutReachesClerk(
  via: (path: string, options: CallOptions) => Promise<Response>,
  who: SignedIn,
): Promise<void> {
  const signOut = await via(`/v1/me/sessions/${who.session_id}/revoke`, { method: "POST", token: who.token });
  expect(signOut.status).toBe(200);
  expect(await upstreamCalls({ method: "POST", path: `/v1/sessions/${who.session_id}/revoke` })).toBe(1);
}
