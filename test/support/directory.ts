import { env } from "cloudflare:workers";

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
