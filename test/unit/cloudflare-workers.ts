/**
 * `cloudflare:workers` for the unit project, which runs in Node: the pure rules under test import
 * modules that name the platform's exports, and never reach them. Anything that does is a workerd test.
 */
export function waitUntil(promise: Promise<unknown>): void {
  void promise;
}

export class DurableObject {
  constructor() {
    throw new Error("a Durable Object in the unit project: this test belongs in workerd");
  }
}
