export default {
  async fetch(req: Request, env: { CLERK_API_URL?: string }): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === "/up") return fetch(`${env.CLERK_API_URL ?? "https://api.clerk.com"}/v1/jwks`);
    return new Response("ok");
  },
};
