// The middleware package's entry; the bench builds this app only when that file exists.
import { memoryLookupTotals } from "../../../src/core/memory-stats";
import { clerkMiddleware, getAuth } from "../../../src/hono/index";
import { protectedApp } from "../handler";

/** The same app with this project's middleware: an import change, plus revocation checked on every request. */
const app = protectedApp(clerkMiddleware(), getAuth);
/**
 * Bench only: the isolate's memory counters (store reads, object calls), as the gateway's request
 * log line carries them; the middleware writes no line per request, so the bench reads them here.
 */
app.get("/__bench/memory", (c) => c.json(memoryLookupTotals()));
export default app;
