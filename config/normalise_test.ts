import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import type { ConfigProblem } from "./error.ts";
import type { SchemaNode } from "./introspect.ts";
import { normalise } from "./normalise.ts";
import { parseConfigText } from "./file.ts";
import { RawList, RawMap, type RawNode, type RawScalar } from "./raw.ts";
import { cqiSchema } from "./mod.ts";

function plain(node: RawNode | undefined): unknown {
  if (node instanceof RawMap) {
    return Object.fromEntries([...node.entries].map(([k, v]) => [k, plain(v)]));
  }
  if (node instanceof RawList) return node.items.map(plain);
  return (node as RawScalar | undefined)?.value;
}

function run(schema: unknown, yaml: string) {
  const warnings: ConfigProblem[] = [];
  const { root } = parseConfigText(yaml, "c.yaml");
  const out = normalise(schema as SchemaNode, root!, warnings);
  return {
    tree: plain(out),
    warnings: warnings.map((w) => `${w.path}: ${w.message}`),
  };
}

describe("normalise", () => {
  it("maps snake_case and camelCase keys to fields", () => {
    const schema = v.object({ db: v.object({ maxConnections: v.number() }) });
    assert.deepEqual(run(schema, "db:\n  max_connections: 1\n").tree, {
      db: { maxConnections: "1" },
    });
    assert.deepEqual(run(schema, "db:\n  maxConnections: 1\n").tree, {
      db: { maxConnections: "1" },
    });
  });

  it("keeps the keys of records and maps their values", () => {
    const schema = v.object({
      feeds: v.record(v.string(), v.object({ pollInterval: v.number() })),
    });
    const { tree, warnings } = run(
      schema,
      "feeds:\n  binance_spot:\n    poll_interval: 5\n    typo: 1\n",
    );
    assert.deepEqual(tree, { feeds: { binance_spot: { pollInterval: "5" } } });
    assert.deepEqual(warnings, [
      "feeds.binance_spot.typo: unknown key in the config file (ignored)",
    ]);
  });

  it("maps items of lists of mappings", () => {
    const schema = v.object({
      keys: v.array(v.object({ serviceId: v.string() })),
    });
    assert.deepEqual(run(schema, "keys:\n  - service_id: a\n").tree, {
      keys: [{ serviceId: "a" }],
    });
  });

  it("reads service_name into service.name, merging with a service section", () => {
    assert.deepEqual(run(cqiSchema, "service_name: a\n").tree, {
      service: { name: "a" },
    });
    assert.deepEqual(
      run(cqiSchema, "service_name: a\nservice:\n  version: '1'\n").tree,
      { service: { version: "1", name: "a" } },
    );
    const both = run(cqiSchema, "service_name: a\nservice:\n  name: b\n");
    assert.deepEqual(both.tree, { service: { name: "b" } });
    assert.deepEqual(both.warnings, [
      "service_name: service.name is also given; service_name is ignored",
    ]);
  });

  it("leaves service_name and logging alone when the schema has such fields", () => {
    const schema = v.object({ serviceName: v.string(), logging: v.string() });
    assert.deepEqual(run(schema, "service_name: a\nlogging: b\n"), {
      tree: { serviceName: "a", logging: "b" },
      warnings: [],
    });
  });
});
