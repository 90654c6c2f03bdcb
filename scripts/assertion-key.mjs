#!/usr/bin/env node
/**
 * `npm run assertion-key [-- --es256]`: a new private key for ORIGIN_ASSERTION_KEYS, printed as
 * the JWK the setting takes (Ed25519 by default; P-256 for origins whose JWT library lacks EdDSA).
 * Set it with `npx wrangler secret put ORIGIN_ASSERTION_KEYS`; to rotate, see the README.
 */
import { generateKeyPairSync } from "node:crypto";

const es256 = process.argv.includes("--es256");
const { privateKey } = es256 ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("ed25519");
console.log(JSON.stringify(privateKey.export({ format: "jwk" })));
