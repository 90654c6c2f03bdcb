import { quietInjectedDropsForRun } from "../support/quiet-faults";
import { bundleWorker } from "../support/worker-bundle";

/**
 * Bundles the two auxiliary Workers of the proxy project: the recording origin and the
 * Clerk emulator (a copy of its own, so the two projects' setups never write one file).
 */
export default async function setup() {
  // This project's origin drops connections and its clients break uploads off on purpose.
  const restoreOutput = quietInjectedDropsForRun();
  await Promise.all([
    bundleWorker("test/proxy/origin/index.ts", "test/proxy/dist/origin.js"),
    bundleWorker("emulator/src/index.ts", "test/proxy/dist/emulator.js"),
  ]);
  return restoreOutput;
}
