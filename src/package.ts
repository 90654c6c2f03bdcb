/**
 * `clerk-session-gateway`: the building blocks under the Hono entry (`clerk-session-gateway/hono`),
 * for apps that compose the gateway themselves.
 */
export { createApp as createGatewayApp, MAX_BODY_BYTES, MAX_WEBHOOK_BODY_BYTES } from "./api/app";
export type { SessionClaims } from "./auth/principal";
export { checkSessionToken, type SessionCheck } from "./auth/session-check";
export { type TokenRejection, type VerifyResult, verifySessionToken } from "./auth/session-token";
export { type GatewayConfig, loadConfig, parseConfig } from "./config/settings";
export { ApiError, type ClerkErrorEnvelope } from "./core/errors";
export { type GatewayBindingName, type GatewayOptions, gatewayEnv } from "./hono/bindings";
export type { Bindings } from "./http/app-env";
/** The per-user revocation authority: an app Worker exports it to host the objects, or binds the gateway's. */
export { RevocationLog } from "./revocation/revocation-log";
export { isRevoked, markRevoked } from "./revocation/revocations";
export { SessionDirectory } from "./revocation/session-directory";
