import { type Context, Hono, type MiddlewareHandler } from "hono";

/**
 * The small app route both middlewares protect in `npm run bench`: the same handler, the
 * same path, only the middleware and its `getAuth` change. It answers who is signed in,
 * or 401 in Clerk's error envelope.
 */
export type GetAuth = (c: Context) => { userId: string | null; sessionId?: string | null };

export function protectedApp(middleware: MiddlewareHandler, getAuth: GetAuth) {
  const app = new Hono();
  app.use("/api/*", middleware);
  app.get("/api/me", (c) => {
    const { userId, sessionId } = getAuth(c);
    if (!userId) {
      return c.json({ errors: [{ code: "authentication_invalid", message: "Unauthenticated" }] }, 401);
    }
    return c.json({ userId, sessionId: sessionId ?? null });
  });
  return app;
}
