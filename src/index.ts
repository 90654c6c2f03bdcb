import { createApp } from "./app";

/** The per-user revocation authority (binding SESSION_DIRECTORY); workerd finds the class by this export. */
export { SessionDirectory } from "./directory/session-directory";

/** The Worker's entry point: the gateway app, built once per isolate. */
export default createApp();
