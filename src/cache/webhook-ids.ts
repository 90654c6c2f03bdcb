import { kvKeys, readEntry, WEBHOOK_ID_TTL_SECONDS, WebhookEntry } from "./kv-schema";
import { writeCoalesced } from "./kv-writer";

/** Svix message ids already applied: a replayed delivery is recognised and changes nothing. */
export async function wasApplied(kv: KVNamespace, messageId: string): Promise<boolean> {
  return (await readEntry(kv, kvKeys.webhook(messageId), WebhookEntry)) !== null;
}

export async function recordApplied(kv: KVNamespace, messageId: string, type: string): Promise<void> {
  const entry = { received_at: Date.now(), type };
  await writeCoalesced(kv, kvKeys.webhook(messageId), JSON.stringify(entry), WEBHOOK_ID_TTL_SECONDS);
}
