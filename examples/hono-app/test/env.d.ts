// Types for `env` and `exports` from "cloudflare:workers" in the example's tests.
declare namespace Cloudflare {
  interface Env {
    AUTH_KV: KVNamespace;
    AUTH_DIRECTORY: DurableObjectNamespace<import("../../../src/revocation/session-directory").SessionDirectory>;
    AUTH_REVOCATION_LOG: DurableObjectNamespace<import("../../../src/revocation/revocation-log").RevocationLog>;
    CLERK_WEBHOOK_SIGNING_SECRET: string;
  }
  interface GlobalProps {
    mainModule: typeof import("../src/index");
  }
}
