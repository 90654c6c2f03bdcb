import { fixedBytes, isolateMap } from "../core/isolate-memory";
import { log } from "../core/log";
import { kvKeys, readEntry, WEBHOOK_ID_TTL_SECONDS, WebhookEntry } from "../storage/kv-schema";
import { writeCoalesced } from "../storage/kv-writer";
import {
  type DirectoryNamespace,
  describeFailure,
  directoryFor,
  directoryUnavailable,
  withDeadline,
} from "./directory-client";
import { UNSCOPED_OBJECT_NAME, type WebhookClaim } from "./session-directory";

/**
 * Svix message ids: a delivery is claimed before its event is applied, so of several copies
 * of one delivery (Svix retries, a replay, copies sent at once) exactly one is applied and
 * every other gets 409.
 *
 * With the SESSION_DIRECTORY binding the claim is atomic: it is made in the object of the
 * event's user (an object runs one call at a time), in the same step that records an ended
 * session's revocation. Events without a user change no session; they are claimed in one
 * shared object. Without the binding, KV has no compare-and-set: the claim is atomic within
 * an isolate only, and two copies reaching two isolates at the same moment can both apply
 * (harmless for these events, which are idempotent, but documented in docs/security.md).
 */

/** Ids claimed in this isolate without the binding, held until KV's record is visible everywhere. */
const claimedHere = isolateMap<string, true>("webhookClaims", fixedBytes(1));
const CLAIM_MEMORY_MS = 60_000;

export type WebhookBindings = { SESSION_CACHE: KVNamespace; SESSION_DIRECTORY?: DirectoryNamespace | undefined };

/**
 * True when this copy won the claim and must apply the event; false for a copy already
 * claimed. Throws 503 when the object that must claim it cannot be reached (Svix retries).
 */
export async function claimWebhook(
  env: WebhookBindings,
  claim: WebhookClaim & { userId: string | undefined },
): Promise<boolean> {
  const { userId, ...rest } = claim;
  const namespace = env.SESSION_DIRECTORY;
  if (namespace) {
    try {
      return await withDeadline(directoryFor(namespace, userId ?? UNSCOPED_OBJECT_NAME).claimWebhook(rest));
    } catch (error) {
      log("warn", {
        msg: "directory_claim_failed",
        message_id: claim.messageId,
        user_id: userId,
        error: describeFailure(error),
      });
      // Nothing was applied: Svix delivers again later, and the object decides then.
      throw directoryUnavailable("The delivery could not be claimed; it was not applied", 30);
    }
  }
  // Synchronous check-and-set in this isolate first, so copies arriving here together see one claim.
  if (claimedHere.get(claim.messageId)) return false;
  claimedHere.set(claim.messageId, true, CLAIM_MEMORY_MS);
  // An unreadable KV counts as "not applied yet": the events are idempotent, a lost one is not.
  return (await readEntry(env.SESSION_CACHE, kvKeys.webhook(claim.messageId), WebhookEntry)) === null;
}

/** Without the binding: lets a later copy apply an event whose application failed. */
export function releaseClaim(messageId: string): void {
  claimedHere.delete(messageId);
}

/** The KV record of an applied delivery (docs/kv-schema.md): the claim without the binding, a trace with it. */
export async function recordApplied(kv: KVNamespace, messageId: string, type: string): Promise<void> {
  const entry = { received_at: Date.now(), type };
  await writeCoalesced(kv, kvKeys.webhook(messageId), JSON.stringify(entry), WEBHOOK_ID_TTL_SECONDS);
}
