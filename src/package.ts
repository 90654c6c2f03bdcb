/**
 * `clerk-session-gateway`: the building blocks under the Hono entry (`clerk-session-gateway/hono`),
 * for apps that compose the gateway themselves.
 */
export { createApp as createGatewayApp, MAX_BODY_BYTES, MAX_WEBHOOK_BODY_BYTES } from "./app";
export type { SessionClaims } from "./auth/principal";
export { checkSessionToken, type SessionCheck } from "./auth/session-check";
export { type TokenRejection, type VerifyResult, verifySessionToken } from "./auth/session-token";
export { isRevoked, markRevoked } from "./cache/revocations";
/** The per-user revocation authority: an app Worker exports it to host the objects, or binds the gateway's. */
export { SessionDirectory } from "./directory/session-directory";
export { type Bindings, type GatewayConfig, loadConfig, parseConfig } from "./env";
export { ApiError, type ClerkErrorEnvelope } from "./errors";
export { type GatewayBindingName, type GatewayOptions, gatewayEnv } from "./hono/bindings";
