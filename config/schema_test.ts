import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import * as v from "valibot";
import { cqiSchema, JWT_ALGORITHMS, loadConfig, Secret } from "./mod.ts";

const parse = (input: Record<string, unknown>) =>
  v.safeParse(cqiSchema, { service: { name: "svc" }, ...input }, {
    abortEarly: false,
  });
const valid = (input: Record<string, unknown>) => {
  const result = parse(input);
  assert.ok(
    result.success,
    JSON.stringify(result.issues?.map((i) => i.message)),
  );
  return result.output;
};
const problems = (input: Record<string, unknown>) => {
  const result = parse(input);
  assert.equal(result.success, false, "expected the input to be rejected");
  return result.issues!.map((i) => [
    i.path?.map((p: { key: unknown }) => p.key).join("."),
    i.message,
  ]);
};

describe("CQI sections", () => {
  it("fills every default and leaves optional sections out", () => {
    assert.deepEqual(valid({}), {
      service: { name: "svc", version: "0.0.0", environment: "development" },
      server: {
        host: "0.0.0.0",
        port: 8080,
        idleTimeout: 10_000,
        shutdownTimeout: 30_000,
        shutdownDelay: 0,
      },
      log: { level: "info", format: "json", output: "stdout" },
      metrics: { enabled: false, port: 9090, path: "/metrics" },
      tracing: {
        enabled: false,
        exporter: "otlp-grpc",
        endpoint: "localhost:4317",
        sampler: "ratio",
        sampleRate: 0.1,
        shutdownTimeout: 2_000,
      },
      retry: {
        maxAttempts: 10,
        initialDelay: 100,
        maxDelay: 5_000,
        multiplier: 2,
        jitter: 0.25,
      },
    });
  });

  it("requires the service name", () => {
    const result = v.safeParse(cqiSchema, {});
    assert.equal(result.success, false);
    assert.deepEqual(
      result.issues?.[0].path?.map((p: { key: unknown }) => p.key),
      ["service"],
    );
  });

  it("enables metrics and tracing when their section is present", () => {
    const out = valid({ metrics: {}, tracing: { enabled: false } });
    assert.equal(out.metrics.enabled, true);
    assert.equal(out.tracing.enabled, false);
  });

  it("fills database and cache defaults once host and name are given", () => {
    const out = valid({
      database: { host: "db", database: "app" },
      cache: { host: "redis" },
    });
    assert.deepEqual(out.database, {
      host: "db",
      port: 5432,
      database: "app",
      user: "postgres",
      maxConnections: 25,
      minConnections: 2,
      connectionTimeout: 30_000,
      queryTimeout: 30_000,
      idleTimeout: 600_000,
      maxLifetime: 3_600_000,
      sslMode: "prefer",
    });
    assert.deepEqual(out.cache, {
      host: "redis",
      port: 6379,
      database: 0,
      connectionTimeout: 5_000,
      readTimeout: 3_000,
      writeTimeout: 3_000,
      poolSize: 10,
      minIdleConnections: 2,
    });
  });

  it("needs what makes a present section usable", () => {
    assert.deepEqual(problems({ database: { port: 5432 } }).map((p) => p[0]), [
      "database.host",
      "database.database",
    ]);
    assert.deepEqual(problems({ cache: {} }).map((p) => p[0]), ["cache.host"]);
    assert.deepEqual(
      problems({ eventBus: { brokers: ["b:9092"] } }).map((p) => p[0]),
      ["eventBus.backend"],
    );
    assert.deepEqual(problems({ eventBus: { backend: "kafka" } }), [
      ["eventBus.brokers", "expected at least one broker for this backend"],
    ]);
    assert.equal(
      valid({ eventBus: { backend: "memory" } }).eventBus?.backend,
      "memory",
    );
  });

  it("validates ports, sizes, ratios and enums, not only types", () => {
    const bad = problems({
      server: { port: -1 },
      metrics: { port: 65_536, path: "metrics" },
      database: {
        host: "db",
        database: "app",
        port: 54.5,
        maxConnections: 0,
        sslMode: "sometimes",
      },
      cache: { host: "r", poolSize: 2, minIdleConnections: 3 },
      tracing: { sampleRate: 1.5, sampler: "often" },
      log: { level: "loud", format: "xml", output: "" },
      retry: { initialDelay: 10_000, maxDelay: 1_000, jitter: -0.1 },
    });
    const paths = bad.map((p) => p[0]);
    for (
      const path of [
        "server.port",
        "metrics.port",
        "metrics.path",
        "database.port",
        "database.maxConnections",
        "database.sslMode",
        "cache.minIdleConnections",
        "tracing.sampleRate",
        "tracing.sampler",
        "log.level",
        "log.format",
        "log.output",
        "retry.initialDelay",
        "retry.jitter",
      ]
    ) assert.ok(paths.includes(path), `${path} in ${paths}`);
    assert.ok(bad.some(([, m]) => m === "expected a port number 1-65535"));
    const listen = valid({ server: { port: 0 }, metrics: { port: 0 } });
    assert.equal(listen.server.port, 0, "a port to listen on may be 0");
    assert.equal(listen.metrics?.port, 0);
  });

  it("takes server.shutdownDelay as a duration that may be zero, default 0", () => {
    assert.equal(valid({}).server.shutdownDelay, 0);
    for (const [input, ms] of [["5s", 5_000], ["0s", 0], [0, 0], [250, 250]]) {
      assert.equal(
        valid({ server: { shutdownDelay: input } }).server.shutdownDelay,
        ms,
        String(input),
      );
    }
    for (const bad of ["-5s", -1, "soon", true]) {
      assert.deepEqual(
        problems({ server: { shutdownDelay: bad } }).map((p) => p[0]),
        ["server.shutdownDelay"],
        String(bad),
      );
    }
    // the other durations stay positive
    assert.deepEqual(problems({ server: { shutdownTimeout: "0s" } }), [
      ["server.shutdownTimeout", "expected a positive duration"],
    ]);
  });

  it("checks minConnections against maxConnections", () => {
    assert.deepEqual(
      problems({
        database: { host: "db", database: "a", maxConnections: 1 },
      }),
      [["database.minConnections", "expected at most maxConnections"]],
    );
  });
});

describe("auth section", () => {
  it("reads key and serviceId:key entries, naming them by position", () => {
    const out = valid({ auth: { apiKeys: ["k1", "billing:k2"] } });
    const keys = out.auth!.apiKeys;
    assert.deepEqual(keys.map((k) => [k.id, k.serviceId, k.key?.reveal()]), [
      ["key-1", undefined, "k1"],
      ["key-2", "billing", "k2"],
    ]);
    assert.ok(keys[0].key instanceof Secret);
  });

  it("reads records with a key or a hash, and scopes", () => {
    const out = valid({
      auth: {
        apiKeys: [
          { id: "a", key: "k", scopes: ["orders:read"] },
          { hash: "ab".repeat(32), serviceId: "ops" },
        ],
      },
    });
    assert.deepEqual(out.auth!.apiKeys.map((k) => k.id), ["a", "key-2"]);
    assert.deepEqual(out.auth!.apiKeys[0].scopes, ["orders:read"]);
    assert.equal(out.auth!.apiKeys[1].hash, "ab".repeat(32));
    assert.deepEqual(out.auth!.apiKeys[1].scopes, []);
  });

  it("rejects keys that cannot be used", () => {
    const bad = problems({
      auth: {
        apiKeys: [
          "svc:",
          { id: "x", key: "k", hash: "h" },
          { id: "y" },
          42,
          { key: "" },
        ],
      },
    }).map((p) => p.join(": "));
    assert.deepEqual(bad, [
      "auth.apiKeys.0: expected a non-empty key",
      "auth.apiKeys.1: expected exactly one of key and hash",
      "auth.apiKeys.2: expected exactly one of key and hash",
      "auth.apiKeys.3: expected a key, serviceId:key, or { id, key | hash, serviceId, scopes }",
      // loadConfig reports the record's own issue (see load_errors_test.ts).
      "auth.apiKeys.4: expected a key, serviceId:key, or { id, key | hash, serviceId, scopes }",
    ]);
    assert.deepEqual(
      problems({
        auth: { apiKeys: [{ id: "a", key: "1" }, { id: "a", key: "2" }] },
      }),
      [["auth.apiKeys", "expected unique key ids"]],
    );
  });

  it("needs keys or a jwt block, and the jwt block a key source", () => {
    assert.deepEqual(problems({ auth: {} }), [[
      "auth",
      "expected api keys or a jwt block",
    ]]);
    assert.deepEqual(problems({ auth: { jwt: { issuer: "me" } } }), [[
      "auth.jwt",
      "expected secret, publicKey or jwksUrl",
    ]]);
    assert.deepEqual(
      problems({
        auth: { jwt: { jwksUrl: "not a url", algorithms: ["none"] } },
      })
        .map((p) => p[0]),
      ["auth.jwt.jwksUrl", "auth.jwt.algorithms.0"],
    );
    const out = valid({
      auth: {
        jwt: { jwksUrl: "https://id.example.com/jwks", audience: ["a"] },
      },
    });
    assert.equal(out.auth!.jwt!.clockTolerance, 30_000);
    assert.deepEqual(out.auth!.apiKeys, []);
  });

  it("accepts every algorithm of JWT_ALGORITHMS, Ed25519 included", async () => {
    assert.ok(JWT_ALGORITHMS.includes("Ed25519"));
    const jwksUrl = "https://id.example.com/jwks";
    const out = valid({
      auth: { jwt: { jwksUrl, algorithms: [...JWT_ALGORITHMS] } },
    });
    assert.deepEqual(out.auth!.jwt!.algorithms, JWT_ALGORITHMS);
    const config = await loadConfig({
      envFile: false,
      env: {
        CQI_SERVICE_NAME: "svc",
        CQI_AUTH_JWT_JWKS_URL: jwksUrl,
        CQI_AUTH_JWT_ALGORITHMS: "Ed25519,EdDSA",
      },
    });
    assert.deepEqual(config.auth!.jwt!.algorithms, ["Ed25519", "EdDSA"]);
  });
});

describe("eventBus section: NATS JetStream settings", () => {
  const nats = (settings: Record<string, unknown>) => ({
    eventBus: { backend: "nats", brokers: ["nats:4222"], ...settings },
  });
  const NATS_FIELDS = [
    "username",
    "password",
    "token",
    "stream",
    "subjects",
    "maxAge",
    "maxBytes",
    "maxMessages",
    "replicas",
    "duplicateWindow",
    "maxDeliver",
    "ackWait",
    "maxAckPending",
    "backoff",
  ] as const;

  it("leaves every NATS setting undefined when unset: @cqi/bus has the defaults", () => {
    const bus = valid(nats({})).eventBus!;
    assert.deepEqual(bus, { backend: "nats", brokers: ["nats:4222"] });
    for (const name of NATS_FIELDS) assert.equal(bus[name], undefined, name);
    const kafka = valid({
      eventBus: { backend: "kafka", brokers: ["k:9092"] },
    });
    for (const name of NATS_FIELDS) {
      assert.equal(kafka.eventBus![name], undefined, name);
    }
  });

  it("reads every setting, durations in milliseconds", () => {
    const { password, token, ...bus } = valid(nats({
      consumerGroup: "cqpm",
      username: "cqpm",
      password: "nats-pw",
      token: "nats-token",
      stream: "ORDERS",
      subjects: ["orders.v1.>", "audit.*.events"],
      maxAge: "168h",
      maxBytes: 1_073_741_824,
      maxMessages: 1_000_000,
      replicas: 3,
      duplicateWindow: "2m",
      maxDeliver: 4,
      ackWait: "30s",
      maxAckPending: 1_000,
      backoff: ["1s", 5_000, "1m"],
    })).eventBus!;
    assert.deepEqual(bus, {
      backend: "nats",
      brokers: ["nats:4222"],
      consumerGroup: "cqpm",
      username: "cqpm",
      stream: "ORDERS",
      subjects: ["orders.v1.>", "audit.*.events"],
      maxAge: 604_800_000,
      maxBytes: 1_073_741_824,
      maxMessages: 1_000_000,
      replicas: 3,
      duplicateWindow: 120_000,
      maxDeliver: 4,
      ackWait: 30_000,
      maxAckPending: 1_000,
      backoff: [1_000, 5_000, 60_000],
    });
    assert.ok(password instanceof Secret);
    assert.ok(token instanceof Secret);
    assert.equal(password.reveal(), "nats-pw");
    assert.equal(token.reveal(), "nats-token");
  });

  it("still needs brokers for NATS", () => {
    assert.deepEqual(problems({ eventBus: { backend: "nats" } }), [
      ["eventBus.brokers", "expected at least one broker for this backend"],
    ]);
  });

  it("takes password and token as Secrets that never print", () => {
    const bus = valid(nats({ password: "pw-VALUE", token: "tok-VALUE" }))
      .eventBus!;
    for (const secret of [bus.password, bus.token]) {
      assert.ok(secret instanceof Secret);
      assert.equal(String(secret), "[REDACTED]");
    }
    const printed = [
      JSON.stringify(bus),
      `${bus.password} ${bus.token}`,
      inspect(bus, { depth: 5 }),
      inspect(valid(nats({ password: "pw-VALUE" })), { depth: 5 }),
    ].join("\n");
    assert.ok(!printed.includes("VALUE"), printed);
    assert.deepEqual(problems(nats({ password: "", token: 42 })), [
      ["eventBus.password", "expected a non-empty secret"],
      ["eventBus.token", "expected a string"],
    ]);
  });

  it("checks the stream name: 1-255 characters, none special", () => {
    for (const name of ["CQC_EVENTS", "orders-v1", "x".repeat(255)]) {
      assert.equal(valid(nats({ stream: name })).eventBus?.stream, name);
    }
    const special =
      'expected a stream name without whitespace, ".", "*", ">", "/" or "\\"';
    const cases: [string, string][] = [
      ["", "expected a non-empty string"],
      ["x".repeat(256), "expected a stream name of at most 255 characters"],
      ["cqc events", special],
      ["cqc\tevents", special],
      ["cqc.events", special],
      ["events*", special],
      ["events>", special],
      ["cqc/events", special],
      ["cqc\\events", special],
    ];
    for (const [name, message] of cases) {
      assert.deepEqual(problems(nats({ stream: name })), [
        ["eventBus.stream", message],
      ], JSON.stringify(name));
    }
  });

  it("checks each subject: tokens, no whitespace, wildcards as whole tokens", () => {
    const fine = ["cqc.events.v1.>", "a.*.c", "*", ">", "orders", "a.*.>"];
    assert.deepEqual(valid(nats({ subjects: fine })).eventBus?.subjects, fine);
    const cases: [string, string][] = [
      ["", "expected a non-empty string"],
      ["a..b", 'expected a NATS subject of non-empty tokens separated by "."'],
      [".a", 'expected a NATS subject of non-empty tokens separated by "."'],
      ["a.", 'expected a NATS subject of non-empty tokens separated by "."'],
      ["a b", "expected a NATS subject without whitespace"],
      ["a.\tb", "expected a NATS subject without whitespace"],
      ["a.>.b", 'expected ">" only as the last token of a NATS subject'],
      ["a.b>", 'expected ">" only as the last token of a NATS subject'],
      ["a.b*", 'expected "*" only as a whole token of a NATS subject'],
      ["*a.b", 'expected "*" only as a whole token of a NATS subject'],
    ];
    for (const [subject, message] of cases) {
      assert.deepEqual(problems(nats({ subjects: ["ok.>", subject] })), [
        ["eventBus.subjects.1", message],
      ], JSON.stringify(subject));
    }
    assert.deepEqual(problems(nats({ subjects: "a.>" })), [
      ["eventBus.subjects", "expected a list"],
    ]);
  });

  it("checks the limits and durations, naming each field", () => {
    assert.deepEqual(
      problems(nats({
        maxAge: "0s",
        maxBytes: 0,
        maxMessages: 1.5,
        replicas: 0,
        duplicateWindow: "soon",
        maxDeliver: 0,
        ackWait: -1,
        maxAckPending: 0,
        backoff: ["1s", "later"],
      })),
      [
        ["eventBus.maxAge", "expected a positive duration"],
        ["eventBus.maxBytes", "expected a positive whole number"],
        ["eventBus.maxMessages", "expected a positive whole number"],
        ["eventBus.replicas", "expected a whole number from 1 to 5"],
        [
          "eventBus.duplicateWindow",
          'expected a duration such as "5s", "250ms", "1m" or milliseconds',
        ],
        ["eventBus.maxDeliver", "expected a positive whole number"],
        [
          "eventBus.ackWait",
          'expected a duration such as "5s", "250ms", "1m" or milliseconds',
        ],
        ["eventBus.maxAckPending", "expected a positive whole number"],
        [
          "eventBus.backoff.1",
          'expected a duration such as "5s", "250ms", "1m" or milliseconds',
        ],
      ],
    );
    for (const replicas of [6, 2.5, "3"]) {
      assert.deepEqual(
        problems(nats({ replicas })).map((p) => p[0]),
        ["eventBus.replicas"],
        String(replicas),
      );
    }
    for (const replicas of [1, 5]) {
      assert.equal(valid(nats({ replicas })).eventBus?.replicas, replicas);
    }
  });

  it("needs maxDeliver above the number of backoff entries (JetStream's rule)", () => {
    const backoff = ["1s", "10s", "1m"];
    for (const maxDeliver of [1, 3]) {
      assert.deepEqual(problems(nats({ maxDeliver, backoff })), [[
        "eventBus.maxDeliver",
        "expected more than the number of backoff entries (3), as JetStream requires",
      ]]);
    }
    const out = valid(nats({ maxDeliver: 4, backoff })).eventBus!;
    assert.deepEqual([out.maxDeliver, out.backoff], [4, [
      1_000,
      10_000,
      60_000,
    ]]);
    // Either alone is fine: @cqi/bus supplies the other.
    assert.equal(valid(nats({ backoff })).eventBus?.maxDeliver, undefined);
    assert.equal(valid(nats({ maxDeliver: 1 })).eventBus?.backoff, undefined);
    assert.deepEqual(
      valid(nats({ maxDeliver: 1, backoff: [] })).eventBus?.backoff,
      [],
    );
  });
});
