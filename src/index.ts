import { createApp } from "./app";
import { withOrigin } from "./proxy/dispatch";

/** The per-user revocation authority (binding SESSION_DIRECTORY); workerd finds the class by this export. */
export { SessionDirectory } from "./directory/session-directory";

/**
 * The Worker's entry point: the gateway app, built once per isolate, behind the front door
 * that sends everything else to ORIGIN_URL in proxy mode (a no-op without it).
 */
export default withOrigin(createApp());
