import { createApp } from "../../src/api/app";
import { memoryLookupTotals } from "../../src/core/memory-stats";
import type { Bindings } from "../../src/http/app-env";
import type { RevocationLogNamespace } from "../../src/revocation/recent";
import { kvKeys } from "../../src/storage/kv-schema";
import { LOG_UNREACHABLE_HEADER, MEMORY_PATH } from "./location-contract";

/**
 * A second gateway "location" for the cross-location tests: the same app, built into its own
 * auxiliary Worker (own isolate, so none of the first gateway's memory), sharing the KV
 * namespace and, when bound, the SessionDirectory namespace with it (vitest.config.ts).
 *
 * LOCATION_KV_NEVER_PROPAGATES="true" plays a location KV has not caught up with yet: its reads
 * of revocation markers never see one (KV documents up to 60 s; here, never), whatever the
 * shared namespace holds. Everything else reads and writes the shared namespace.
 */
type LocationEnv = Bindings & { LOCATION_KV_NEVER_PROPAGATES?: string };

// Info lines (one per request) would flood the test output, and they cannot reach the suite's
// reporter from an auxiliary Worker; warnings and errors still print.
console.log = () => undefined;

const app = createApp();
const envs = new WeakMap<object, Bindings>();
const envsWithoutLog = new WeakMap<object, Bindings>();

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === MEMORY_PATH) return Response.json(memoryLookupTotals());
    let located = envs.get(env);
    if (!located) {
      located =
        env.LOCATION_KV_NEVER_PROPAGATES === "true"
          ? { ...env, SESSION_CACHE: markersNeverArrive(env.SESSION_CACHE) }
          : env;
      envs.set(env, located);
    }
    if (request.headers.get(LOG_UNREACHABLE_HEADER) === "true") {
      let broken = envsWithoutLog.get(env);
      if (!broken) {
        broken = { ...located, REVOCATION_LOG: logNeverAnswers(located) };
        envsWithoutLog.set(env, broken);
      }
      located = broken;
    }
    return app.fetch(request, located, ctx);
  },
} satisfies ExportedHandler<LocationEnv>;

/** A revocation log whose every replica rejects every call (an overloaded or unreachable object). */
function logNeverAnswers(env: Bindings): RevocationLogNamespace {
  const namespace = env.REVOCATION_LOG;
  if (!namespace) throw new Error("REVOCATION_LOG is bound at this location");
  const fail = () => Promise.reject(new Error("the revocation log cannot be reached (test)"));
  const stub = { since: fail, append: fail };
  return {
    idFromName: (name: string) => namespace.idFromName(name),
    get: () => stub,
  } as unknown as RevocationLogNamespace;
}

function markersNeverArrive(kv: KVNamespace): KVNamespace {
  return new Proxy(kv, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property !== "get" && property !== "getWithMetadata")
        return typeof value === "function" ? value.bind(target) : value;
      return (key: unknown, ...rest: unknown[]) => {
        if (typeof key === "string" && key.startsWith(kvKeys.revoked(""))) {
          return Promise.resolve(property === "get" ? null : { value: null, metadata: null, cacheStatus: null });
        }
        return (value as (...args: unknown[]) => unknown).call(target, key, ...rest);
      };
    },
  });
}
