import { buildOpenApiDocument } from "./api/openapi";

/**
 * The gateway's OpenAPI document as a module, for `sessionGateway({ openapi })`. The package
 * ships it prebuilt (`clerk-session-gateway/openapi`, written by scripts/build-package.mjs), so
 * the generator never reaches an app's bundle; from source (the example's tests) it is built here.
 */
const document: Record<string, unknown> = buildOpenApiDocument();
export default document;
