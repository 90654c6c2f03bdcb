/**
 * Every gateway route, for suites that must cover all of them (revocation, authorization
 * matrix, fuzzing). `sid` fills `{session_id}`; bodies are the smallest valid ones.
 */
import { decodeJwt } from "jose";
import { expect } from "vitest";
import { OPERATIONS } from "../../src/api/openapi";
import { clearCalls, SEED, type SignedIn, upstreamCalls } from "../support/emulator";
import { type CallOptions, errorBody } from "../support/gateway";

export type RouteCase = { name: string; method: "GET" | "POST"; path: string; json?: unknown };

/**
 * The smallest valid request of each operation a user or a service authenticates for, by
 * operationId. The list of operations is OPERATIONS (src/api/openapi.ts), the one route table:
 * an authenticated operation added there without a sample here fails every suite that uses it.
 */
const SAMPLES: Record<string, (sid: string, userId: string) => { query?: string; json?: unknown; template?: string }> =
  {
    listMyActiveSessions: () => ({}),
    listMySessions: () => ({}),
    revokeMySession: () => ({}),
    listSessions: (_sid, userId) => ({ query: `?user_id=${userId}` }),
    createSession: (_sid, userId) => ({ json: { user_id: userId } }),
    getSession: () => ({}),
    revokeSession: () => ({}),
    createSessionToken: () => ({}),
    createTemplateToken: () => ({ template: "supabase" }),
  };

export function everyRoute(sid: string, userId: string = SEED.users.alice.id): RouteCase[] {
  return OPERATIONS.filter((op) => op.callers.includes("user") || op.callers.includes("service")).map((op) => {
    const sample = SAMPLES[op.operationId];
    if (!sample) throw new Error(`test/security/routes.ts: no sample request for ${op.operationId}`);
    const { query = "", json, template } = sample(sid, userId);
    const path = op.path.replace("{session_id}", sid).replace("{template_name}", template ?? "") + query;
    const name = `${op.method.toUpperCase()} ${op.path.replace("{session_id}", "{id}").replace("{template_name}", "{template}")}`;
    return { name, method: op.method.toUpperCase() as RouteCase["method"], path, ...(json ? { json } : {}) };
  });
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
