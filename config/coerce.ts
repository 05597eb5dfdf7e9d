// A text converted to what the schema expects there: numbers, booleans and
// enum values in any letter case; anything else is left for validation to
// reject. Not exported from mod.ts.
import type { Shape } from "./valibot_adapter.ts";

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TRUE = new Set(["true", "yes", "on", "1"]);
const FALSE = new Set(["false", "no", "off", "0"]);

/** Whether `shape` takes a string as it is (so a text is not converted). */
export function takesText(shape: Shape): boolean {
  return shape.kind === "string" || shape.kind === "picklist" ||
    (shape.kind === "union" && shape.options!.some(takesText));
}

/** Converts `text` to what `shape` expects, or leaves it for validation to reject. */
export function coerce(shape: Shape, text: string): unknown {
  const lower = text.trim().toLowerCase();
  switch (shape.kind) {
    case "number":
      return NUMBER.test(text.trim()) ? Number(text) : text;
    case "boolean":
      return TRUE.has(lower) ? true : FALSE.has(lower) ? false : text;
    case "picklist":
    case "enum":
      if (shape.values!.includes(text)) return text;
      return shape.values!.find((o) => String(o).toLowerCase() === lower) ??
        text;
    case "literal":
      return String(shape.values![0]) === text.trim() ? shape.values![0] : text;
    case "union":
      if (takesText(shape)) return text;
      for (const option of shape.options!) {
        const coerced = coerce(option, text);
        if (coerced !== text) return coerced;
      }
      return text;
    default:
      return text;
  }
}
