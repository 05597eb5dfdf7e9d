// The development format: `12:00:00.123 INFO  message key=value`, coloured
// on a terminal, the error's stack and causes below. It re-reads each JSON
// line, so it shows exactly the fields a JSON line would have.
import type { Sink } from "./sink.ts";

const COLORS: Record<string, string> = {
  trace: "\x1b[90m",
  debug: "\x1b[36m",
  info: "\x1b[32m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[35m",
};
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";
const SKIP = new Set([
  "timestamp",
  "level",
  "message",
  "service_name",
  "error",
]);

interface ErrorRecord {
  type?: string;
  message?: string;
  code?: string;
  stack?: string;
  cause?: ErrorRecord[];
}

/** Wraps `inner` so that it receives pretty text instead of JSON lines. */
export function prettySink(inner: Sink, color: boolean): Sink {
  return {
    write: (line) => inner.write(pretty(line, color)),
    flush: () => inner.flush(),
    close: () => inner.close(),
  };
}

/** Formats one JSON line for reading. */
export function pretty(line: string, color: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  const level = String(record.level ?? "");
  const time = String(record.timestamp ?? "").slice(11, 23);
  const paint = (code: string | undefined, text: string) =>
    color && code !== undefined ? code + text + RESET : text;
  let out = paint(DIM, time) + " " +
    paint(COLORS[level], level.toUpperCase().padEnd(5)) + " " +
    String(record.message ?? "");
  for (const [key, value] of Object.entries(record)) {
    if (SKIP.has(key) || value === undefined) continue;
    const text = typeof value === "string" && /^[^\s"=]+$/.test(value)
      ? value
      : JSON.stringify(value);
    out += " " + paint(DIM, key + "=") + text;
  }
  const error = record.error as ErrorRecord | undefined;
  if (error !== undefined && error !== null && typeof error === "object") {
    out += "\n" + indent(errorText(error));
    for (const cause of error.cause ?? []) {
      out += "\n" + indent("caused by: " + errorText(cause));
    }
  }
  return out + "\n";
}

function errorText(error: ErrorRecord): string {
  const code = error.code === undefined ? "" : `[${error.code}] `;
  return code + (error.stack ?? `${error.type}: ${error.message}`);
}

function indent(text: string): string {
  return text.split("\n").map((l) => "    " + l).join("\n");
}
