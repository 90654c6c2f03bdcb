import { describe, expect, it } from "vitest";
import * as hono from "../src/hono";
import * as root from "../src/package";

/**
 * The package's runtime exports, by name: adding one is a decision, removing one breaks users.
 * Change these lists on purpose, with the CHANGELOG, never to make a failure go away.
 */
describe("the package's exports", () => {
  it("clerk-session-gateway", () => {
    expect(Object.keys(root).sort()).toEqual([
      "ApiError",
      "MAX_BODY_BYTES",
      "MAX_WEBHOOK_BODY_BYTES",
      "RevocationLog",
      "SessionDirectory",
      "checkSessionToken",
      "createGatewayApp",
      "gatewayEnv",
      "isRevoked",
      "loadConfig",
      "markRevoked",
      "parseConfig",
      "verifySessionToken",
    ]);
  });

  it("clerk-session-gateway/hono", () => {
    expect(Object.keys(hono).sort()).toEqual(["clerkMiddleware", "getAuth", "requireAuth", "sessionGateway"]);
  });
});
