import { base64url, decodeJwt, decodeProtectedHeader, exportSPKI, importJWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_ISSUER, TEST_SECRET_KEY, TEST_SERVICE_KEYS } from "../support/config";
import {
  clearCalls,
  EMULATOR_ORIGIN,
  SEED,
  type SignedIn,
  signClaims,
  signIn,
  upstreamCalls,
} from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";
import { call, errorBody, SERVICE_KEY } from "../support/gateway";

/**
 * Forged and misused tokens. Every one is refused with Clerk's 401 and costs no call to
 * Clerk: the JWKS is warmed once before the attacks (as in production, where it sits in
 * memory and KV), and the call log is cleared before each attack.
 */

const now = () => Math.floor(Date.now() / 1000);
let alice: SignedIn;
let valid: Record<string, unknown>;
let validHeader: Record<string, unknown>;
let publicJwk: JsonWebKey & { kid?: string };
let revoked: SignedIn;

/** The routes a token is tried on: browser read, backend read, backend write. */
const targets = (sid: string) => [
  { path: "/v1/me/sessions/active", method: "GET" },
  { path: `/v1/sessions?user_id=${SEED.users.alice.id}`, method: "GET" },
  { path: `/v1/sessions/${sid}/tokens`, method: "POST" },
];

async function expectRefused(token: string, how: "header" | "cookie" = "header") {
  await clearCalls();
  const sid = typeof valid.sid === "string" ? valid.sid : alice.session_id;
  for (const { path, method } of targets(sid)) {
    const response = await call(path, {
      method,
      ...(how === "header" ? { token } : { cookie: token, headers: { Origin: "http://localhost:8787" } }),
    });
    expect(response.status, `${method} ${path}`).toBe(401);
    expect((await errorBody(response)).errors[0]?.code).toBe("authentication_invalid");
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
  }
  expect(await upstreamCalls()).toBe(0);
}

/** A compact JWS built by hand, so header and signature can be anything. */
function compact(header: Record<string, unknown>, claims: Record<string, unknown>, signature = "") {
  const enc = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${enc(header)}.${enc(claims)}.${signature}`;
}

useFreshWorld("file");
beforeAll(async () => {
  alice = await signIn("alice");
  revoked = await signIn("alice");
  valid = decodeJwt(alice.token);
  validHeader = decodeProtectedHeader(alice.token);
  // Clerk's public key, as anyone can fetch it: the raw material of key-confusion attacks.
  const jwks = (await (
    await fetch(`${EMULATOR_ORIGIN}/v1/jwks`, { headers: { Authorization: `Bearer ${TEST_SECRET_KEY}` } })
  ).json()) as { keys: Array<JsonWebKey & { kid: string }> };
  publicJwk = jwks.keys[0] as JsonWebKey & { kid: string };
  // Warm the gateway's key store (and prove the genuine token works, so refusals below mean something).
  const ok = await call("/v1/me/sessions/active", { token: alice.token });
  expect(ok.status).toBe(200);
  const revoke = await call(`/v1/sessions/${revoked.session_id}/revoke`, { method: "POST", serviceKey: SERVICE_KEY });
  expect(revoke.status).toBe(200);
}, 60_000);

describe("a forged kid costs nothing: unknown keys are refused without a fetch inside the interval", () => {
  it("refuses a token whose kid is not Clerk's", async () => {
    await expectRefused(await signClaims(valid, { ...validHeader, kid: "ins_2someOtherInstance000000000" }));
  });

  it("refuses a token signed by another Clerk instance's key under its own kid and issuer", async () => {
    const { privateKey } = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const other = await new SignJWT({ ...valid, iss: "https://other-instance-7.clerk.accounts.dev" })
      .setProtectedHeader({ ...validHeader, alg: "RS256", kid: "ins_2otherInstanceKey00000000000" })
      .sign(privateKey);
    await expectRefused(other);
    // The same foreign key claiming this instance's kid fails the signature check instead.
    const sameKid = await new SignJWT(valid)
      .setProtectedHeader({ ...validHeader, alg: "RS256", kid: publicJwk.kid as string })
      .sign(privateKey);
    await expectRefused(sameKid);
  });
}, 60_000);

describe("only RS256 with Clerk's session category is accepted", () => {
  it("refuses alg none, with and without a signature", async () => {
    await expectRefused(compact({ ...validHeader, alg: "none" }, valid));
    await expectRefused(await signClaims(valid, { ...validHeader, alg: "none" }));
  });

  it("refuses HS256 signed with Clerk's public key (key confusion)", async () => {
    const key = await importJWK({ ...publicJwk, alg: "RS256" }, "RS256", { extractable: true });
    const pem = await exportSPKI(key as CryptoKey);
    for (const secret of [pem, pem.trim(), JSON.stringify(publicJwk)]) {
      const forged = await new SignJWT(valid)
        .setProtectedHeader({ ...validHeader, alg: "HS256" })
        .sign(new TextEncoder().encode(secret));
      await expectRefused(forged);
    }
  });

  it("refuses RS384, RS512, PS256 and ES256 headers", async () => {
    for (const alg of ["RS384", "RS512", "PS256", "ES256"]) {
      await expectRefused(await signClaims(valid, { ...validHeader, alg }));
    }
  });

  it("refuses a JWT-template token (template category, no sid)", async () => {
    const { sid: _sid, sts: _sts, v: _v, fva: _fva, ...templateClaims } = valid;
    await expectRefused(
      await signClaims({ ...templateClaims, role: "authenticated" }, { ...validHeader, cat: "cl_B7d4PD222AAA" }),
    );
    // Relabelled as a session token, it still lacks the sid a session token must carry.
    await expectRefused(await signClaims(templateClaims, validHeader));
  });

  it("refuses the M2M category and an unknown typ", async () => {
    await expectRefused(await signClaims(valid, { ...validHeader, cat: "cl_B7d4PD333AAA" }));
    await expectRefused(await signClaims(valid, { ...validHeader, typ: "at+jwt" }));
  });

  it("refuses unknown critical header parameters", async () => {
    await expectRefused(await signClaims(valid, { ...validHeader, crit: ["exp"], exp: 1 }));
  });
});

describe("the signature must cover exactly what was signed", () => {
  it("refuses a corrupted signature", async () => {
    await expectRefused(await signClaims(valid, validHeader, "invalid"));
  });

  it("refuses a stripped signature", async () => {
    const [h, p] = alice.token.split(".");
    await expectRefused(`${h}.${p}.`);
    await expectRefused(`${h}.${p}`);
  });

  it("refuses a tampered payload (another user's sub under alice's signature)", async () => {
    const [h, , s] = alice.token.split(".");
    const payload = base64url.encode(
      JSON.stringify({ ...valid, sub: SEED.users.bob.id, sid: SEED.sessions.bobDesktop.id }),
    );
    await expectRefused(`${h}.${payload}.${s}`);
  });
});

describe("claims pin the token to this instance, this app and now", () => {
  it("refuses another issuer (Clerk's own middleware does not check it)", async () => {
    await expectRefused(await signClaims({ ...valid, iss: "https://evil-hippo-66.clerk.accounts.dev" }, validHeader));
    await expectRefused(await signClaims({ ...valid, iss: `${TEST_ISSUER}/` }, validHeader));
    const { iss: _iss, ...noIssuer } = valid;
    await expectRefused(await signClaims(noIssuer, validHeader));
  });

  it("refuses an azp that is not an authorized party", async () => {
    await expectRefused(await signClaims({ ...valid, azp: "https://evil.example" }, validHeader));
    await expectRefused(await signClaims({ ...valid, azp: 42 }, validHeader));
  });

  it("refuses an expired token (beyond 5 s of skew)", async () => {
    const exp = now() - 30;
    await expectRefused(await signClaims({ ...valid, exp, iat: exp - 60, nbf: exp - 70 }, validHeader));
  });

  it("refuses a token that is not yet valid, or issued in the future", async () => {
    await expectRefused(await signClaims({ ...valid, nbf: now() + 120, exp: now() + 300 }, validHeader));
    await expectRefused(
      await signClaims({ ...valid, iat: now() + 120, exp: now() + 300, nbf: undefined }, validHeader),
    );
  });

  it("refuses missing or malformed sub and sid", async () => {
    const { sub: _sub, ...noSub } = valid;
    await expectRefused(await signClaims(noSub, validHeader));
    await expectRefused(await signClaims({ ...valid, sub: "admin" }, validHeader));
    await expectRefused(await signClaims({ ...valid, sid: "sess_../../v1/sessions" }, validHeader));
    await expectRefused(await signClaims({ ...valid, sid: 12345 }, validHeader));
  });

  it("refuses a pending session's token (sts: pending) and an unknown status", async () => {
    await expectRefused(await signClaims({ ...valid, sts: "pending" }, validHeader));
    await expectRefused(await signClaims({ ...valid, sts: "root" }, validHeader));
  });

  it("refuses a malformed fva claim", async () => {
    await expectRefused(await signClaims({ ...valid, fva: "0,0" }, validHeader));
  });
});

describe("a revoked session's token is refused although it still verifies", () => {
  it("refuses the revoked session's unexpired token, as header and as cookie", async () => {
    expect(decodeJwt(revoked.token).exp).toBeGreaterThan(now());
    await expectRefused(revoked.token);
    await expectRefused(revoked.token, "cookie");
  });
});

describe("garbage and oversized credentials never reach a parser that matters", () => {
  it("refuses an oversized token, even one validly signed", async () => {
    await expectRefused(`${alice.token.split(".")[0]}.${"A".repeat(9_000)}.${alice.token.split(".")[2]}`);
    await expectRefused(await signClaims({ ...valid, padding: "x".repeat(9_000) }, validHeader));
  });

  it("refuses garbage of every shape", async () => {
    for (const garbage of [
      "garbage",
      "a.b.c",
      "....",
      `${base64url.encode("not json")}.${base64url.encode("{}")}.sig`,
      `${base64url.encode("[]")}.${base64url.encode("[]")}.c2ln`,
      `${alice.token}.extra`,
      alice.token.replace(/\./g, "%2E"),
      "eyJ",
    ]) {
      await expectRefused(garbage);
    }
  });

  it("refuses a service key presented as the __session cookie", async () => {
    await clearCalls();
    const response = await call("/v1/sessions", { cookie: TEST_SERVICE_KEYS[0] });
    expect(response.status).toBe(401);
    expect(await upstreamCalls()).toBe(0);
  });

  it("refuses an Authorization header that is not one Bearer credential", async () => {
    await clearCalls();
    for (const header of [`Basic ${btoa(`x:${alice.token}`)}`, `Bearer ${alice.token} ${alice.token}`, "Bearer", ""]) {
      const response = await call("/v1/me/sessions/active", { headers: { Authorization: header } });
      expect(response.status, header.slice(0, 12)).toBe(401);
      expect((await errorBody(response)).errors[0]?.code).toBe("authentication_invalid");
    }
    expect(await upstreamCalls()).toBe(0);
  });
});

describe("refresh is authenticated by expired_token, held to the same rules but exp", () => {
  const refresh = (sid: string, expired_token: string) =>
    call(`/v1/sessions/${sid}/refresh`, {
      method: "POST",
      json: { expired_token, refresh_token: alice.refresh_token, request_origin: "http://localhost:8787" },
    });

  it("refuses forged, foreign, mismatched and revoked expired_tokens without calling Clerk", async () => {
    const forged = [
      compact({ ...validHeader, alg: "none" }, valid),
      await signClaims({ ...valid, iss: "https://evil-hippo-66.clerk.accounts.dev" }, validHeader),
      await signClaims({ ...valid, azp: "https://evil.example" }, validHeader),
      await signClaims(valid, validHeader, "invalid"),
      await signClaims(valid, { ...validHeader, cat: "cl_B7d4PD222AAA" }),
    ];
    await clearCalls();
    for (const token of forged) {
      const response = await refresh(alice.session_id, token);
      expect(response.status).toBe(401);
      expect((await errorBody(response)).errors[0]?.code).toBe("authentication_invalid");
    }
    // A genuine token of another session cannot refresh this one.
    expect((await refresh(SEED.sessions.alicePhone.id, alice.token)).status).toBe(401);
    expect((await refresh(revoked.session_id, revoked.token)).status).toBe(401);
    expect(await upstreamCalls()).toBe(0);
  });

  it("accepts the session's own expired token (the control)", async () => {
    const exp = now() - 600;
    const expired = await signClaims({ ...valid, exp, iat: exp - 60, nbf: exp - 70 }, validHeader);
    const response = await refresh(alice.session_id, expired);
    expect(response.status).toBe(200);
  });
});
