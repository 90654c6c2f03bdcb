// Types for `env` and `exports` from "cloudflare:workers" in tests: the gateway's own bindings and entry module.
declare namespace Cloudflare {
  type GatewayBindings = import("../src/http/app-env").Bindings;
  interface Env extends GatewayBindings {}
  interface GlobalProps {
    mainModule: typeof import("../src/index");
  }
}
