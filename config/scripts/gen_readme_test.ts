import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { configFields } from "../mod.ts";
import {
  fieldsTable,
  normaliseTables,
  README,
  updateReadme,
} from "./gen_readme.ts";

describe("README", () => {
  it("has the field reference the schema generates", async () => {
    const readme = await readFile(README, "utf8");
    assert.equal(
      normaliseTables(readme),
      normaliseTables(updateReadme(readme)),
      "README.md is out of date: run config/scripts/gen_readme.ts",
    );
  });

  it("lists every field with its environment key", () => {
    const table = fieldsTable();
    for (const field of configFields()) {
      assert.ok(table.includes(`\`${field.envKey}\``), field.envKey);
    }
  });

  it("compares tables cell by cell, ignoring padding", () => {
    assert.equal(
      normaliseTables("| a  | `x \\| y` |\n| -- | ------ |"),
      normaliseTables("| a | `x \\| y` |\n| --- | --- |"),
    );
    assert.notEqual(normaliseTables("| a | b |"), normaliseTables("| a | c |"));
  });

  it("refuses a README without the markers", () => {
    assert.throws(() => updateReadme("# no markers"), /needs the markers/);
  });
});
