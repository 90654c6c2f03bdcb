/**
 * @module
 * The KV layout, in one place (documented in docs/kv-schema.md). Every key carries a
 * schema version so a layout change never misreads old entries, and every value read
 * back is parsed: stored JSON is untrusted input like any other.
 */
import * as z from "zod/mini";
import { Jwk, Session } from "../clerk/schemas";

const SECOND = 1;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** KV refuses an expirationTtl below 60 s. */
export const KV_MIN_TTL_SECONDS = MINUTE;
/** KV allows one write per second per key; writes closer together are coalesced. */
export const KV_MIN_WRITE_INTERVAL_MS = 1_000;

/** Revocation markers outlive any token Clerk issues by default (60 s) many times over. */
export const REVOCATION_TTL_SECONDS = 7 * DAY;
export const JWKS_TTL_SECONDS = DAY;
/** Webhook message ids are remembered this long, so a replayed delivery changes nothing. */
export const WEBHOOK_ID_TTL_SECONDS = DAY;

export const kvKeys = {
  activeSessions: (userId: string) => `sessions:v1:${userId}`,
  revoked: (sessionId: string) => `revoked:v1:${sessionId}`,
  jwks: (apiUrlHash: string) => `jwks:v1:${apiUrlHash}`,
  webhook: (messageId: string) => `webhook:v1:${messageId}`,
} as const;

/** `sessions:v1:{user_id}`: the user's active sessions as Clerk returned them. */
export const ActiveSessionsEntry = z.object({
  /** Unix ms when the list was read from Clerk (or last corrected by a confirmed write). */
  fetched_at: z.number(),
  /** When set, the entry must be re-read from Clerk before it counts as fresh again. */
  stale: z.optional(z.boolean()),
  sessions: z.array(Session),
});
export type ActiveSessionsEntry = z.infer<typeof ActiveSessionsEntry>;

/** `revoked:v1:{session_id}`: the session must be refused whatever its token says. */
export const RevocationEntry = z.object({
  revoked_at: z.number(),
  status: z.string(),
  source: z.enum(["gateway", "webhook"]),
});
export type RevocationEntry = z.infer<typeof RevocationEntry>;

/** `jwks:v1:{sha256(CLERK_API_URL)[0..16]}`: Clerk's signing keys. */
export const JwksEntry = z.object({ fetched_at: z.number(), keys: z.array(Jwk) });
export type JwksEntry = z.infer<typeof JwksEntry>;

/** `webhook:v1:{svix-id}`: a delivery that was already applied. */
export const WebhookEntry = z.object({ received_at: z.number(), type: z.string() });

/** Reads and parses a JSON entry; anything unreadable counts as absent. */
export async function readEntry<T>(kv: KVNamespace, key: string, schema: z.ZodMiniType<T>): Promise<T | null> {
  const raw = await kv.get(key, "json").catch(() => null);
  if (raw === null) return null;
  const parsed = z.safeParse(schema, raw);
  return parsed.success ? parsed.data : null;
}
