import { describe, expect, it } from "vitest";
import { checkOptions } from "../../src/hono/options";

describe("clerkMiddleware()'s options, checked when it is built", () => {
  it("accepts what it implements", () => {
    expect(() =>
      checkOptions({
        secretKey: "sk_test_x",
        publishableKey: "pk_test_x",
        authorizedParties: ["https://app.example.com"],
        bindings: { SESSION_CACHE: "AUTH_KV" },
        jwtKey: undefined,
      }),
    ).not.toThrow();
  });

  it("names an option it accepts but does not implement, and why", () => {
    expect(() => checkOptions({ skipJwksCache: true })).toThrow(
      /"skipJwksCache" option is not implemented: .*round trip/,
    );
    expect(() => checkOptions({ organizationSyncOptions: {} })).toThrow(/"organizationSyncOptions"/);
    expect(() => checkOptions({ apiClient: {} })).toThrow(/"apiClient"/);
  });

  it("names an option it does not know (a typo is not ignored)", () => {
    expect(() => checkOptions({ authorisedParties: ["https://app.example.com"] })).toThrow(
      /has no option "authorisedParties"/,
    );
  });

  it("names an option whose value is of the wrong kind", () => {
    expect(() => checkOptions({ authorizedParties: "https://app.example.com" })).toThrow(
      /"authorizedParties" option must be an array of origins/,
    );
    expect(() => checkOptions({ secretKey: 42 })).toThrow(/"secretKey" option must be a string/);
  });

  it("an option left undefined is as good as absent", () => {
    expect(() => checkOptions({ skipJwksCache: undefined, apiClient: undefined })).not.toThrow();
  });
});
