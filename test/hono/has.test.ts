import { env } from "cloudflare:workers";
import { signedInAuthObject } from "@clerk/backend/internal";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import {
  authorizationFacts,
  type CheckAuthorizationParams,
  checkAuthorization,
  orgFieldsOf,
  reverificationRequirement,
  splitByScope,
} from "../../src/auth/authorization";
import type { SessionClaims } from "../../src/auth/principal";
import * as ours from "../../src/hono";
import { signIn, tokenWith } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";

/**
 * `has()` as `@clerk/shared` answers it: a table of claims and questions with the answer
 * expected, each also put to `@clerk/backend`'s own signed-in auth object built from the same
 * claims, which must agree; and the same questions through both middlewares against the emulator.
 */

const base = { sub: "user_1", sid: "sess_1", iss: "https://clerk.example.test", exp: 2e9, iat: 1e9 };
const claimsOf = (extra: Record<string, unknown>): SessionClaims => ({ ...base, ...extra }) as SessionClaims;

const v1Org = {
  org_id: "org_1",
  org_role: "org:admin",
  org_slug: "acme",
  org_permissions: ["org:invoices:read", "org:sys_memberships:manage"],
};
/** Permissions read,manage,delete; features invoices (read+manage = 3), reports (delete = 4), seats (none). */
const v2Org = {
  v: 2,
  o: { id: "org_2", slg: "acme", rol: "admin", per: "read,manage,delete", fpm: "3,4,0" },
  fea: "o:invoices,o:reports,o:seats,u:beta,ou:sso",
  pla: "u:pro,o:team",
};

type Case = [name: string, claims: Record<string, unknown>, params: CheckAuthorizationParams, expected: boolean];

const CASES: Case[] = [
  // Nothing asked, or only unknown questions: false.
  ["nothing asked", v1Org, {}, false],
  ["only an unknown question", v1Org, { colour: "blue" }, false],
  ["an unknown question beside a role", v1Org, { role: "org:admin", colour: "blue" }, true],
  ["no user", { ...v1Org, sub: "" }, { role: "org:admin" }, false],
  // Roles and permissions, v1 claims.
  ["v1 role", v1Org, { role: "org:admin" }, true],
  ["v1 role without the prefix", v1Org, { role: "admin" }, true],
  ["v1 role with a doubled prefix", v1Org, { role: "org:org:admin" }, true],
  ["v1 other role", v1Org, { role: "org:member" }, false],
  ["v1 permission", v1Org, { permission: "org:invoices:read" }, true],
  ["v1 permission without the prefix", v1Org, { permission: "invoices:read" }, true],
  ["v1 permission not held", v1Org, { permission: "org:invoices:manage" }, false],
  ["v1 role and permission", v1Org, { role: "admin", permission: "org:invoices:read" }, true],
  ["v1 role right, permission wrong", v1Org, { role: "admin", permission: "org:x:y" }, false],
  ["v1 role not a string", v1Org, { role: 1 as unknown as string }, false],
  ["v1 permission not a string", v1Org, { permission: ["org:invoices:read"] as unknown as string }, false],
  ["v1 no organization", {}, { role: "org:admin" }, false],
  ["v1 role but no org id", { org_role: "org:admin" }, { role: "org:admin" }, false],
  ["v1 permissions not an array", { org_id: "org_1", org_permissions: "org:a:b" }, { permission: "org:a:b" }, false],
  ["v1 empty role claim", { org_id: "org_1", org_role: "" }, { role: "" }, false],
  // Roles and permissions, v2 `o` and the `fpm` bitmask.
  ["v2 role", v2Org, { role: "org:admin" }, true],
  ["v2 role bare", v2Org, { role: "admin" }, true],
  ["v2 first feature, bit 0", v2Org, { permission: "org:invoices:read" }, true],
  ["v2 first feature, bit 1", v2Org, { permission: "org:invoices:manage" }, true],
  ["v2 first feature, bit 2 clear", v2Org, { permission: "org:invoices:delete" }, false],
  ["v2 second feature, bit 2", v2Org, { permission: "org:reports:delete" }, true],
  ["v2 second feature, bit 0 clear", v2Org, { permission: "org:reports:read" }, false],
  ["v2 feature with mask 0", v2Org, { permission: "org:seats:read" }, false],
  ["v2 user feature grants no org permission", v2Org, { permission: "org:beta:read" }, false],
  [
    "v2 `ou:` feature is an org feature too (fourth, no mask)",
    { ...v2Org, o: { ...v2Org.o, fpm: "3,4,0,1" } },
    { permission: "org:sso:read" },
    true,
  ],
  [
    "v2 more features than masks",
    { ...v2Org, o: { ...v2Org.o, fpm: "3" } },
    { permission: "org:reports:delete" },
    false,
  ],
  [
    "v2 a mask that is not decimal",
    { ...v2Org, o: { ...v2Org.o, fpm: "x,4" } },
    { permission: "org:invoices:read" },
    false,
  ],
  [
    "v2 a mask beyond 2^53",
    { ...v2Org, o: { ...v2Org.o, per: "a", fpm: "18014398509481985" } },
    { permission: "org:invoices:a" },
    true,
  ],
  ["v2 no `o`", { v: 2, fea: "o:invoices" }, { role: "org:admin" }, false],
  ["v2 `o` without per", { ...v2Org, o: { id: "org_2", rol: "admin" } }, { permission: "org:invoices:read" }, false],
  ["v2 `o` without rol", { ...v2Org, o: { id: "org_2", per: "read", fpm: "1" } }, { role: "org:admin" }, false],
  ["v2 ignores v1 claims", { ...v2Org, ...v1Org, v: 2 }, { permission: "org:sys_memberships:manage" }, false],
  ["v1 ignores `o`", { ...v1Org, o: v2Org.o }, { permission: "org:invoices:manage" }, false],
  // Features and plans.
  ["feature, unscoped, user", v2Org, { feature: "beta" }, true],
  ["feature, unscoped, org", v2Org, { feature: "invoices" }, true],
  ["feature u: on a user feature", v2Org, { feature: "u:beta" }, true],
  ["feature user: on a user feature", v2Org, { feature: "user:beta" }, true],
  ["feature u: on an org feature", v2Org, { feature: "u:invoices" }, false],
  ["feature o: on an org feature", v2Org, { feature: "o:invoices" }, true],
  ["feature org: / organization:", v2Org, { feature: "organization:reports" }, true],
  ["feature o: on a user feature", v2Org, { feature: "o:beta" }, false],
  ["feature ou: counts for both", v2Org, { feature: "u:sso" }, true],
  ["feature ou: counts for both (org)", v2Org, { feature: "org:sso" }, true],
  ["feature not held", v2Org, { feature: "nope" }, false],
  ["feature with an unknown scope", v2Org, { feature: "team:beta" }, false],
  ["feature, empty id after the scope", { fea: "o:o" }, { feature: "o:" }, true],
  ["feature, three parts", { fea: "o:a" }, { feature: "o:a:b" }, true],
  ["feature not a string", v2Org, { feature: 1 as unknown as string }, false],
  ["feature, no fea claim", {}, { feature: "beta" }, false],
  ["feature, a malformed fea claim", { fea: "beta" }, { feature: "beta" }, false],
  ["feature, an unknown scope in fea is skipped", { fea: "x:beta,u:pro" }, { feature: "pro" }, true],
  ["feature from fea on a v1 token", { fea: "u:beta" }, { feature: "beta" }, true],
  ["feature, spaces in fea", { fea: " u:beta , o:x" }, { feature: "u:beta" }, true],
  ["plan, user", v2Org, { plan: "u:pro" }, true],
  ["plan, org", v2Org, { plan: "o:team" }, true],
  ["plan, unscoped", v2Org, { plan: "team" }, true],
  ["plan, wrong scope", v2Org, { plan: "o:pro" }, false],
  ["plan, no pla claim", { fea: "u:pro" }, { plan: "pro" }, false],
  ["plan and feature, both held", v2Org, { plan: "pro", feature: "beta" }, true],
  ["plan and feature, one not held", v2Org, { plan: "pro", feature: "nope" }, false],
  ["plan not a string", v2Org, { plan: null as unknown as string }, false],
  ["role and feature, both held", v2Org, { role: "admin", feature: "beta" }, true],
  ["role held, feature not", v2Org, { role: "admin", feature: "nope" }, false],
  ["feature held, role not (no org)", { fea: "u:beta" }, { role: "admin", feature: "beta" }, false],
  // Reverification.
  ["strict, second factor 5 minutes ago", { fva: [5, 5] }, { reverification: "strict" }, true],
  ["strict, second factor 10 minutes ago", { fva: [0, 10] }, { reverification: "strict" }, false],
  ["strict, no second factor, first 5 minutes ago", { fva: [5, -1] }, { reverification: "strict" }, true],
  ["strict, no second factor, first 30 minutes ago", { fva: [30, -1] }, { reverification: "strict" }, false],
  ["strict, first never, second 3 minutes ago", { fva: [-1, 3] }, { reverification: "strict" }, true],
  ["strict, first fresh, second stale", { fva: [1, 20] }, { reverification: "strict" }, false],
  ["moderate, 59 minutes", { fva: [59, 59] }, { reverification: "moderate" }, true],
  ["moderate, 60 minutes", { fva: [0, 60] }, { reverification: "moderate" }, false],
  ["lax, 1439 minutes", { fva: [2000, 1439] }, { reverification: "lax" }, true],
  ["lax, 1440 minutes", { fva: [0, 1440] }, { reverification: "lax" }, false],
  ["strict_mfa, both fresh", { fva: [2, 3] }, { reverification: "strict_mfa" }, true],
  ["strict_mfa, first stale", { fva: [20, 3] }, { reverification: "strict_mfa" }, false],
  ["strict_mfa, no second factor, first fresh", { fva: [2, -1] }, { reverification: "strict_mfa" }, true],
  ["strict_mfa, first never", { fva: [-1, 2] }, { reverification: "strict_mfa" }, false],
  ["never verified", { fva: [-1, -1] }, { reverification: "lax" }, false],
  ["no fva claim", {}, { reverification: "lax" }, false],
  ["fva of the wrong length", { fva: [1] }, { reverification: "lax" }, false],
  ["fva with a negative age", { fva: [-2, 1] }, { reverification: "lax" }, false],
  ["fva with a string", { fva: ["1", 1] }, { reverification: "lax" }, false],
  ["an unknown preset", { fva: [1, 1] }, { reverification: "stricter" as "strict" }, false],
  ["a prototype name as preset", { fva: [1, 1] }, { reverification: "toString" as "strict" }, false],
  ["level first_factor", { fva: [5, 100] }, { reverification: { level: "first_factor", afterMinutes: 10 } }, true],
  [
    "level first_factor, first never",
    { fva: [-1, 1] },
    { reverification: { level: "first_factor", afterMinutes: 10 } },
    false,
  ],
  [
    "level second_factor, custom minutes",
    { fva: [100, 29] },
    { reverification: { level: "second_factor", afterMinutes: 30 } },
    true,
  ],
  ["level multi_factor", { fva: [1, 100] }, { reverification: { level: "multi_factor", afterMinutes: 30 } }, false],
  [
    "an unknown level",
    { fva: [1, 1] },
    { reverification: { level: "third_factor", afterMinutes: 30 } as never },
    false,
  ],
  ["afterMinutes 0", { fva: [0, 0] }, { reverification: { level: "first_factor", afterMinutes: 0 } }, false],
  [
    "afterMinutes not a number",
    { fva: [0, 0] },
    { reverification: { level: "first_factor", afterMinutes: "5" } as never },
    false,
  ],
  ["reverification null", { fva: [0, 0] }, { reverification: null as never }, false],
  ["reverification and role", { ...v1Org, fva: [1, 1] }, { role: "admin", reverification: "strict" }, true],
  ["reverification stale, role held", { ...v1Org, fva: [1, 99] }, { role: "admin", reverification: "strict" }, false],
  [
    "everything at once",
    { ...v2Org, fva: [1, 1] },
    {
      role: "admin",
      permission: "org:invoices:manage",
      feature: "o:reports",
      plan: "u:pro",
      reverification: "strict_mfa",
    },
    true,
  ],
];

describe("has(): the table", () => {
  it.each(CASES)("%s", (_name, extra, params, expected) => {
    const claims = claimsOf(extra);
    expect(checkAuthorization(authorizationFacts(claims), params)).toBe(expected);
  });
});

describe("has(): @clerk/backend's own auth object agrees on every case", () => {
  it.each(CASES)("%s", (_name, extra, params, expected) => {
    const claims = claimsOf(extra);
    // The auth object @clerk/hono hands an app, built from the same claims (nothing fetched here).
    const theirs = signedInAuthObject({} as never, "token", claims as never);
    expect(theirs.has(params as never)).toBe(expected);
    // And the organization fields read the same.
    const { orgId, orgRole, orgSlug, orgPermissions } = theirs;
    expect(orgFieldsOf(claims)).toEqual({ orgId, orgRole, orgSlug, orgPermissions });
  });
});

describe("the pieces", () => {
  it("splitByScope: o, u, ou and uo; an unknown scope skipped; an element without a scope refused", () => {
    expect(splitByScope("o:a,u:b,ou:c,uo:d,x:e")).toEqual({ org: ["a", "c", "d"], user: ["b", "c", "d"] });
    expect(splitByScope(undefined)).toEqual({ org: [], user: [] });
    expect(() => splitByScope("o:a,b")).toThrow(/missing colon/);
  });

  it("reverification presets as Clerk defines them", () => {
    expect(reverificationRequirement("strict_mfa")).toEqual({ level: "multi_factor", afterMinutes: 10 });
    expect(reverificationRequirement("strict")).toEqual({ level: "second_factor", afterMinutes: 10 });
    expect(reverificationRequirement("moderate")).toEqual({ level: "second_factor", afterMinutes: 60 });
    expect(reverificationRequirement("lax")).toEqual({ level: "second_factor", afterMinutes: 1440 });
    expect(reverificationRequirement({ level: "first_factor", afterMinutes: 5 })).toEqual({
      level: "first_factor",
      afterMinutes: 5,
    });
    expect(reverificationRequirement("")).toBeNull();
    expect(reverificationRequirement([])).toBeNull();
  });
});

/** The same questions through both middlewares, on tokens the emulator signs. */
type HasKit = {
  clerkMiddleware: () => MiddlewareHandler;
  getAuth: (c: Context) => { userId: string | null; has: (params: never) => boolean };
};

const QUESTIONS: CheckAuthorizationParams[] = [
  { role: "org:admin" },
  { role: "member" },
  { permission: "org:invoices:manage" },
  { permission: "org:reports:read" },
  { feature: "beta" },
  { feature: "o:beta" },
  { feature: "org:invoices" },
  { plan: "pro" },
  { plan: "o:team" },
  { plan: "u:team" },
  { reverification: "strict" },
  { reverification: "strict_mfa" },
  { reverification: "moderate" },
  { reverification: { level: "first_factor", afterMinutes: 3 } },
  { role: "admin", feature: "beta", reverification: "lax" },
];

function hasApp({ clerkMiddleware, getAuth }: HasKit) {
  const app = new Hono();
  app.use("*", clerkMiddleware());
  app.get("/has", (c) => {
    const auth = getAuth(c);
    return c.json({ userId: auth.userId, answers: QUESTIONS.map((q) => auth.has(q as never)) });
  });
  return app;
}

describe("has() through both middlewares", () => {
  useFreshWorld();
  let theirs: Hono;
  const oursApp = hasApp({ clerkMiddleware: () => ours.clerkMiddleware(), getAuth: ours.getAuth });
  beforeAll(async () => {
    const clerk = await import("@clerk/hono");
    theirs = hasApp({ clerkMiddleware: () => clerk.clerkMiddleware(), getAuth: (c) => clerk.getAuth(c) });
  });
  /** As in drop-in.test.ts: without CLERK_API_VERSION, both defaults are right. */
  const appEnv = { ...env, CLERK_API_VERSION: undefined };

  it.each([
    ["v2 organization, features, plans, fresh second factor", { ...v2Org, fva: [2, 5] }],
    ["v1 organization, stale second factor", { ...v1Org, v: undefined, o: undefined, fea: "u:beta", fva: [2, 30] }],
    ["no organization, user plan, one factor", { v: 2, o: undefined, pla: "u:pro", fea: "u:beta", fva: [2, -1] }],
  ])("%s: the same answers", async (_name, claims) => {
    const device = await signIn("alice");
    const token = await tokenWith(device.session_id, claims);
    const init = { headers: { Authorization: `Bearer ${token}` } };
    const [a, b] = await Promise.all([
      theirs.request("https://app.example.test/has", init, appEnv),
      oursApp.request("https://app.example.test/has", init, appEnv),
    ]);
    const theirAnswer = await a.json<{ userId: string | null; answers: boolean[] }>();
    expect(theirAnswer.userId).not.toBeNull();
    expect(theirAnswer.answers).toContain(true);
    expect(await b.json()).toEqual(theirAnswer);
  });
});
