import type { Session } from "./schemas";

/**
 * Frontend-API shapes built from Backend-API sessions (`spec/clerk-openapi/fapi`):
 * `Client.ActiveSession` for /v1/me/sessions/active, `Client.Session-2` for the rest.
 */
type FapiSessionBase = {
  object: "session";
  id: string;
  status: Session["status"];
  expire_at: number;
  abandon_at: number;
  last_active_at: number;
  last_active_token: null;
  actor: Record<string, unknown> | null;
  tasks: Array<{ key: string }> | null;
};

export type FapiActiveSession = FapiSessionBase & {
  latest_activity?: NonNullable<Session["latest_activity"]>;
  /** clerk-js's SessionWithActivitiesJSON has `user: null` here. */
  user: null;
};

export type FapiSession = FapiSessionBase & {
  last_active_organization_id: string | null;
  public_user_data: null;
  factor_verification_age: number[];
  created_at: number;
  updated_at: number;
};

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
