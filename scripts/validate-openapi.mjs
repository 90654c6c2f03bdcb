#!/usr/bin/env node
/**
 * Validates public/openapi.json (built by scripts/build-web.mjs) as an OpenAPI document with
 * @seriousme/openapi-schema-validator, which checks against the official 3.1 schemas. It runs
 * in Node (it needs Ajv, which workerd cannot run): the tests' global setup calls it and hands
 * the result to test/openapi.test.ts; `node scripts/validate-openapi.mjs` prints it.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Validator } from "@seriousme/openapi-schema-validator";

export async function validateOpenApi(path = fileURLToPath(new URL("../public/openapi.json", import.meta.url))) {
  const validator = new Validator();
  const result = await validator.validate(JSON.parse(await readFile(path, "utf8")));
  return {
    valid: result.valid,
    version: String(validator.version),
    errors: result.valid ? "" : JSON.stringify(result.errors, null, 2),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = await validateOpenApi();
  console.log(result.valid ? `public/openapi.json is valid OpenAPI ${result.version}` : result.errors);
  process.exitCode = result.valid ? 0 : 1;
}
