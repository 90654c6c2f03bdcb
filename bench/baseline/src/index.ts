import { createClerkClient, verifyToken } from "@clerk/backend";

/**
 * The baseline a Clerk user would write today: verify the session token with
 * `@clerk/backend`, then list the user's active sessions from Clerk's Backend API on
 * every request. No cache, no gateway. `npm run bench` measures the gateway against it.
 */
type Env = {
  CLERK_SECRET_KEY: string;
  CLERK_API_URL: string;
  CLERK_AUTHORIZED_PARTIES?: string;
};

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return Response.json({ status: "ok" });
    if (url.pathname !== "/v1/me/sessions/active") return new Response("not found", { status: 404 });
    const token = request.headers.get("Authorization")?.replace(/^Bearer\s+/i, "");
    if (!token) return new Response("unauthorized", { status: 401 });
    let claims: { sub: string };
    try {
      claims = await verifyToken(token, {
        secretKey: env.CLERK_SECRET_KEY,
        apiUrl: env.CLERK_API_URL,
        authorizedParties: env.CLERK_AUTHORIZED_PARTIES?.split(","),
      });
    } catch {
      return new Response("unauthorized", { status: 401 });
    }
    const clerk = createClerkClient({ secretKey: env.CLERK_SECRET_KEY, apiUrl: env.CLERK_API_URL });
    const { data } = await clerk.sessions.getSessionList({ userId: claims.sub, status: "active" });
    return Response.json(data);
  },
};
