let calls = 0;
export default {
  async fetch(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === "/__emulator/calls") return Response.json({ calls });
    calls++;
    return Response.json({ host: url.host, path: url.pathname, auth: req.headers.get("authorization") });
  },
};
