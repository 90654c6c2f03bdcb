/**
 * Every gateway route, for suites that must cover all of them (revocation, authorization
 * matrix, fuzzing). `sid` fills `{session_id}`; bodies are the smallest valid ones.
 */
import { SEED } from "../support/emulator";

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
