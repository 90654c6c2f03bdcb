/**
 * Clerk's handshake end to end: an app on @clerk/hono (development instance, `pk_test_`) gets a
 * document navigation it cannot judge (no dev browser, or a stale `__session`), redirects the
 * browser to the emulator's `GET /v1/client/handshake`, which redirects back with
 * `__clerk_handshake_nonce` (or `__clerk_handshake`); the app resolves it (nonce: through the
 * Backend API's `/v1/clients/handshake_payload`) and sets a fresh session cookie.
 */
import { Hono } from "hono";
import { createLocalJWKSet, decodeJwt, type JSONWebKeySet, jwtVerify } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_API_URL, TEST_ISSUER, TEST_PUBLISHABLE_KEY, TEST_SECRET_KEY } from "../support/config";
import { clerkBrowser, emulatorCalls, expiredToken, SEED, setSessionStatus } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { json } from "./support";

useFreshWorld();

const APP_ORIGIN = "https://app.example.test";
const S = SEED.sessions;
let app: Hono;

beforeAll(async () => {
  const { clerkMiddleware, getAuth } = await import("@clerk/hono");
  app = new Hono();
  app.use(
    "*",
    clerkMiddleware({ publishableKey: TEST_PUBLISHABLE_KEY, secretKey: TEST_SECRET_KEY, apiUrl: TEST_API_URL }),
  );
  app.get("/", (c) => {
    const auth = getAuth(c);
    return c.json({ userId: auth.userId, sessionId: auth.sessionId });
  });
});

/** A browser: one cookie jar per host, document navigations, redirects followed by hand. */
class Browser {
  readonly jar = new Map<string, Map<string, string>>();
  readonly visited: string[] = [];

  cookies(host: string): Map<string, string> {
    let jar = this.jar.get(host);
    if (!jar) {
      jar = new Map();
      this.jar.set(host, jar);
    }
    return jar;
  }

  set(host: string, name: string, value: string): void {
    this.cookies(host).set(name, value);
  }

  private store(host: string, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const cleared = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (cleared || value === "") this.cookies(host).delete(name);
      else this.cookies(host).set(name, value);
    }
  }

  async navigate(start: string): Promise<Response> {
    let url = new URL(start);
    for (let hop = 0; hop < 10; hop++) {
      this.visited.push(url.toString());
      const cookie = [...this.cookies(url.host)].map(([k, v]) => `${k}=${v}`).join("; ");
      const headers = {
        accept: "text/html,application/xhtml+xml",
        "sec-fetch-dest": "document",
        "user-agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/131.0.0.0 Safari/537.36",
        ...(cookie ? { cookie } : {}),
      };
      const response =
        url.origin === APP_ORIGIN
          ? await app.request(url.toString(), { headers }, {})
          : await fetch(url, { headers, redirect: "manual" });
      this.store(url.host, response);
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || !location) return response;
      await response.body?.cancel();
      url = new URL(location, url);
    }
    throw new Error(`too many redirects: ${this.visited.join(" → ")}`);
  }
}

describe("the handshake with @clerk/hono", () => {
  it("gives a new browser a dev browser and a signed-out state", async () => {
    const browser = new Browser();
    const response = await browser.navigate(`${APP_ORIGIN}/`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ userId: null, sessionId: null });
    const handshake = new URL(browser.visited[1] ?? "");
    expect(handshake.origin).toBe(TEST_ISSUER);
    expect(handshake.pathname).toBe("/v1/client/handshake");
    expect(handshake.searchParams.get("__clerk_hs_reason")).toBe("dev-browser-missing");
    expect(new URL(browser.visited[2] ?? "").searchParams.get("__clerk_handshake_nonce")).toBeTruthy();
    expect(browser.cookies("app.example.test").get("__clerk_db_jwt")).toBeTruthy();
    expect(browser.cookies("app.example.test").get("__client_uat")).toBe("0");
  });

  it("turns a stale __session into a fresh one for the browser's client", async () => {
    const { dev_browser } = await clerkBrowser(S.aliceDesktop.client_id);
    const stale = await expiredToken(S.aliceDesktop.id);
    const browser = new Browser();
    browser.set("app.example.test", "__clerk_db_jwt", dev_browser);
    browser.set("app.example.test", "__session", stale);
    browser.set("app.example.test", "__client_uat", String((decodeJwt(stale).iat ?? 0) - 10));

    const response = await browser.navigate(`${APP_ORIGIN}/`);
    expect(await response.json()).toEqual({ userId: SEED.users.alice.id, sessionId: S.aliceDesktop.id });
    const fresh = browser.cookies("app.example.test").get("__session") ?? "";
    expect(fresh).not.toBe(stale);
    expect(decodeJwt(fresh)).toMatchObject({ sid: S.aliceDesktop.id, azp: APP_ORIGIN });
    expect(new URL(browser.visited[1] ?? "").searchParams.get("__clerk_hs_reason")).toContain("session-token-expired");

    const calls = await emulatorCalls();
    expect(calls.map((c) => `${c.api} ${c.method} ${c.path}`)).toEqual(
      expect.arrayContaining(["fapi GET /v1/client/handshake", "bapi GET /v1/clients/handshake_payload"]),
    );
    // The nonce is good once.
    const nonce = calls.find((c) => c.path === "/v1/clients/handshake_payload")?.search ?? "";
    const replay = await fetch(`${TEST_API_URL}/v1/clients/handshake_payload${nonce}`, {
      headers: { authorization: `Bearer ${TEST_SECRET_KEY}` },
    });
    expect(replay.status).toBe(404);
  });

  it("signs the browser out when its session was revoked in Clerk", async () => {
    const { dev_browser } = await clerkBrowser(S.bobDesktop.client_id);
    const stale = await expiredToken(S.bobDesktop.id);
    await setSessionStatus(S.bobDesktop.id, "revoked");
    const browser = new Browser();
    browser.set("app.example.test", "__clerk_db_jwt", dev_browser);
    browser.set("app.example.test", "__session", stale);
    browser.set("app.example.test", "__client_uat", String((decodeJwt(stale).iat ?? 0) - 10));
    const response = await browser.navigate(`${APP_ORIGIN}/`);
    expect(await response.json()).toEqual({ userId: null, sessionId: null });
    expect(browser.cookies("app.example.test").has("__session")).toBe(false);
  });

  it("answers format=token with a signed __clerk_handshake JWT of Set-Cookie directives, which @clerk/hono resolves", async () => {
    const { dev_browser } = await clerkBrowser(S.carolDesktop.client_id);
    const query = new URLSearchParams({
      redirect_url: `${APP_ORIGIN}/`,
      format: "token",
      suffixed_cookies: "true",
      __clerk_db_jwt: dev_browser,
    });
    const response = await fetch(`${TEST_ISSUER}/v1/client/handshake?${query}`, { redirect: "manual" });
    expect(response.status).toBe(307);
    const back = new URL(response.headers.get("location") ?? "");
    const token = back.searchParams.get("__clerk_handshake") ?? "";
    const jwks = await json<JSONWebKeySet>(await fetch(`${TEST_ISSUER}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: TEST_ISSUER });
    const directives = payload.handshake as string[];
    // Suffixed and unsuffixed names, as the SDK asked.
    expect(directives.filter((d) => d.startsWith("__session")).length).toBe(2);
    expect(directives.some((d) => /^__client_uat_[A-Za-z0-9_-]{8}=/.test(d))).toBe(true);

    const browser = new Browser();
    browser.set("app.example.test", "__clerk_db_jwt", dev_browser);
    const resolved = await browser.navigate(back.toString());
    expect(await resolved.json()).toEqual({ userId: SEED.users.carol.id, sessionId: S.carolDesktop.id });
  });

  it("answers Clerk's errors for a handshake without redirect_url", async () => {
    const response = await fetch(`${TEST_ISSUER}/v1/client/handshake?format=nonce`, { redirect: "manual" });
    expect(response.status).toBe(422);
    expect((await json<{ errors: Array<{ code: string }> }>(response)).errors[0]?.code).toBe("form_param_missing");
  });
});
