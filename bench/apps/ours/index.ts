// The middleware package's entry; the bench builds this app only when that file exists.
import { clerkMiddleware, getAuth } from "../../../src/hono/index";
import { protectedApp } from "../handler";

/** The same app with this project's middleware: an import change, plus revocation checked on every request. */
export default protectedApp(clerkMiddleware(), getAuth);
