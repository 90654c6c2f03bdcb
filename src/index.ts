import { Hono } from "hono";
import { sessionGateway } from "./hono";

/**
 * The standalone Worker: the gateway mounted at the root of an otherwise empty Hono app,
 * exactly as an app Worker mounts it under its own prefix (README, "Use it in your own Worker").
 */
const worker = new Hono();
worker.route("/", sessionGateway());

export default worker;
