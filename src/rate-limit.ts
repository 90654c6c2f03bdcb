import type { ApiError } from "./errors";

/**
 * Thin wrapper over the Workers Rate Limiting binding: an unbound limiter means no limit
 * of that kind (local runs without the binding keep working), a refusal becomes the
 * error the caller builds (a 429 with Retry-After in Clerk's envelope).
 */
export async function limitOrThrow(limiter: RateLimit | undefined, key: string, error: () => ApiError): Promise<void> {
  if (!limiter) return;
  const { success } = await limiter.limit({ key });
  if (!success) throw error();
}
