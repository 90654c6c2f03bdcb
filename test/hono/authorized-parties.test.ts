import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { clerkMiddleware, getAuth, requireAuth } from "../../src/hono";
import { clearCalls, SEED, tokenWith, upstreamCalls } from "../support/emulator";
import { captureConsole, useFreshWorld } from "../support/fresh-world";

/**
 * CLERK_AUTHORIZED_PARTIES unset, as `@clerk/hono` apps run: `azp` is not checked (a browser's
 * token is let in as `@clerk/hono` lets it in), the isolate warns once naming the setting, and a
 * cookie-authenticated write must still come from the app's own origin. Set, it is checked.
 */

useFreshWorld();
const capture = captureConsole({ print: false });

const APP = "https://app.example.test";
const unset = { ...env, CLERK_AUTHORIZED_PARTIES: undefined };

function app(options: Parameters<typeof clerkMiddleware>[0] = {}) {
  const app = new Hono();
  app.use("*", clerkMiddleware(options));
  app.get("/whoami", (c) => {
    const auth = getAuth(c);
    return c.json(auth.isAuthenticated ? { userId: auth.userId } : { userId: null, reason: auth.debug().reason });
  });
  app.post("/notes", requireAuth(), (c) => c.json({ userId: getAuth(c).userId }));
  return app;
}

const aliceWithAzp = (azp: string) => tokenWith(SEED.sessions.aliceDesktop.id, { azp });
const warnings = () => capture.json().filter((line) => line.msg === "authorized_parties_unset");

describe("authorized parties unset: azp not checked, one warning", () => {
  it("lets a token with any azp in, and warns once per isolate naming the setting", async () => {
    const target = app();
    for (const azp of ["https://app.example.test", "https://elsewhere.example"]) {
      const token = await aliceWithAzp(azp);
      const res = await target.request(`${APP}/whoami`, { headers: { Authorization: `Bearer ${token}` } }, unset);
      expect(await res.json()).toEqual({ userId: SEED.users.alice.id });
    }
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({ level: "warn", setting: "CLERK_AUTHORIZED_PARTIES" });
  });

  it("a cookie-authenticated write is taken from the app's own origin only, and a refused one calls no one", async () => {
    const target = app();
    const token = await aliceWithAzp(APP);
    const post = (origin: string | undefined) =>
      target.request(
        `${APP}/notes`,
        { method: "POST", headers: { Cookie: `__session=${token}`, ...(origin ? { Origin: origin } : {}) } },
        unset,
      );
    expect((await post(APP)).status).toBe(200);
    clearCalls();
    for (const origin of ["https://evil.example", "https://sub.app.example.test", undefined]) {
      const res = await post(origin);
      expect(res.status).toBe(403);
      expect((await res.json()) as unknown).toMatchObject({ errors: [{ code: "authorization_invalid" }] });
    }
    expect(await upstreamCalls()).toBe(0);
  });

  it("set, in the environment or the options, azp is checked and nothing is said", async () => {
    const token = await aliceWithAzp("https://elsewhere.example");
    const viaEnv = await app().request(`${APP}/whoami`, { headers: { Authorization: `Bearer ${token}` } }, env);
    expect(await viaEnv.json()).toEqual({ userId: null, reason: "azp_not_allowed" });
    const viaOptions = await app({ authorizedParties: [APP] }).request(
      `${APP}/whoami`,
      { headers: { Authorization: `Bearer ${token}` } },
      unset,
    );
    expect(await viaOptions.json()).toEqual({ userId: null, reason: "azp_not_allowed" });
    expect(warnings()).toHaveLength(0);
  });
});
