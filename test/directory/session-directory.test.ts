import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_TOKEN_LIFETIME_SECONDS } from "../../src/auth/session-token";
import {
  PRUNE_INTERVAL_MS,
  REVOCATION_RECORD_SECONDS,
  type SessionDirectory,
  WEBHOOK_CLAIM_SECONDS,
} from "../../src/revocation/session-directory";
import { directoryObject } from "../support/directory";
import { SEED } from "../support/emulator";
import { useFreshWorld } from "../support/fresh-world";

/** The object itself: its schema, what a second record or claim does, and pruning by alarm. */

const USER = SEED.users.alice.id;
const SESSION = "sess_2directoryUnitTest000000001";

useFreshWorld();

function stub(name = USER) {
  return directoryObject(name);
}

describe("SessionDirectory", () => {
  it("records a revocation once: a second record keeps the first time and source", async () => {
    const directory = stub();
    expect(await directory.isRevoked(SESSION)).toBe(false);
    await directory.recordRevoked(SESSION, "revoked", "gateway");
    await directory.recordRevoked(SESSION, "ended", "webhook");
    expect(await directory.isRevoked(SESSION)).toBe(true);
    const [record, ...rest] = await directory.revocations();
    expect(rest).toEqual([]);
    expect(record).toMatchObject({ session_id: SESSION, status: "revoked", source: "gateway" });
    // Kept as long as the longest token the gateway accepts can live.
    expect(record && record.expires_at - record.revoked_at).toBe(REVOCATION_RECORD_SECONDS * 1000);
    expect(REVOCATION_RECORD_SECONDS).toBeGreaterThan(MAX_TOKEN_LIFETIME_SECONDS);
  });

  it("another user's object knows nothing of it", async () => {
    await stub().recordRevoked(SESSION, "revoked", "gateway");
    expect(await stub(SEED.users.bob.id).isRevoked(SESSION)).toBe(false);
  });

  it("claims a delivery once, recording an ended session in the same step", async () => {
    const directory = stub();
    const claim = { messageId: "msg_unit1", type: "session.ended", ended: { sessionId: SESSION, status: "ended" } };
    expect(await directory.claimWebhook(claim)).toBe(true);
    expect(await directory.claimWebhook(claim)).toBe(false);
    expect(await directory.revocations()).toMatchObject([{ session_id: SESSION, status: "ended", source: "webhook" }]);
  });

  it("schedules an alarm on the first write; the alarm deletes expired rows and keeps live ones", async () => {
    const directory = stub();
    await directory.claimWebhook({ messageId: "msg_old", type: "session.created" });
    await directory.recordRevoked(SESSION, "revoked", "gateway");
    const alarm = await runInDurableObject(directory, (_instance: SessionDirectory, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now());
    expect(alarm).toBeLessThanOrEqual(Date.now() + PRUNE_INTERVAL_MS);

    // Age the claim past its retention, as if WEBHOOK_CLAIM_SECONDS had gone by.
    await runInDurableObject(directory, (_instance: SessionDirectory, state) => {
      state.storage.sql.exec("UPDATE webhook_claims SET expires_at = ?", Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(directory)).toBe(true);
    const left = await runInDurableObject(directory, async (_instance: SessionDirectory, state) => ({
      claims: state.storage.sql.exec("SELECT message_id FROM webhook_claims").toArray(),
      revoked: state.storage.sql.exec("SELECT session_id FROM revoked").toArray(),
      alarm: await state.storage.getAlarm(),
    }));
    expect(left.claims).toEqual([]);
    expect(left.revoked).toEqual([{ session_id: SESSION }]);
    // Rows remain, so the next pass is scheduled.
    expect(left.alarm).toBeGreaterThan(Date.now());
    // An expired claim no longer blocks: the id was forgotten after its retention.
    expect(await directory.claimWebhook({ messageId: "msg_old", type: "session.created" })).toBe(true);
    expect(WEBHOOK_CLAIM_SECONDS).toBeGreaterThanOrEqual(24 * 60 * 60);
  });

  it("an expired revocation record no longer refuses, and a new revocation replaces it", async () => {
    const directory = stub();
    await directory.recordRevoked(SESSION, "revoked", "gateway");
    await runInDurableObject(directory, (_instance: SessionDirectory, state) => {
      state.storage.sql.exec("UPDATE revoked SET expires_at = ?", Date.now() - 1);
    });
    expect(await directory.isRevoked(SESSION)).toBe(false);
    await directory.recordRevoked(SESSION, "removed", "webhook");
    expect(await directory.revocations()).toMatchObject([
      { session_id: SESSION, status: "removed", source: "webhook" },
    ]);
  });
});
