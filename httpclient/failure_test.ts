import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { failureOf } from "./failure.ts";

const error = (message: string, code?: string, cause?: unknown) =>
  Object.assign(new TypeError(message, { cause }), code ? { code } : {});

describe("failureOf", () => {
  it("a connection that failed, as Deno and Bun say it, is network", () => {
    for (
      const e of [
        error(
          "fetch failed",
          undefined,
          new Error(
            "error sending request for url (http://127.0.0.1:9/): client error (Connect): tcp connect error: Connection refused (os error 111)",
          ),
        ),
        error("ECONNREFUSED: Unable to connect.", "ECONNREFUSED"),
        error("The socket connection was closed unexpectedly.", "ECONNRESET"),
        error("getaddrinfo ENOTFOUND nonexistent.invalid", "ENOTFOUND"),
      ]
    ) assert.equal(failureOf(e), "network", e.message);
  });

  it("a URL or a port fetch refuses is not, whatever the URL holds", () => {
    assert.equal(
      failureOf(error("Invalid URL http://h/connection-refused")),
      "url",
    );
    assert.equal(
      failureOf(error("fetch() URL is invalid", "ERR_INVALID_URL")),
      "url",
    );
    assert.equal(
      failureOf(error("Fetch failed: Requests to port 1 are blocked")),
      "refused",
    );
    assert.equal(
      failureOf(error("Request with a body http://h/dns")),
      "refused",
    );
  });
});
