/** See validate-openapi.mjs. */
export function validateOpenApi(path?: string): Promise<{ valid: boolean; version: string; errors: string }>;
