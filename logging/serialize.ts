// Turns log fields into JSON text by string building, never throwing:
// redacted keys, cycles, BigInt, Errors, Maps, Sets, symbols, functions and
// values whose getters or toJSON throw all come out as something readable.
import { LogField, RESERVED } from "./fields.ts";
import { errorJson } from "./error_json.ts";
import { quote } from "./quote.ts";

/**
 * Words whose keys are redacted unless the `redact` option says otherwise. A
 * key is redacted when, lowercased and without `-`, `_` and other
 * separators, it contains one of them: `x-api-key`, `access_token`,
 * `refreshToken`, `Set-Cookie` and `DB_PASSWORD` all are.
 */
export const DEFAULT_REDACT: readonly string[] = Object.freeze([
  "password",
  "authorization",
  "token",
  "apiKey",
  "secret",
  "cookie",
]);

function normalizeKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}

const REDACTED = '"[REDACTED]"';
const UNSERIALIZABLE = '"[Unserializable]"';
// Nesting below this is written as "[Object]" / "[Array]".
const MAX_DEPTH = 10;
// Bounds the key caches when callers use unbounded, dynamic key names.
const MAX_CACHED_KEYS = 4096;

interface Key {
  /** `,"name":` (top level) or `"name":` (nested). */
  text: string;
  redacted: boolean;
  /** The top-level `error` field: any value is written as an error. */
  error: boolean;
}

/** The JSON writer of one logger tree: its redaction list and key caches. */
export class Serializer {
  readonly #redact: readonly string[];
  readonly #top = new Map<string, Key>();
  readonly #nested = new Map<string, Key>();
  // Ancestors of the value being written, for cycle detection.
  readonly #stack: object[] = [];

  constructor(redact: readonly string[]) {
    this.#redact = redact.map(normalizeKey).filter((word) => word !== "");
  }

  /**
   * Writes an object's own enumerable fields as `,"k":v` pairs, for
   * appending to a line. Names of the standard fields get a `_` prefix.
   */
  fields(fields: Readonly<Record<string, unknown>>): string {
    let out = "";
    try {
      for (const name in fields) {
        if (!Object.hasOwn(fields, name)) continue;
        const key = this.#key(this.#top, name, true);
        if (key.redacted) {
          out += key.text + REDACTED;
          continue;
        }
        const text = key.error
          ? this.#errorField(fields[name])
          : this.#guarded(fields, name, 0);
        if (text !== undefined) out += key.text + text;
      }
    } catch {
      // fields that cannot even be enumerated (a revoked Proxy)
      out += ',"_fields":' + UNSERIALIZABLE;
    }
    return out;
  }

  /** Writes any value as JSON; `undefined` for what JSON would omit. */
  value(value: unknown, depth: number): string | undefined {
    switch (typeof value) {
      case "string":
        return quote(value);
      case "number":
        return Number.isFinite(value) ? "" + value : "null";
      case "boolean":
        return value ? "true" : "false";
      case "undefined":
        return undefined;
      case "bigint":
        return '"' + value + '"';
      case "symbol":
        return quote(value.toString());
      case "function":
        return quote(`[Function ${value.name || "(anonymous)"}]`);
    }
    if (value === null) return "null";
    return this.#object(value as object, depth);
  }

  #object(value: object, depth: number): string {
    if (value instanceof Error) {
      return errorJson(value, (v) => this.value(v, depth + 1) ?? "null");
    }
    if (value instanceof Date) {
      return Number.isNaN(value.getTime())
        ? "null"
        : quote(value.toISOString());
    }
    if (this.#stack.includes(value)) return '"[Circular]"';
    if (depth >= MAX_DEPTH) {
      return Array.isArray(value) ? '"[Array]"' : '"[Object]"';
    }
    this.#stack.push(value);
    const text = this.#compound(value, depth + 1);
    this.#stack.pop();
    return text;
  }

  #compound(value: object, depth: number): string {
    if (Array.isArray(value)) return this.#array(value, depth);
    if (value instanceof Map) {
      let out = "";
      for (const [name, item] of value) {
        const key = this.#key(this.#nested, String(name), false);
        const text = key.redacted ? REDACTED : this.#safe(item, depth);
        if (text !== undefined) {
          out += (out === "" ? "" : ",") + key.text + text;
        }
      }
      return "{" + out + "}";
    }
    if (value instanceof Set) return this.#array([...value], depth);
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
      return quote(`[${value.constructor.name}(${value.byteLength})]`);
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") {
      return this.value(toJSON.call(value), depth) ?? "null";
    }
    let out = "";
    for (const name in value) {
      if (!Object.hasOwn(value, name)) continue;
      const key = this.#key(this.#nested, name, false);
      const text = key.redacted ? REDACTED : this.#guarded(value, name, depth);
      if (text !== undefined) out += (out === "" ? "" : ",") + key.text + text;
    }
    return "{" + out + "}";
  }

  #array(items: readonly unknown[], depth: number): string {
    let out = "[";
    for (let i = 0; i < items.length; i++) {
      if (i > 0) out += ",";
      out += this.#guarded(items, i, depth) ?? "null";
    }
    return out + "]";
  }

  // The `error` field: whatever was thrown (even `undefined`), as an error.
  #errorField(value: unknown): string {
    const mark = this.#stack.length;
    try {
      return errorJson(value, (v) => this.value(v, 1) ?? "null");
    } catch {
      this.#stack.length = mark;
      return UNSERIALIZABLE;
    }
  }

  // Writes a value already read; a throwing toJSON or a runaway Proxy
  // writes a placeholder instead.
  #safe(value: unknown, depth: number): string | undefined {
    const mark = this.#stack.length;
    try {
      return this.value(value, depth);
    } catch {
      this.#stack.length = mark;
      return UNSERIALIZABLE;
    }
  }

  // Reads and writes `holder[name]`; a throwing getter or toJSON, or a
  // runaway Proxy, writes a placeholder instead.
  #guarded(
    holder: object,
    name: string | number,
    depth: number,
  ): string | undefined {
    const mark = this.#stack.length;
    try {
      return this.value(
        (holder as Record<string | number, unknown>)[name],
        depth,
      );
    } catch {
      this.#stack.length = mark;
      return UNSERIALIZABLE;
    }
  }

  #key(cache: Map<string, Key>, name: string, top: boolean): Key {
    let key = cache.get(name);
    if (key !== undefined) return key;
    const normalized = normalizeKey(name);
    const redacted = this.#redact.some((word) => normalized.includes(word));
    const written = top && RESERVED.has(name) ? "_" + name : name;
    key = {
      text: (top ? "," : "") + quote(written) + ":",
      redacted,
      error: top && name === LogField.Error,
    };
    if (cache.size < MAX_CACHED_KEYS) cache.set(name, key);
    return key;
  }
}
