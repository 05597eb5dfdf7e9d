import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CqiError } from "@cqi/errors";
import { checkTopic, topicOf } from "./topic.ts";

describe("topicOf", () => {
  it("snake-cases the message name and keeps the package", () => {
    assert.equal(
      topicOf("cqc.events.v1.PositionChanged"),
      "cqc.events.v1.position_changed",
    );
    assert.equal(
      topicOf("cqc.events.v1.HTTPRequestSeen"),
      "cqc.events.v1.http_request_seen",
    );
    assert.equal(
      topicOf("cqc.events.v2.Order2Filled"),
      "cqc.events.v2.order2_filled",
    );
    assert.equal(topicOf("Ping"), "ping");
  });

  it("refuses names that give no legal topic", () => {
    for (const name of ["", "cqc.events.", "a b.C", "x/y.Z", "é.A", ".A"]) {
      assert.throws(
        () => topicOf(name),
        (e) => e instanceof CqiError && e.kind === "invalid_input",
        name,
      );
    }
  });
});

describe("checkTopic", () => {
  it("accepts exactly Kafka's characters, with no empty dot-separated part", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (topic) => {
        const legal = /^[a-zA-Z0-9._-]{1,249}$/.test(topic) &&
          !topic.split(".").includes("");
        let accepted = true;
        try {
          checkTopic(topic);
        } catch (error) {
          assert.ok(
            error instanceof CqiError && error.kind === "invalid_input",
          );
          assert.ok(
            error.message.length < 300,
            "the message quotes at most a prefix",
          );
          accepted = false;
        }
        assert.equal(accepted, legal, JSON.stringify(topic));
      }),
      { numRuns: 2_000 },
    );
  });
});
