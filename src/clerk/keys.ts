/**
 * @module
 * Clerk's publishable keys: `pk_(test|live)_` + base64(frontendApiHost + "$"), padding
 * optional. Decoded as Clerk's SDK decodes them (`@clerk/shared/keys`).
 */

export type PublishableKeyInstance = {
  /** `https://<frontend api host>`: the `iss` of every session token of the instance. */
  issuer: string;
  instanceType: "development" | "production";
};

export function parsePublishableKey(key: string): PublishableKeyInstance | null {
  const parts = key.split("_");
  if (parts.length !== 3 || parts[0] !== "pk" || (parts[1] !== "test" && parts[1] !== "live")) return null;
  let decoded: string;
  try {
    decoded = atob(parts[2] ?? "");
  } catch {
    return null;
  }
  if (!decoded.endsWith("$") || decoded.indexOf("$") !== decoded.length - 1) return null;
  const host = decoded.slice(0, -1);
  if (!host.includes(".") || !/^[a-z0-9.-]+(:\d+)?$/i.test(host)) return null;
  return { issuer: `https://${host}`, instanceType: parts[1] === "live" ? "production" : "development" };
}
