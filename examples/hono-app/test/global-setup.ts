import { bundleWorker } from "../../../test/support/worker-bundle";

/** Bundles the Clerk emulator for Miniflare into this example's dist/ (the other projects bundle their own copy). */
export default async function setup() {
  const root = decodeURIComponent(new URL("../../../", import.meta.url).pathname);
  await bundleWorker(`${root}emulator/src/index.ts`, `${root}examples/hono-app/dist/emulator.js`);
}
