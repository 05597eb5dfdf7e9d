// Test helpers: a fresh temporary directory per test. Not published.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A temporary directory with a helper that writes files into it. */
export interface TempDir extends AsyncDisposable {
  /** The directory. */
  path: string;
  /** Writes `name` with `content` and returns its path. */
  write(name: string, content: string): Promise<string>;
}

/** Creates a temporary directory, removed on dispose. */
export async function tempDir(): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), "cqi-config-"));
  return {
    path,
    async write(name, content) {
      const file = join(path, name);
      await writeFile(file, content);
      return file;
    },
    async [Symbol.asyncDispose]() {
      await rm(path, { recursive: true, force: true });
    },
  };
}

/** The sample configuration file of the spec, verbatim. */
export const SAMPLE_YAML: string = new URL("./sample.yaml", import.meta.url)
  .pathname;
