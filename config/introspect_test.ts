import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import {
  envKey,
  isSecretPath,
  leavesOf,
  type SchemaNode,
  snakeCase,
  unwrap,
} from "./introspect.ts";
import { cqiSchema, duration, secret } from "./mod.ts";

const node = (schema: unknown) => schema as SchemaNode;

describe("schema introspection", () => {
  it("converts field names to file keys and environment keys", () => {
    assert.equal(snakeCase("maxConnections"), "max_connections");
    assert.equal(snakeCase("eventBus"), "event_bus");
    assert.equal(snakeCase("jwksURL"), "jwks_url");
    assert.equal(snakeCase("port"), "port");
    assert.equal(
      envKey("CQI", ["database", "maxConnections"]),
      "CQI_DATABASE_MAX_CONNECTIONS",
    );
    assert.equal(envKey("", ["eventBus", "brokers"]), "EVENT_BUS_BROKERS");
  });

  it("unwraps optional, nullable and piped schemas, keeping defaults and metadata", () => {
    const schema = v.nullable(
      v.optional(v.pipe(duration(), v.description("How long.")), "5s"),
    );
    const info = unwrap(node(schema));
    assert.equal(info.base.type, "union");
    assert.equal(info.optional, true);
    assert.equal(info.hasDefault, true);
    assert.equal(info.default, "5s");
    assert.equal(info.description, "How long.");
    assert.equal(info.metadata.format, "duration");
    const required = unwrap(node(v.nonOptional(v.optional(v.string()))));
    assert.equal(required.optional, true);
    assert.equal(unwrap(node(v.string())).optional, false);
  });

  it("lists leaves depth first, sections included", () => {
    const schema = v.object({
      a: v.object({ b: v.string(), c: v.optional(v.number()) }),
      d: v.optional(v.object({ e: v.array(v.string()) })),
      f: v.union([v.string(), v.object({ g: v.string() })]),
    });
    const leaves = leavesOf(node(schema)).map((
      l,
    ) => [l.path.join("."), l.required]);
    assert.deepEqual(leaves, [["a.b", true], ["a.c", false], ["d.e", true], [
      "f",
      true,
    ]]);
  });

  it("finds secrets, including everything below a secret", () => {
    const schema = node(v.object({
      db: v.object({ password: v.optional(secret()), host: v.string() }),
      keys: v.pipe(
        v.array(v.object({ k: v.string() })),
        v.metadata({ secret: true }),
      ),
    }));
    assert.equal(isSecretPath(schema, ["db", "password"]), true);
    assert.equal(isSecretPath(schema, ["db", "host"]), false);
    assert.equal(isSecretPath(schema, ["keys", 0, "k"]), true);
    assert.equal(isSecretPath(schema, ["nope", "x"]), false);
    assert.equal(isSecretPath(node(cqiSchema), ["auth", "apiKeys", 1]), true);
    assert.equal(
      isSecretPath(node(cqiSchema), ["auth", "jwt", "secret"]),
      true,
    );
    assert.equal(
      isSecretPath(node(cqiSchema), ["auth", "jwt", "issuer"]),
      false,
    );
  });
});
