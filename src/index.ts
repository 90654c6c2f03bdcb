import { Hono } from "hono";
import { standaloneGateway } from "./hono/gateway";
import { withOrigin } from "./proxy/dispatch";

/** The recent revocations every location reads (binding REVOCATION_LOG, docs/directory.md). */
export { RevocationLog } from "./revocation/revocation-log";
/** The per-user revocation authority (binding SESSION_DIRECTORY); workerd finds the class by this export. */
export { SessionDirectory } from "./revocation/session-directory";

/**
 * The standalone Worker: the gateway mounted at the root of an otherwise empty Hono app, as an
 * app Worker mounts it under its own prefix (README, "Use it in your own Worker"), its
 * /openapi.json being the static asset beside its pages; behind the front door that sends
 * everything else to ORIGIN_URL in proxy mode (a no-op without it).
 */
const worker = new Hono();
worker.route("/", standaloneGateway());

export default withOrigin(worker);
