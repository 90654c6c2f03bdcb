/**
 * @module
 * Well-formed Clerk identifiers. Clerk's IDs are a prefix and a base62 KSUID (27
 * characters today); a little slack either way, but never a character that could
 * change the meaning of an upstream URL.
 */
export const SESSION_ID = /^sess_[A-Za-z0-9]{16,64}$/;
export const USER_ID = /^user_[A-Za-z0-9]{16,64}$/;
export const CLIENT_ID = /^client_[A-Za-z0-9]{16,64}$/;
export const ORGANIZATION_ID = /^org_[A-Za-z0-9]{16,64}$/;
export const TEMPLATE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
