import { env } from "cloudflare:workers";
import { REVOCATION_LOG_REPLICAS } from "../../src/revocation/recent";

/** The SESSION_DIRECTORY namespace: bound in wrangler.toml, so a test without it fails loudly. */
export function directory() {
  const namespace = env.SESSION_DIRECTORY;
  if (!namespace) throw new Error("SESSION_DIRECTORY is bound in wrangler.toml");
  return namespace;
}

/** The object named `name` (a user id), addressed as the gateway addresses it: `idFromName`. */
export function directoryObject(name: string) {
  const namespace = directory();
  return namespace.get(namespace.idFromName(name));
}

/**
 * What another isolate's revoke writes besides the user's object: the session in every replica
 * of the revocation log (src/revocation/recent.ts), which this isolate reads about once a second.
 */
export async function appendToLog(sessionId: string) {
  const namespace = env.REVOCATION_LOG;
  if (!namespace) throw new Error("REVOCATION_LOG is bound in wrangler.toml");
  await Promise.all(
    REVOCATION_LOG_REPLICAS.map((hint) =>
      namespace.get(namespace.idFromName(`revocation-log:${hint}`)).append([sessionId]),
    ),
  );
}
