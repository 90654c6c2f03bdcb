/**
 * @module
 * `has()` as Clerk's SDKs answer it (`@clerk/shared`'s authorization and jwtPayloadParser),
 * restated as pure functions of a session token's claims: organization roles and permissions
 * (version 1 `org_*` claims, version 2 `o` with its `fpm` bitmask), features and plans
 * (`fea`, `pla`, scoped `u:`/`o:`) and reverification (`fva`, levels and presets).
 * Every question asked must hold; a question that cannot be answered (a claim missing or
 * malformed, a value of the wrong type) answers false. Framework-free: nothing here knows
 * about Hono or the gateway.
 */
import type { SessionClaims } from "./principal";

/** The organization fields of an auth object, as `@clerk/shared`'s jwtPayloadParser reads them. */
export type OrgFields = {
  orgId: string | undefined;
  orgRole: string | undefined;
  orgSlug: string | undefined;
  orgPermissions: string[] | undefined;
};

export type ReverificationLevel = "first_factor" | "second_factor" | "multi_factor";
export type ReverificationPreset = "strict_mfa" | "strict" | "moderate" | "lax";
export type ReverificationConfig = ReverificationPreset | { level: ReverificationLevel; afterMinutes: number };

/** The questions `has()` answers; more than one asked means all must hold. */
export type CheckAuthorizationParams = {
  role?: string;
  permission?: string;
  feature?: string;
  plan?: string;
  reverification?: ReverificationConfig;
  [other: string]: unknown;
};

/** What `has()` is answered from: an auth object's fields and the `fea`/`pla` claims as they came. */
export type AuthorizationFacts = OrgFields & {
  userId: string | undefined;
  factorVerificationAge: unknown;
  features: unknown;
  plans: unknown;
};

const PRESETS: Record<ReverificationPreset, { level: ReverificationLevel; afterMinutes: number }> = {
  strict_mfa: { afterMinutes: 10, level: "multi_factor" },
  strict: { afterMinutes: 10, level: "second_factor" },
  moderate: { afterMinutes: 60, level: "second_factor" },
  lax: { afterMinutes: 1440, level: "second_factor" },
};
const LEVELS = new Set<unknown>(["first_factor", "second_factor", "multi_factor"]);
const ORG_SCOPES = new Set(["o", "org", "organization"]);
const USER_SCOPES = new Set(["u", "user"]);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const withOrgPrefix = (value: string) => value.replace(/^(org:)*/, "org:");

/**
 * A scoped claim (`fea`, `pla`: `o:invoices,u:beta,ou:reports`) split into what applies to the
 * organization and to the user. An element without a scope makes the claim invalid (thrown,
 * as Clerk's does); an unknown scope is skipped.
 */
export function splitByScope(claim: string | undefined): { org: string[]; user: string[] } {
  const org: string[] = [];
  const user: string[] = [];
  if (!claim) return { org, user };
  for (const raw of claim.split(",")) {
    const part = raw.trim();
    const colon = part.indexOf(":");
    if (colon === -1) throw new Error(`Invalid claim element (missing colon): ${part}`);
    const scope = part.slice(0, colon);
    const value = part.slice(colon + 1);
    if (scope === "o") org.push(value);
    else if (scope === "u") user.push(value);
    else if (scope === "ou" || scope === "uo") {
      org.push(value);
      user.push(value);
    }
  }
  return { org, user };
}

/**
 * Organization fields from a session token's claims. Version 2 tokens carry
 * `o: { id, slg, rol, per, fpm }`: `per` names the permissions, `fpm` holds one decimal bitmask
 * per organization feature of `fea` (in order), bit i set when permission i applies to it, each
 * granting `org:<feature>:<permission>`. Version 1 tokens carry `org_id`, `org_role`,
 * `org_slug`, `org_permissions`. A `fea` Clerk's parser would refuse grants no permission here.
 */
export function orgFieldsOf(claims: SessionClaims): OrgFields {
  if (claims.v === 2) {
    const o = claims.o;
    if (!o) return { orgId: undefined, orgRole: undefined, orgSlug: undefined, orgPermissions: undefined };
    const org = isRecord(o) ? o : {};
    let features: string[];
    try {
      features = splitByScope(typeof claims.fea === "string" ? claims.fea : undefined).org;
    } catch {
      features = [];
    }
    return {
      orgId: org.id as string | undefined,
      orgSlug: org.slg as string | undefined,
      orgRole: org.rol ? `org:${org.rol}` : undefined,
      orgPermissions: orgPermissions(features, org.per, org.fpm),
    };
  }
  return {
    orgId: claims.org_id as string | undefined,
    orgRole: claims.org_role as string | undefined,
    orgSlug: claims.org_slug as string | undefined,
    orgPermissions: claims.org_permissions as string[] | undefined,
  };
}

function orgPermissions(features: string[], per: unknown, fpm: unknown): string[] {
  if (typeof per !== "string" || typeof fpm !== "string" || !per || !fpm) return [];
  const permissions = per.split(",").map((p) => p.trim());
  const masks = fpm.split(",").map((mask) => mask.trim());
  const granted: string[] = [];
  features.forEach((feature, index) => {
    const mask = masks[index];
    // A mask that is not a decimal number grants nothing (Clerk's parser reads it as no bits).
    if (mask === undefined || !/^\d+$/.test(mask)) return;
    const bits = BigInt(mask);
    permissions.forEach((permission, bit) => {
      if ((bits >> BigInt(bit)) & 1n) granted.push(`org:${feature}:${permission}`);
    });
  });
  return granted;
}

/** The facts `has()` is answered from, for a session token's claims. */
export function authorizationFacts(claims: SessionClaims, org: OrgFields = orgFieldsOf(claims)): AuthorizationFacts {
  return {
    ...org,
    userId: claims.sub,
    factorVerificationAge: claims.fva ?? null,
    features: claims.fea || "",
    plans: claims.pla || "",
  };
}

type Outcome = "pass" | "fail" | "skip";

function checkOrg(params: CheckAuthorizationParams, facts: AuthorizationFacts): Outcome {
  const roleAsked = params.role !== undefined;
  const permissionAsked = params.permission !== undefined;
  if (!roleAsked && !permissionAsked) return "skip";
  if (roleAsked && typeof params.role !== "string") return "fail";
  if (permissionAsked && typeof params.permission !== "string") return "fail";
  if (!facts.orgId) return "fail";
  if (roleAsked) {
    if (typeof facts.orgRole !== "string" || !facts.orgRole) return "fail";
    if (withOrgPrefix(facts.orgRole) !== withOrgPrefix(params.role as string)) return "fail";
  }
  if (permissionAsked) {
    if (!Array.isArray(facts.orgPermissions)) return "fail";
    if (!facts.orgPermissions.includes(withOrgPrefix(params.permission as string))) return "fail";
  }
  return "pass";
}

/** `feature`/`plan` as asked: `invoices` (either scope), `o:invoices` / `org:…` / `organization:…`, `u:…` / `user:…`. */
function entitled(claim: string, asked: string): boolean {
  const { org, user } = splitByScope(claim);
  const [scope = "", id] = asked.split(":");
  if (id === undefined) return org.includes(scope) || user.includes(scope);
  const name = id || scope;
  if (ORG_SCOPES.has(scope)) return org.includes(name);
  if (USER_SCOPES.has(scope)) return user.includes(name);
  throw new Error(`Invalid scope: ${scope}`);
}

function checkBilling(params: CheckAuthorizationParams, facts: AuthorizationFacts): Outcome {
  const featureAsked = params.feature !== undefined;
  const planAsked = params.plan !== undefined;
  if (!featureAsked && !planAsked) return "skip";
  if (featureAsked && typeof params.feature !== "string") return "fail";
  if (planAsked && typeof params.plan !== "string") return "fail";
  for (const [asked, claim] of [
    [params.feature, facts.features],
    [params.plan, facts.plans],
  ] as const) {
    if (asked === undefined) continue;
    if (typeof claim !== "string" || !claim) return "fail";
    try {
      if (!entitled(claim, asked as string)) return "fail";
    } catch {
      return "fail";
    }
  }
  return "pass";
}

/** A reverification requirement as asked (a preset or `{ level, afterMinutes }`); null when it is not one. */
export function reverificationRequirement(
  config: unknown,
): { level: ReverificationLevel; afterMinutes: number } | null {
  if (!config) return null;
  if (typeof config === "string")
    return Object.hasOwn(PRESETS, config) ? PRESETS[config as ReverificationPreset] : null;
  if (!isRecord(config)) return null;
  const { level, afterMinutes } = config;
  if (!LEVELS.has(level) || typeof afterMinutes !== "number" || !(afterMinutes > 0)) return null;
  return config as { level: ReverificationLevel; afterMinutes: number };
}

const isFactorAge = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && (x === -1 || x >= 0);

/**
 * `fva: [first, second]`: minutes since each factor was last verified, -1 never. A factor is
 * fresh enough when verified less than `afterMinutes` ago. `second_factor` asks for the second
 * factor when the user has one, else the first; `multi_factor` asks for both when the user has
 * a second factor, else the first.
 */
function checkReverification(params: CheckAuthorizationParams, facts: AuthorizationFacts): Outcome {
  if (params.reverification === undefined) return "skip";
  const fva = facts.factorVerificationAge;
  if (!fva) return "fail";
  if (!Array.isArray(fva) || fva.length !== 2 || !isFactorAge(fva[0]) || !isFactorAge(fva[1])) return "fail";
  const requirement = reverificationRequirement(params.reverification);
  if (!requirement) return "fail";
  const { level, afterMinutes } = requirement;
  const [first, second] = fva as [number, number];
  if (first === -1 && second === -1) return "fail";
  const firstFresh = first !== -1 && afterMinutes > first;
  const secondFresh = second !== -1 && afterMinutes > second;
  switch (level) {
    case "first_factor":
      return firstFresh ? "pass" : "fail";
    case "second_factor":
      if (second === -1) return firstFresh ? "pass" : "fail";
      if (first === -1) return secondFresh ? "pass" : "fail";
      return secondFresh ? "pass" : "fail";
    case "multi_factor":
      if (second === -1) return firstFresh ? "pass" : "fail";
      if (first === -1) return "fail";
      return firstFresh && secondFresh ? "pass" : "fail";
  }
}

/** `has(params)`: true when at least one question is asked and every one asked holds (`@clerk/shared` createCheckAuthorization). */
export function checkAuthorization(facts: AuthorizationFacts, params: CheckAuthorizationParams): boolean {
  if (!facts.userId) return false;
  const outcomes = [checkOrg(params, facts), checkBilling(params, facts), checkReverification(params, facts)];
  return outcomes.some((o) => o === "pass") && outcomes.every((o) => o !== "fail");
}

/** A `has()` bound to one auth object's facts. */
export const createCheckAuthorization =
  (facts: AuthorizationFacts) =>
  (params: CheckAuthorizationParams): boolean =>
    checkAuthorization(facts, params);
