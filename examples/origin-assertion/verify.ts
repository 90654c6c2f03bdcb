import { createRemoteJWKSet, type JWTPayload, jwtVerify, type RemoteJWKSetOptions } from "jose";

/** Checks the gateway's X-Gateway-Assertion on a request an origin received from it. */
export function gatewayAssertionVerifier(gatewayUrl: string, originUrl: string, jwks: RemoteJWKSetOptions = {}) {
  const keys = createRemoteJWKSet(new URL(`${gatewayUrl}/.well-known/gateway-jwks.json`), jwks);
  const used = new Map<string, number>(); // jti → when it expires: an assertion is good for one request
  return async function verify(request: Request): Promise<JWTPayload> {
    const { payload } = await jwtVerify(request.headers.get("X-Gateway-Assertion") ?? "", keys, {
      issuer: new URL(gatewayUrl).origin,
      audience: originUrl,
      maxTokenAge: 60,
    });
    const { pathname } = new URL(request.url);
    if (payload.htm !== request.method || payload.htu !== new URL(pathname, originUrl).href) {
      throw new Error("the assertion was made for another request");
    }
    for (const [jti, expires] of used) if (expires < Date.now()) used.delete(jti);
    if (!payload.jti || used.has(payload.jti)) throw new Error("the assertion was already used");
    used.set(payload.jti, (payload.exp ?? 0) * 1000);
    return payload; // sub, sid (and org_id): who is calling; absent on PUBLIC_PATHS
  };
}
