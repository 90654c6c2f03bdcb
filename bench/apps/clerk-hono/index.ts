import { clerkMiddleware, getAuth } from "@clerk/hono";
import { protectedApp } from "../handler";

/** What a Hono app on Workers uses today: `@clerk/hono`, reading CLERK_SECRET_KEY and CLERK_PUBLISHABLE_KEY. */
export default protectedApp(clerkMiddleware(), getAuth);
