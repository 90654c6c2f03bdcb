/**
 * @module
 * Standard Webhooks (Svix) signature verification, as Clerk's webhooks are signed, on WebCrypto:
 * the `standardwebhooks` package's rules and messages (which `@clerk/backend` passes on), without
 * its pure-JavaScript SHA-256 and base64 in the Worker's bundle.
 *
 * A signature is `v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>`, several
 * space-separated; the secret is `whsec_<base64>`; a timestamp more than 5 minutes from now is
 * refused either way. The HMAC is compared by `crypto.subtle.verify`, in constant time.
 */
const TOLERANCE_SECONDS = 5 * 60;
const SECRET_PREFIX = "whsec_";

/** A delivery that is not what Clerk signed; its message is `standardwebhooks`' own. */
export class WebhookVerificationError extends Error {
  override name = "WebhookVerificationError";
}

export type WebhookHeaders = { id: string; timestamp: string; signature: string };

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/**
 * The parsed body of a delivery whose signature holds (undefined for an empty body). Throws
 * WebhookVerificationError when it does not, a SyntaxError when a signed body is not JSON, and
 * an Error when the secret itself cannot be decoded (the operator's error).
 */
export async function verifyWebhookSignature(
  secret: string,
  body: string,
  headers: WebhookHeaders,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Promise<unknown> {
  if (!headers.id || !headers.timestamp || !headers.signature) {
    throw new WebhookVerificationError("Missing required headers");
  }
  const raw = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const keyBytes = decodeBase64(raw);
  if (keyBytes.length === 0) throw new Error("Secret can't be empty.");

  const timestamp = Number.parseInt(headers.timestamp, 10);
  if (Number.isNaN(timestamp)) throw new WebhookVerificationError("Invalid Signature Headers");
  if (nowSeconds - timestamp > TOLERANCE_SECONDS) throw new WebhookVerificationError("Message timestamp too old");
  if (timestamp > nowSeconds + TOLERANCE_SECONDS) throw new WebhookVerificationError("Message timestamp too new");

  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const signed = new TextEncoder().encode(`${headers.id}.${timestamp}.${body}`);
  for (const versioned of headers.signature.split(" ")) {
    const [version, signature] = versioned.split(",");
    if (version !== "v1" || !signature) continue;
    let bytes: Uint8Array;
    try {
      bytes = decodeBase64(signature);
    } catch {
      continue;
    }
    if (await crypto.subtle.verify("HMAC", key, bytes, signed)) return body === "" ? undefined : JSON.parse(body);
  }
  throw new WebhookVerificationError("No matching signature found");
}
