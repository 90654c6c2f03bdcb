/**
 * Development endpoints for `npm start` and browser pages: sign a seeded user in and keep its
 * session token fresh, as Clerk's Frontend API and clerk-js would. No secret key; CORS `*`.
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { contextOf, type RequestContext } from "../context";
import { Errors } from "../errors";
import { type JsonObject, optionalString, readJsonObject } from "../params";
import type { DeviceInfo } from "../seed";
import { canIssueTokens, createSession, findSessions, touchSession } from "../sessions";
import { signSessionToken } from "../tokens";
import type { SessionActivityJSON } from "../types";
import { deviceFromUserAgent, isBrowserUserAgent } from "../ua";

export const dev = new Hono();

dev.use("*", cors());

function describeDevice(a: SessionActivityJSON | null): string {
  if (!a) return "unknown device";
  const browser = [a.browser_name, a.browser_version].filter(Boolean).join(" ");
  const place = [a.city, a.country].filter(Boolean).join(", ");
  return [browser || "unknown browser", a.device_type, place].filter(Boolean).join(" · ");
}

dev.get("/users", (c) => {
  const { store } = contextOf(c.req.raw);
  const users = [...store.users.values()].map((u) => ({
    id: u.id,
    first_name: u.first_name,
    last_name: u.last_name,
    username: u.username,
    email_address: u.email_address,
    sessions: findSessions(store, { user_id: u.id }).map((s) => ({
      id: s.id,
      client_id: s.client_id,
      status: s.status,
      device: describeDevice(s.latest_activity),
      last_active_at: s.last_active_at,
    })),
  }));
  return c.json({ users });
});

const DEVICE_STRING_FIELDS = [
  "device_type",
  "browser_name",
  "browser_version",
  "ip_address",
  "city",
  "country",
] as const;

function parseDevice(value: unknown): DeviceInfo {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw Errors.formParamInvalid("device", "device must be an object.");
  }
  const v = value as JsonObject;
  if (v.is_mobile !== undefined && typeof v.is_mobile !== "boolean") {
    throw Errors.formParamInvalid("device.is_mobile", "device.is_mobile must be a boolean.");
  }
  const device: DeviceInfo = { is_mobile: v.is_mobile === true };
  for (const field of DEVICE_STRING_FIELDS) {
    const s = optionalString(v, field);
    if (s !== undefined) device[field] = s;
  }
  return device;
}

/**
 * Stand-in devices for sign-ins that name none (curl, scripts), taken in turn: none is a seeded
 * session's device, so a sign-in never looks like the seeded Mac or like the sign-in before it.
 */
const STAND_IN_DEVICES: readonly Required<Omit<DeviceInfo, "ip_address">>[] = [
  {
    device_type: "Linux",
    is_mobile: false,
    browser_name: "Chrome",
    browser_version: "142.0.0.0",
    city: "Lisbon",
    country: "PT",
  },
  {
    device_type: "Windows",
    is_mobile: false,
    browser_name: "Firefox",
    browser_version: "144.0",
    city: "Dublin",
    country: "IE",
  },
  {
    device_type: "Windows",
    is_mobile: false,
    browser_name: "Edge",
    browser_version: "141.0.0.0",
    city: "Amsterdam",
    country: "NL",
  },
  {
    device_type: "Macintosh",
    is_mobile: false,
    browser_name: "Safari",
    browser_version: "26.0",
    city: "Oslo",
    country: "NO",
  },
  {
    device_type: "Android",
    is_mobile: true,
    browser_name: "Chrome",
    browser_version: "142.0.0.0",
    city: "Madrid",
    country: "ES",
  },
  {
    device_type: "iPad",
    is_mobile: true,
    browser_name: "Safari",
    browser_version: "26.0",
    city: "Vienna",
    country: "AT",
  },
  {
    device_type: "Windows",
    is_mobile: false,
    browser_name: "Opera",
    browser_version: "123.0",
    city: "Warsaw",
    country: "PL",
  },
  {
    device_type: "Macintosh",
    is_mobile: false,
    browser_name: "Firefox",
    browser_version: "144.0",
    city: "Zurich",
    country: "CH",
  },
];

/** The n-th stand-in device: the list in turn, each round a major browser version newer, so no two alike. */
function standInDevice(n: number): Omit<DeviceInfo, "ip_address"> {
  const base = STAND_IN_DEVICES[n % STAND_IN_DEVICES.length] as (typeof STAND_IN_DEVICES)[number];
  const round = Math.floor(n / STAND_IN_DEVICES.length);
  const [major, ...rest] = base.browser_version.split(".");
  return { ...base, browser_version: [Number(major) + round, ...rest].join(".") };
}

/** The device a dev sign-in is recorded with: explicit, else from a User-Agent, else the next stand-in device. */
function signInDevice(rc: RequestContext, body: JsonObject): DeviceInfo {
  if (body.device !== undefined && body.device !== null) return parseDevice(body.device);
  const ua = optionalString(body, "user_agent") ?? (isBrowserUserAgent(rc.userAgent) ? rc.userAgent : undefined);
  if (ua !== undefined) return { ...deviceFromUserAgent(ua), ip_address: rc.clientIp };
  return { ...standInDevice(rc.store.devSignIns++), ip_address: rc.clientIp };
}

function requestOrigin(request: Request): string | undefined {
  const origin = request.headers.get("origin");
  return origin && origin !== "null" ? origin : undefined;
}

dev.post("/sign_in", async (c) => {
  const rc = contextOf(c.req.raw);
  const body = await readJsonObject(c.req.raw);
  const userId = optionalString(body, "user_id");
  const email = optionalString(body, "email_address")?.toLowerCase();
  const username = optionalString(body, "username");
  if (userId === undefined && email === undefined && username === undefined) {
    throw Errors.formParamMissing("user_id");
  }
  const users = [...rc.store.users.values()];
  const user =
    userId !== undefined
      ? rc.store.users.get(userId)
      : email !== undefined
        ? users.find((u) => u.email_address.toLowerCase() === email)
        : users.find((u) => u.username === username);
  if (!user) throw Errors.resourceNotFound("No user matches the given user_id, email_address or username.");
  const azp = optionalString(body, "origin") ?? requestOrigin(c.req.raw) ?? rc.config.defaultAzp;
  const session = createSession(rc, user, { device: signInDevice(rc, body), azp });
  const token = await signSessionToken(rc.config, session, { azp });
  return c.json({
    user_id: user.id,
    session_id: session.id,
    client_id: session.client_id,
    token,
    refresh_token: session.refresh_token,
  });
});

dev.post("/sessions/:session_id/token", async (c) => {
  const rc = contextOf(c.req.raw);
  const body = await readJsonObject(c.req.raw);
  const origin = optionalString(body, "origin");
  const session = rc.store.sessions.get(c.req.param("session_id"));
  if (!session) throw Errors.resourceNotFound();
  if (!canIssueTokens(session)) throw Errors.sessionNotActive(session.id, session.status);
  touchSession(session);
  const jwt = await signSessionToken(rc.config, session, { azp: origin ?? session.azp });
  return c.json({ jwt });
});
