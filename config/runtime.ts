// Runtime access for the loader: environment variables and text files, on
// Deno and Bun. Not exported from mod.ts.
//
// On Deno nothing here ever triggers a permission prompt: permissions are
// queried first, and what is not granted is treated as absent (environment)
// or reported as a problem naming the flag to add (files).
import { readFile } from "node:fs/promises";
import process from "node:process";
import { readEnv } from "@cqi/http";

/** Read access to environment variables. */
export interface EnvReader {
  /** The value of `key`, or `undefined` when unset (or not permitted). */
  get(key: string): string | undefined;
  /** Every variable name, or `undefined` when the runtime will not list them. */
  keys(): string[] | undefined;
}

function denoGranted(descriptor: Deno.PermissionDescriptor): boolean {
  return Deno.permissions.querySync(descriptor).state === "granted";
}

/** An {@linkcode EnvReader} over a plain record (tests, `env` option). */
export function recordEnv(
  record: Readonly<Record<string, string | undefined>>,
): EnvReader {
  return {
    get: (key) => Object.hasOwn(record, key) ? record[key] : undefined,
    keys: () => Object.keys(record).filter((k) => record[k] !== undefined),
  };
}

/**
 * The real process environment. On Deno with full `--allow-env` it is read
 * whole; with a partial grant (`--allow-env=CQI_*`) each key is checked and
 * an ungranted key reads as unset, so no prompt ever appears.
 */
export function processEnv(): EnvReader {
  if (globalThis.Deno?.env !== undefined) {
    if (denoGranted({ name: "env" })) return recordEnv(Deno.env.toObject());
    return { get: readEnv, keys: () => undefined };
  }
  return recordEnv({ ...process.env });
}

/** Why a file could not be read. */
export type ReadFailure = "not_found" | "permission" | "error";

/** A file that could not be read. */
export class ReadError extends Error {
  /** Why. */
  readonly reason: ReadFailure;

  constructor(reason: ReadFailure, message: string) {
    super(message);
    this.name = "ReadError";
    this.reason = reason;
  }
}

/**
 * Reads a UTF-8 text file. Throws a {@linkcode ReadError} (never a
 * permission prompt on Deno: the permission is queried first).
 */
export async function readText(path: string): Promise<string> {
  if (
    globalThis.Deno?.permissions !== undefined &&
    !denoGranted({ name: "read", path })
  ) {
    throw new ReadError(
      "permission",
      `no read permission (run Deno with --allow-read=${path})`,
    );
  }
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT") throw new ReadError("not_found", "file not found");
    throw new ReadError("error", describe(error));
  }
}

// Error messages of the runtimes name the path but never the content.
function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "EISDIR") return "is a directory";
  if (code === "EACCES") return "permission denied";
  return error instanceof Error ? error.message : String(error);
}
