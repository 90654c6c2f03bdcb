/**
 * @module
 * The client's address, as the gateway counts failures and shares budgets by it. Cloudflare
 * always sets `CF-Connecting-IP` on a request from the internet (a caller cannot forge it there:
 * Cloudflare overwrites it); only local runs lack it, and they all count as one "unknown" address.
 * Never taken from `X-Forwarded-For` or `X-Real-IP`, which any caller can write.
 */
export const clientAddress = (headers: Headers): string => headers.get("CF-Connecting-IP") ?? "unknown";
