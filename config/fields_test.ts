import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { configFields, cqiSections, secret } from "./mod.ts";

describe("configFields", () => {
  const fields = configFields();
  const field = (path: string) => fields.find((f) => f.path === path);

  it("documents every CQI field with its keys, type and default", () => {
    assert.deepEqual(field("database.maxConnections"), {
      path: "database.maxConnections",
      fileKey: "database.max_connections",
      envKey: "CQI_DATABASE_MAX_CONNECTIONS",
      type: "integer",
      required: false,
      default: "25",
      secret: false,
      description: "Largest number of pooled connections.",
    });
    assert.equal(field("database.host")?.required, true);
    assert.equal(field("database.connectionTimeout")?.type, "duration");
    assert.equal(field("database.connectionTimeout")?.default, "30s");
    assert.equal(field("database.password")?.type, "secret");
    assert.equal(field("database.password")?.secret, true);
    assert.equal(field("database.sslMode")?.type.split(" | ").length, 6);
    assert.equal(field("eventBus.brokers")?.envKey, "CQI_EVENT_BUS_BROKERS");
    assert.equal(field("eventBus.brokers")?.type, "list of string");
    assert.equal(field("eventBus.brokers")?.default, "[]");
    assert.equal(field("auth.apiKeys")?.envKey, "CQI_AUTH_API_KEYS");
    assert.match(field("auth.apiKeys")!.type, /^list of .* \(secret\)$/);
    assert.equal(field("auth.jwt.secret")?.envKey, "CQI_AUTH_JWT_SECRET");
    assert.equal(field("tracing.sampleRate")?.type, "number");
    assert.equal(field("metrics.enabled")?.type, "boolean");
  });

  it("gives every field a description", () => {
    assert.ok(fields.length > 50);
    for (const f of fields) assert.ok(f.description, f.path);
  });

  it("follows a service's own schema and prefix", () => {
    const schema = v.object({
      service: cqiSections.service,
      exchange: v.object({
        apiToken: secret(),
        rateLimit: v.optional(v.number(), 10),
      }),
    });
    const mine = configFields({ schema, prefix: "CQPM" });
    assert.deepEqual(mine.map((f) => [f.envKey, f.type, f.default]), [
      ["CQPM_SERVICE_NAME", "string", undefined],
      ["CQPM_SERVICE_VERSION", "string", "0.0.0"],
      ["CQPM_SERVICE_ENVIRONMENT", "string", "development"],
      ["CQPM_EXCHANGE_API_TOKEN", "secret", undefined],
      ["CQPM_EXCHANGE_RATE_LIMIT", "number", "10"],
    ]);
  });
});
