import { createApp } from "./app";

/** The Worker's entry point: the gateway app, built once per isolate. */
export default createApp();
