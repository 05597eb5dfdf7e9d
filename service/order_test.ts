import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startOrder } from "./order.ts";
import type { Service } from "./service.ts";

const svc = (name: string, dependsOn?: string[]): Service => ({
  name,
  dependsOn,
  start: () => Promise.resolve(),
  stop: () => Promise.resolve(),
});
const names = (list: Service[]) =>
  startOrder(list, (s) => s).map((s) => s.name);

describe("startOrder", () => {
  it("puts dependencies first and keeps the given order otherwise", () => {
    assert.deepEqual(
      names([
        svc("http", ["db", "cache"]),
        svc("worker"),
        svc("cache", ["db"]),
        svc("db"),
      ]),
      ["db", "cache", "http", "worker"],
    );
  });

  it("names a missing dependency", () => {
    assert.throws(
      () => names([svc("http", ["db"])]),
      {
        name: "TypeError",
        message:
          'runner: service "http" depends on "db", which is not in this runner',
      },
    );
  });

  it("names the services of a cycle", () => {
    assert.throws(
      () =>
        names([svc("a", ["b"]), svc("b", ["c"]), svc("c", ["a"]), svc("d")]),
      { name: "TypeError", message: "runner: dependency cycle: a → b → c → a" },
    );
    assert.throws(() => names([svc("a", ["a"])]), /cycle: a → a/);
  });

  it("rejects duplicate and empty names", () => {
    assert.throws(
      () => names([svc("a"), svc("a")]),
      /two services are named "a"/,
    );
    assert.throws(() => names([svc("")]), /non-empty name/);
  });
});
