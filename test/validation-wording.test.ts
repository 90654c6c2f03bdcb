import { describe, expect, it } from "vitest";
import { clearCalls, SEED, upstreamCalls } from "./support/emulator";
import { useFreshWorld } from "./support/fresh-world";
import { call, errorBody, SERVICE_KEY } from "./support/gateway";

/**
 * A body the gateway cannot read is named for what it is, not reported as a missing field:
 * JSON without `Content-Type: application/json`, and JSON that is not an object. Nothing reaches Clerk.
 */

useFreshWorld();

async function rejected(init: RequestInit) {
  await clearCalls();
  const response = await call("/v1/sessions", { method: "POST", serviceKey: SERVICE_KEY, ...init });
  expect(response.status).toBe(400);
  const error = (await errorBody(response)).errors[0];
  expect(error?.code).toBe("form_param_invalid");
  expect(await upstreamCalls()).toBe(0);
  return error;
}

const body = JSON.stringify({ user_id: SEED.users.alice.id });

describe("request bodies the gateway cannot read", () => {
  it("JSON sent without a JSON content type (curl -d alone) says so", async () => {
    for (const type of [undefined, "application/x-www-form-urlencoded", "text/plain"]) {
      const headers: Record<string, string> = type ? { "Content-Type": type } : {};
      const error = await rejected({ body, headers });
      expect(error?.meta, String(type)).toEqual({ param_name: "body" });
      expect(error?.long_message).toContain("Content-Type: application/json");
    }
  });

  it("a JSON array is not an object", async () => {
    for (const array of ["[]", "[1]", JSON.stringify([{ user_id: SEED.users.alice.id }])]) {
      const error = await rejected({ body: array, headers: { "Content-Type": "application/json" } });
      expect(error?.meta).toEqual({ param_name: "body" });
      expect(error?.long_message).toBe("The request body must be a JSON object");
    }
    const scalar = await rejected({ body: "42", headers: { "Content-Type": "application/json" } });
    expect(scalar?.long_message).toBe("The request body must be a JSON object");
  });

  it("broken JSON is reported as such", async () => {
    const error = await rejected({ body: "{", headers: { "Content-Type": "application/json" } });
    expect(error?.meta).toEqual({ param_name: "body" });
    expect(error?.long_message).toBe("The request body is not valid JSON");
  });

  it("a JSON object with a JSON content type (charset too) still goes through", async () => {
    const response = await call("/v1/sessions", {
      method: "POST",
      serviceKey: SERVICE_KEY,
      body,
      headers: { "Content-Type": "application/json; charset=utf-8" },
    });
    expect(response.status).toBe(200);
  });
});
