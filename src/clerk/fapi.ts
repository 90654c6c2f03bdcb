/**
 * @module
 * Frontend-API shapes built from Backend-API sessions (`spec/clerk-openapi/fapi`):
 * `Client.ActiveSession` for /v1/me/sessions/active, `Client.Session-2` for the rest.
 * The schemas are the one definition: the types below and the OpenAPI document derive from them.
 */
import * as z from "zod/mini";
import { SESSION_STATUSES, type Session, SessionActivity } from "./schemas";

const fapiBase = {
  object: z.literal("session"),
  id: z.string(),
  status: z.enum(SESSION_STATUSES),
  expire_at: z.number(),
  abandon_at: z.number(),
  last_active_at: z.number(),
  last_active_token: z.null(),
  actor: z.nullable(z.record(z.string(), z.unknown())),
  tasks: z.nullable(z.array(z.object({ key: z.string() }))),
};
type FapiSessionBase = z.infer<z.ZodMiniObject<typeof fapiBase>>;

export const FapiActiveSession = z.object({
  ...fapiBase,
  latest_activity: z.optional(SessionActivity),
  /** clerk-js's SessionWithActivitiesJSON has `user: null` here. */
  user: z.null(),
});
export type FapiActiveSession = z.infer<typeof FapiActiveSession>;

export const FapiSession = z.object({
  ...fapiBase,
  last_active_organization_id: z.nullable(z.string()),
  public_user_data: z.null(),
  factor_verification_age: z.array(z.number()),
  created_at: z.number(),
  updated_at: z.number(),
});
export type FapiSession = z.infer<typeof FapiSession>;

function base(session: Session): FapiSessionBase {
  return {
    object: "session",
    id: session.id,
    // FAPI's status enum has no `replaced`: to a browser a replaced session is simply over.
    status: session.status === "replaced" ? "ended" : session.status,
    expire_at: session.expire_at,
    abandon_at: session.abandon_at,
    last_active_at: session.last_active_at,
    last_active_token: null,
    actor: session.actor ?? null,
    tasks: session.tasks ?? null,
  };
}

export function toActiveSession(session: Session): FapiActiveSession {
  const shaped: FapiActiveSession = { ...base(session), user: null };
  if (session.latest_activity) shaped.latest_activity = session.latest_activity;
  return shaped;
}

/**
 * `factor_verification_age` is only known for the session whose token made the request
 * (its `fva` claim); other sessions get an empty list rather than a guess.
 */
export function toFapiSession(session: Session, current?: { sessionId: string; fva?: [number, number] }): FapiSession {
  return {
    ...base(session),
    last_active_organization_id: session.last_active_organization_id ?? null,
    public_user_data: null,
    factor_verification_age: current && current.sessionId === session.id && current.fva ? [...current.fva] : [],
    created_at: session.created_at,
    updated_at: session.updated_at,
  };
}
