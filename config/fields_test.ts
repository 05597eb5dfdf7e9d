import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { fieldTable, isSecretAt, snakeCase } from "./fields.ts";
import { configFields, cqiSchema, cqiSections, secret } from "./mod.ts";
import { describe as shapeOf } from "./valibot_adapter.ts";

describe("the field table", () => {
  it("converts field names to file keys and environment keys", () => {
    assert.equal(snakeCase("maxConnections"), "max_connections");
    assert.equal(snakeCase("eventBus"), "event_bus");
    assert.equal(snakeCase("jwksURL"), "jwks_url");
    assert.equal(snakeCase("port"), "port");
    const schema = shapeOf(v.object({
      database: v.object({ maxConnections: v.number() }),
      eventBus: v.object({ brokers: v.array(v.string()) }),
    }));
    assert.deepEqual(
      fieldTable(schema, "CQI").map((f) => [f.fileKey, f.envKey]),
      [
        ["database.max_connections", "CQI_DATABASE_MAX_CONNECTIONS"],
        ["event_bus.brokers", "CQI_EVENT_BUS_BROKERS"],
      ],
    );
    assert.equal(fieldTable(schema, "")[1].envKey, "EVENT_BUS_BROKERS");
  });

  it("lists fields depth first, sections included", () => {
    const schema = v.object({
      a: v.object({ b: v.string(), c: v.optional(v.number()) }),
      d: v.optional(v.object({ e: v.array(v.string()) })),
      f: v.union([v.string(), v.object({ g: v.string() })]),
    });
    const fields = fieldTable(shapeOf(schema), "CQI").map((
      l,
    ) => [l.path.join("."), l.required]);
    assert.deepEqual(fields, [["a.b", true], ["a.c", false], ["d.e", true], [
      "f",
      true,
    ]]);
  });

  it("finds secrets, including everything below a secret", () => {
    const schema = shapeOf(v.object({
      db: v.object({ password: v.optional(secret()), host: v.string() }),
      keys: v.pipe(
        v.array(v.object({ k: v.string() })),
        v.metadata({ secret: true }),
      ),
    }));
    assert.equal(isSecretAt(schema, ["db", "password"]), true);
    assert.equal(isSecretAt(schema, ["db", "host"]), false);
    assert.equal(isSecretAt(schema, ["keys", 0, "k"]), true);
    assert.equal(isSecretAt(schema, ["nope", "x"]), false);
    assert.equal(isSecretAt(schema, ["db", "toString"]), false);
    const cqi = shapeOf(cqiSchema);
    assert.equal(isSecretAt(cqi, ["auth", "apiKeys", 1]), true);
    assert.equal(isSecretAt(cqi, ["auth", "jwt", "secret"]), true);
    assert.equal(isSecretAt(cqi, ["auth", "jwt", "issuer"]), false);
  });
});

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
    assert.deepEqual(
      [
        "password",
        "token",
        "maxAge",
        "replicas",
        "subjects",
        "backoff",
        "maxAckPending",
      ].map((name) => {
        const f = field(`eventBus.${name}`)!;
        return [f.fileKey, f.envKey, f.type, f.default, f.secret];
      }),
      [
        [
          "event_bus.password",
          "CQI_EVENT_BUS_PASSWORD",
          "secret",
          undefined,
          true,
        ],
        ["event_bus.token", "CQI_EVENT_BUS_TOKEN", "secret", undefined, true],
        [
          "event_bus.max_age",
          "CQI_EVENT_BUS_MAX_AGE",
          "duration",
          undefined,
          false,
        ],
        [
          "event_bus.replicas",
          "CQI_EVENT_BUS_REPLICAS",
          "integer",
          undefined,
          false,
        ],
        [
          "event_bus.subjects",
          "CQI_EVENT_BUS_SUBJECTS",
          "list of string",
          undefined,
          false,
        ],
        [
          "event_bus.backoff",
          "CQI_EVENT_BUS_BACKOFF",
          "list of duration",
          undefined,
          false,
        ],
        [
          "event_bus.max_ack_pending",
          "CQI_EVENT_BUS_MAX_ACK_PENDING",
          "integer",
          undefined,
          false,
        ],
      ],
    );
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
