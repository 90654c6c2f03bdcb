/**
 * @module
 * Clerk's signing keys for this isolate: memory first, then KV (shared by all isolates),
 * then Clerk. An unknown `kid` triggers at most one fetch from Clerk per interval per
 * isolate, so tokens with made-up `kid`s cannot be turned into a flood of calls to Clerk;
 * concurrent fetches share one call; keys already known keep working while Clerk is down.
 */
import { importJWK, importSPKI } from "jose";
import type { ClerkClient } from "../clerk/client";
import type { Jwks } from "../clerk/schemas";
import { now } from "../core/clock";
import { ApiError, unauthenticated, upstreamUnavailable } from "../core/errors";
import { fixedBytes, isolateMap } from "../core/isolate-memory";
import { joinWithin } from "../core/single-flight";
import { readStoredJwks, storeJwks } from "../storage/jwks-store";

/** An unknown `kid` makes this isolate ask Clerk for keys at most once per this interval. */
export const UNKNOWN_KID_REFETCH_INTERVAL_MS = 30_000;
/** Known keys are refreshed in the background after this long, so a retired key stops working. */
export const JWKS_REFRESH_AFTER_MS = 60 * 60_000;

export type KeyLookupDeps = {
  kv: KVNamespace;
  clerk: () => ClerkClient;
  waitUntil: (promise: Promise<unknown>) => void;
};

export class JwksKeyStore {
  readonly #apiUrl: string;
  #keys = new Map<string, CryptoKey>();
  /** The JWKs the keys were imported from, for `GET /v1/jwks` (public members only). */
  #jwks: Jwks["keys"] = [];
  #fetchedAt = 0;
  #kvChecked: Promise<void> | undefined;
  #lastRemoteFetch = Number.NEGATIVE_INFINITY;
  #remote: Promise<void> | undefined;

  readonly #now: () => number;

  /** `now` lets tests move this store's clock without touching the rest of the isolate's. */
  constructor(apiUrl: string, options: { now?: () => number } = {}) {
    this.#apiUrl = apiUrl;
    this.#now = options.now ?? now;
  }

  /** Test and operations hook: how many times this isolate asked Clerk for keys. */
  remoteFetches = 0;

  async getKey(kid: string, deps: KeyLookupDeps): Promise<CryptoKey> {
    const known = this.#keys.get(kid);
    if (known) {
      if (this.#now() - this.#fetchedAt > JWKS_REFRESH_AFTER_MS && this.#mayFetch()) {
        deps.waitUntil(this.#fetchRemote(deps).catch(() => undefined));
      }
      return known;
    }
    await this.#checkKv(deps.kv);
    const fromKv = this.#keys.get(kid);
    if (fromKv) return fromKv;

    if (!this.#remote && !this.#mayFetch()) {
      // No key at all yet: the last fetch failed, so every token is unverifiable, not forged.
      if (this.#keys.size === 0) throw keysUnavailable(this.#secondsUntilFetch());
      throw unauthenticated();
    }
    try {
      await this.#fetchRemote(deps);
    } catch (error) {
      // Clerk refusing the gateway's own key (a final 502) says more than "unavailable": it is passed on.
      if (this.#keys.size === 0) {
        throw error instanceof ApiError && error.final ? error : keysUnavailable(this.#secondsUntilFetch());
      }
      throw unauthenticated();
    }
    const fetched = this.#keys.get(kid);
    if (!fetched) throw unauthenticated();
    return fetched;
  }

  /**
   * The key set this isolate verifies with, for re-publishing at `GET /v1/jwks`: memory,
   * then KV, then Clerk under the same once-per-interval bound as an unknown `kid`, so an
   * anonymous caller can make this isolate call Clerk at most once per interval. Stale keys
   * are served while a refresh runs in the background.
   */
  async publicJwks(deps: KeyLookupDeps): Promise<{ keys: Jwks["keys"]; fetchedAt: number }> {
    if (this.#jwks.length === 0) {
      await this.#checkKv(deps.kv);
    }
    if (this.#jwks.length > 0) {
      if (this.#now() - this.#fetchedAt > JWKS_REFRESH_AFTER_MS && this.#mayFetch()) {
        deps.waitUntil(this.#fetchRemote(deps).catch(() => undefined));
      }
      return { keys: this.#jwks, fetchedAt: this.#fetchedAt };
    }
    if (!this.#remote && !this.#mayFetch()) throw keysUnavailable(this.#secondsUntilFetch());
    await this.#fetchRemote(deps);
    return { keys: this.#jwks, fetchedAt: this.#fetchedAt };
  }

  #secondsUntilFetch(): number {
    return Math.ceil((UNKNOWN_KID_REFETCH_INTERVAL_MS - (this.#now() - this.#lastRemoteFetch)) / 1000);
  }

  #mayFetch(): boolean {
    return this.#now() - this.#lastRemoteFetch >= UNKNOWN_KID_REFETCH_INTERVAL_MS;
  }

  /**
   * KV is read once per isolate. The read may belong to a request that is gone
   * (src/core/single-flight.ts): after a bounded wait this request reads KV itself.
   */
  async #checkKv(kv: KVNamespace): Promise<void> {
    this.#kvChecked ??= this.#loadFromKv(kv);
    const checking = this.#kvChecked;
    if (await joinWithin(checking)) return;
    const mine = this.#loadFromKv(kv);
    if (this.#kvChecked === checking) this.#kvChecked = mine;
    await mine;
  }

  /**
   * Concurrent fetches share one call, which outlives the request that started it (waitUntil).
   * If that request is gone anyway (src/core/single-flight.ts), a waiter fetches after a bounded wait:
   * the stalled call never reached Clerk's answer, so the once-per-interval bound is not spent.
   */
  async #fetchRemote(deps: KeyLookupDeps): Promise<void> {
    const running = this.#remote;
    if (running) {
      if (await joinWithin(running)) return;
      // It just finished (the caller looks for its key), or another waiter took over: join that one.
      if (this.#remote !== running) return this.#remote ? this.#fetchRemote(deps) : undefined;
    }
    const remote: Promise<void> = (async () => {
      this.#lastRemoteFetch = this.#now();
      this.remoteFetches++;
      const jwks = await deps.clerk().getJwks();
      await this.#install(jwks, this.#now());
      deps.waitUntil(storeJwks(deps.kv, this.#apiUrl, jwks).catch(() => undefined));
    })().finally(() => {
      if (this.#remote === remote) this.#remote = undefined;
    });
    this.#remote = remote;
    deps.waitUntil(remote.catch(() => undefined));
    await remote;
  }

  async #loadFromKv(kv: KVNamespace): Promise<void> {
    const stored = await readStoredJwks(kv, this.#apiUrl);
    if (stored && this.#keys.size === 0) await this.#install({ keys: stored.keys }, stored.fetched_at);
  }

  async #install(jwks: Jwks, fetchedAt: number): Promise<void> {
    const keys = new Map<string, CryptoKey>();
    const published: Jwks["keys"] = [];
    for (const jwk of jwks.keys) {
      if (jwk.kty !== "RSA" || !jwk.kid || (jwk.alg && jwk.alg !== "RS256") || (jwk.use && jwk.use !== "sig")) continue;
      try {
        keys.set(jwk.kid, (await importJWK({ ...jwk, alg: "RS256" }, "RS256")) as CryptoKey);
      } catch {
        // A key the runtime cannot import is one no token can be verified with: skip it.
        continue;
      }
      // Only an RSA public key's members: whatever else a key set carried is never re-published.
      if (jwk.n && jwk.e) published.push({ kty: "RSA", kid: jwk.kid, use: "sig", alg: "RS256", n: jwk.n, e: jwk.e });
    }
    if (keys.size === 0) throw upstreamUnavailable(502, "Clerk's JWKS holds no usable RS256 key");
    this.#keys = keys;
    this.#jwks = published;
    this.#fetchedAt = fetchedAt;
  }
}

/**
 * 503 with Retry-After: without any key the gateway cannot tell good tokens from bad, which is
 * Clerk's outage, not the caller's fault (a 401 would make Clerk's SDKs sign the user out).
 */
const keysUnavailable = (retryAfterSeconds: number) =>
  upstreamUnavailable(503, "Clerk's signing keys could not be loaded; retry later", Math.max(1, retryAfterSeconds));

/** A store holds a handful of imported RSA keys: estimated, not measured (CryptoKeys have no size). */
const stores = isolateMap<string, JwksKeyStore>("jwksStores", fixedBytes(8 * 1024));

/** One key store per Backend-API origin per isolate. */
export function jwksStoreFor(apiUrl: string): JwksKeyStore {
  let store = stores.get(apiUrl);
  if (!store) {
    store = new JwksKeyStore(apiUrl);
    stores.set(apiUrl, store);
  }
  return store;
}

const pemKeys = isolateMap<string, Promise<CryptoKey>>("pemKeys", fixedBytes(1024));

/** CLERK_JWT_KEY: networkless verification, the key imported once per isolate. */
export function pemKey(pem: string): Promise<CryptoKey> {
  let key = pemKeys.get(pem);
  if (!key) {
    key = importSPKI(pem, "RS256") as Promise<CryptoKey>;
    pemKeys.set(pem, key);
  }
  return key;
}
