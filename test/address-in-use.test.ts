import { describe, expect, it } from "vitest";
import { addressInUse, isPort } from "../scripts/address-in-use.mjs";

/** `npm start` retries a wrangler that lost a port race; these are the lines it reads (scripts/dev-servers.mjs). */
describe("npm start reads a lost port race from wrangler's output", () => {
  it("wrangler's own error, coloured as the terminal gets it", () => {
    const line =
      "\u001b[31m✘ \u001b[41;31m[\u001b[41;97mERROR\u001b[41;31m]\u001b[0m \u001b[1mAddress already in use (127.0.0.1:18931). " +
      "Please check that you are not already running a server on this address or specify a different port with --port.\u001b[0m";
    expect(addressInUse(line)).toBe("127.0.0.1:18931");
  });

  it("IPv6, localhost and Node's EADDRINUSE", () => {
    expect(addressInUse("Address already in use ([::1]:8787). Please check…")).toBe("[::1]:8787");
    expect(addressInUse("Address already in use (localhost:8788).")).toBe("localhost:8788");
    expect(addressInUse("Error: listen EADDRINUSE: address already in use 127.0.0.1:9229")).toBe("127.0.0.1:9229");
  });

  it("an error that names no address: the port is unknown", () => {
    expect(
      addressInUse("✘ [ERROR] Address already in use. Please check that you are not already running a server"),
    ).toBe("");
    expect(addressInUse('Address already in use (socket "entry"). Please check…')).toBe("");
  });

  it("any other line is not about it", () => {
    expect(addressInUse("⎔ Starting local server...")).toBeNull();
    expect(addressInUse("[wrangler:info] Ready on http://127.0.0.1:8787")).toBeNull();
    expect(addressInUse('{"level":"info","msg":"request","route":"/v1/me/sessions/active","status":200}')).toBeNull();
  });

  it("which port it was: ours, or one wrangler picked for itself", () => {
    expect(isPort("127.0.0.1:8787", 8787)).toBe(true);
    expect(isPort("[::1]:8787", 8787)).toBe(true);
    expect(isPort("", 8787)).toBe(true);
    expect(isPort("127.0.0.1:9229", 8787)).toBe(false);
    expect(isPort("127.0.0.1:18787", 8787)).toBe(false);
  });
});
