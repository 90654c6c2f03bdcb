import { createApp } from "./app";
import { withOrigin } from "./proxy/dispatch";

/**
 * The Worker's entry point: the gateway app, built once per isolate, behind the front door
 * that sends everything else to ORIGIN_URL in proxy mode (a no-op without it).
 */
export default withOrigin(createApp());
