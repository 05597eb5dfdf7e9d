// The chaos suite's helpers (issue 20): start the example service as a child
// process, drive it with a steady load, and count what came back. Not a test
// file (no `_test`/`_chaos` suffix); the scenarios import it.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import process from "node:process";
import { promisify } from "node:util";
import { after } from "node:test";
import { type Child, requireBackend, spawnScript, waitFor } from "../_util.ts";

export { waitFor };
export { within } from "../_util.ts";

/** The example service every scenario drives. */
export const MAIN = new URL(
  "../../examples/quickstart/main.ts",
  import.meta.url,
);
/** The API key the service is started with (Bearer). */
export const KEY = "chaos-suite-key-0123456789abcdef";
const AUTH = { authorization: `Bearer ${KEY}` };

export type Runtime = "deno" | "bun";
/**
 * The runtimes each scenario starts the service under, one after another:
 * both, or those named in `CHAOS_RUNTIMES` (`deno`, `bun`; comma
 * separated) to narrow a local run.
 */
export const RUNTIMES: readonly Runtime[] = (
  process.env.CHAOS_RUNTIMES ?? "deno,bun"
).split(",").map((r) => r.trim()).filter((r): r is Runtime =>
  r === "deno" || r === "bun"
);

/**
 * Per-request timeout of the load: a request still unanswered after this
 * counts as a hang and fails the scenario.
 */
export const REQUEST_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------
// Backends

/** Whether `initdb` and `pg_ctl` can run as the postgres user. */
export async function postgresInstalled(): Promise<boolean> {
  const run = promisify(execFile);
  try {
    await run("id", ["-u", "postgres"]);
    await run("initdb", ["--version"]);
    await run("pg_ctl", ["--version"]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Skips the test (fails it under CI=true) when a private PostgreSQL server
 * cannot be created (no initdb/pg_ctl, or no postgres user).
 */
export function requirePostgresInstalled(
  t: { skip(message?: string): void },
): Promise<boolean> {
  return requireBackend(
    t,
    "initdb and pg_ctl (for a private PostgreSQL server)",
    postgresInstalled,
  );
}

// ---------------------------------------------------------------------------
// The service

/** A running example service. */
export interface Service {
  rt: Runtime;
  child: Child;
  /** `http://127.0.0.1:<port>`. */
  base: string;
  /** Stdout lines parsed as JSON (lines that are not JSON are left out). */
  records(): Record<string, unknown>[];
  /** Resolves with the first record `match` accepts (default 15 s). */
  record(
    match: (r: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** SIGKILL if still running (for `finally`). */
  kill(): void;
  /**
   * Prints its last `n` stdout lines other than `request completed` on
   * stderr (for a failed scenario).
   */
  dump(n?: number): void;
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(line);
    return typeof value === "object" && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts examples/quickstart/main.ts under `rt` on a free port with the
 * suite's API key and `env`; resolves once it logs `listening`.
 */
export async function startService(
  rt: Runtime,
  env: Record<string, string>,
): Promise<Service> {
  const child = spawnScript(MAIN, {
    runtime: rt,
    env: {
      PORT: "0",
      CQI_AUTH_API_KEYS: `chaos:${KEY}`,
      CQI_SERVICE_ENVIRONMENT: "test",
      CQI_LOG_LEVEL: "info",
      ...env,
    },
  });
  const service: Service = {
    rt,
    child,
    base: "",
    records: () =>
      child.lines.map(parse).filter((r) => r !== undefined) as Record<
        string,
        unknown
      >[],
    record: async (match, timeoutMs = 15_000) =>
      parse(
        await child.line((l) => {
          const r = parse(l);
          return r !== undefined && match(r);
        }, timeoutMs),
      )!,
    kill: () => child.signal("SIGKILL"),
    dump: (n = 80) => {
      const lines = child.lines.filter((l) =>
        !l.includes('"request completed"')
      );
      console.error(
        `--- ${rt} service: last ${n} of ${lines.length} lines (requests left out)\n${
          lines.slice(-n).join("\n")
        }\n---`,
      );
    },
  };
  try {
    const listening = await service.record(
      (r) => r.message === "listening",
      60_000,
    );
    const port = new URL(String(listening.url)).port;
    service.base = `http://127.0.0.1:${port}`;
    return service;
  } catch (error) {
    service.kill();
    throw error;
  }
}

/** `event_id` and `position_id` of each `position event handled` line. */
export function handledEvents(
  service: Service,
): { eventId: string; positionId: string }[] {
  return service.records()
    .filter((r) => r.message === "position event handled")
    .map((r) => ({
      eventId: String(r.event_id),
      positionId: String(r.position_id),
    }));
}

// ---------------------------------------------------------------------------
// Requests

/** How one request ended. */
export type Kind =
  | "response" // a complete response (any status)
  | "timeout" // no complete response within REQUEST_TIMEOUT_MS
  | "refused" // the connection was refused (nothing listening)
  | "reset" // the connection was reset or closed before any response
  | "truncated" // the head arrived, the body did not complete
  | "error"; // any other failure

/** One request of the load. */
export interface Outcome {
  op: "PUT" | "GET";
  id: string;
  /** Sent as `x-request-id`; the access line of the request carries it. */
  requestId: string;
  kind: Kind;
  status?: number;
  /** The response body's `code` (errors) or the parsed body. */
  body?: unknown;
  /** When it was sent (`performance.now()` of the test process). */
  at: number;
  /** Milliseconds from sending to the end of the body (or the failure). */
  ms: number;
  /** The label of the phase it started in (`Load.phase`). */
  phase: string;
  /** The failure, for failed kinds. */
  error?: string;
}

function classify(error: unknown): Kind {
  const name = (error as Error)?.name;
  if (name === "TimeoutError" || name === "AbortError") return "timeout";
  const text = `${error} ${(error as Error)?.cause ?? ""} ${
    (error as { code?: string })?.code ?? ""
  }`;
  if (/refused|ECONNREFUSED|ConnectionRefused/i.test(text)) return "refused";
  if (RESET.test(text)) return "reset";
  return "error";
}

// What Deno's and Bun's fetch say of a connection reset or closed under a
// request (before any response).
const RESET =
  /reset by peer|ECONNRESET|EPIPE|broken pipe|closed before message completed|closed unexpectedly|other side closed/i;

/** The error and its cause, which names what the connection did. */
function describe(error: unknown): string {
  const cause = (error as Error)?.cause;
  return cause === undefined ? String(error) : `${error} (${cause})`;
}

/** Sends one request with the suite's key and the per-request timeout. */
export async function send(
  base: string,
  op: "PUT" | "GET",
  id: string,
  phase: string,
  value?: unknown,
): Promise<Outcome> {
  const started = performance.now();
  const requestId = crypto.randomUUID();
  const headers = { ...AUTH, "x-request-id": requestId };
  const init: RequestInit = op === "PUT"
    ? {
      method: "PUT",
      body: JSON.stringify(value),
      headers: { ...headers, "content-type": "application/json" },
    }
    : { headers };
  const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(`${base}/api/positions/${id}`, { ...init, signal });
  } catch (error) {
    return {
      op,
      id,
      requestId,
      phase,
      kind: classify(error),
      at: started,
      ms: performance.now() - started,
      error: describe(error),
    };
  }
  try {
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch { /* kept as text */ }
    return {
      op,
      id,
      requestId,
      phase,
      kind: "response",
      status: res.status,
      body,
      at: started,
      ms: performance.now() - started,
    };
  } catch (error) {
    const kind = classify(error);
    return {
      op,
      id,
      requestId,
      phase,
      kind: kind === "timeout" ? "timeout" : "truncated",
      status: res.status,
      at: started,
      ms: performance.now() - started,
      error: describe(error),
    };
  }
}

/** What a worker does next: a PUT of a new id, or a GET of a known one. */
export type Step = { op: "PUT"; id: string; value: unknown } | {
  op: "GET";
  id: string;
};

/** A steady load on one service, running until `stop()`. */
export interface Load {
  /** The label new requests are recorded with. */
  phase: string;
  outcomes: Outcome[];
  /** Ids whose PUT was answered 2xx, with the value sent. */
  acked: Map<string, unknown>;
  /** Resolves once `count` outcomes match `match` (polled; bounded). */
  until(
    match: (o: Outcome) => boolean,
    count: number,
    timeoutMs?: number,
    what?: string,
  ): Promise<void>;
  /** Stops the workers; resolves once their last requests have ended. */
  stop(): Promise<Outcome[]>;
  /** Resolves once every worker ended by itself (see `stopOn`). */
  done: Promise<void>;
}

/**
 * Starts `workers` workers against `base`, each a sequence of PUT (a new id,
 * `w-<tag>-<worker>-<n>`) then GET (an id from `reads`, or the one it just
 * put), pausing `pauseMs` between requests. A worker ends by itself when
 * `stopOn` accepts one of its outcomes (default: never).
 */
export function startLoad(
  base: string,
  options: {
    tag: string;
    workers?: number;
    pauseMs?: number;
    /** Ids to GET (one at random) instead of the worker's last put id. */
    reads?: string[];
    /** GETs per PUT. Default 1. */
    getsPerPut?: number;
    stopOn?: (o: Outcome) => boolean;
  },
): Load {
  const workers = options.workers ?? 4;
  const pauseMs = options.pauseMs ?? 20;
  const getsPerPut = options.getsPerPut ?? 1;
  let stopped = false;
  const load = {
    phase: "before",
    outcomes: [] as Outcome[],
    acked: new Map<string, unknown>(),
  } as Load;
  const worker = async (w: number) => {
    let lastPut: string | undefined;
    let ended = false; // by stopOn
    const run = async (step: Step) => {
      const outcome = await send(
        base,
        step.op,
        step.id,
        load.phase,
        step.op === "PUT" ? step.value : undefined,
      );
      load.outcomes.push(outcome);
      if (
        step.op === "PUT" && outcome.kind === "response" &&
        outcome.status! >= 200 && outcome.status! < 300
      ) {
        load.acked.set(step.id, step.value);
        lastPut = step.id;
      }
      if (options.stopOn?.(outcome)) ended = true;
      await delay(pauseMs);
    };
    for (let n = 0; !stopped && !ended; n++) {
      const id = `w-${options.tag}-${w}-${n}`;
      await run({ op: "PUT", id, value: { assetId: `A${w}`, quantity: n } });
      for (let g = 0; g < getsPerPut && !stopped && !ended; g++) {
        // an id of `reads`, else the last one this worker put
        const reads = options.reads;
        const target = reads?.length
          ? reads[Math.floor(Math.random() * reads.length)]
          : lastPut;
        if (target !== undefined) await run({ op: "GET", id: target });
      }
    }
  };
  const running = Promise.all(
    Array.from({ length: workers }, (_, w) => worker(w)),
  ).then(() => {});
  load.done = running;
  load.until = (match, count, timeoutMs = 20_000, what) =>
    waitFor(
      () => load.outcomes.filter(match).length >= count,
      timeoutMs,
      what ?? `${count} matching outcomes`,
    );
  load.stop = async () => {
    stopped = true;
    await running;
    return load.outcomes;
  };
  return load;
}

// ---------------------------------------------------------------------------
// Probes

/** `/health/ready`: its status code and body. */
export async function ready(
  base: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/health/ready`, {
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text);
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}

/** An answer of `/health/ready`. */
export interface Readiness {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Polls `/health/ready` until `match` accepts an answer or `timeoutMs`
 * passes; returns the last answer and whether it matched (0 and the error
 * when none came), for scenarios that report before they assert.
 */
export async function readyWithin(
  base: string,
  match: (r: Readiness) => boolean,
  timeoutMs: number,
): Promise<Readiness & { met: boolean }> {
  let last: Readiness = { status: 0, body: {} };
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    last = await ready(base).catch((error) => ({
      status: 0,
      body: { error: String(error) },
    }));
    if (match(last)) return { ...last, met: true };
    if (performance.now() > deadline) return { ...last, met: false };
    await delay(100);
  }
}

/** Polls `/health/ready` until `match` accepts an answer; returns it. */
export async function readyUntil(
  base: string,
  match: (r: { status: number; body: Record<string, unknown> }) => boolean,
  timeoutMs: number,
  what: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let last: { status: number; body: Record<string, unknown> } | undefined;
  await waitFor(
    async () => {
      last = await ready(base).catch(() => undefined);
      return last !== undefined && match(last);
    },
    timeoutMs,
    `${what} (last: ${JSON.stringify(last)})`,
    100,
  );
  return last!;
}

/**
 * The sum of the samples in `/metrics` whose series (name and labels)
 * matches `series`.
 */
export async function metric(base: string, series: RegExp): Promise<number> {
  const res = await fetch(`${base}/metrics`, {
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line === "") continue;
    const space = line.lastIndexOf(" ");
    if (series.test(line.slice(0, space))) sum += Number(line.slice(space + 1));
  }
  return sum;
}

// ---------------------------------------------------------------------------
// Waiting and counting

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Counts of outcomes by op, phase, kind and status. */
export function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key = `${o.op} ${o.phase} ${
      o.kind === "response" ? o.status : o.kind
    }`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.fromEntries(
    Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** The slowest outcome's duration, in whole milliseconds. */
export function slowest(outcomes: Outcome[]): number {
  return Math.round(Math.max(0, ...outcomes.map((o) => o.ms)));
}

/** Prints one scenario run's summary as one JSON line on stderr. */
export function report(
  scenario: string,
  rt: Runtime,
  fields: Record<string, unknown>,
): void {
  console.error(`chaos ${JSON.stringify({ scenario, rt, ...fields })}`);
}

/**
 * Fails on any request that hung (timeout), broke (reset, truncated) or
 * took longer than the request timeout — the checks every scenario shares.
 */
export function assertNoHang(outcomes: Outcome[]): void {
  const hung = outcomes.filter((o) =>
    o.kind === "timeout" || o.ms > REQUEST_TIMEOUT_MS
  );
  assert.equal(
    hung.length,
    0,
    `requests hung past ${REQUEST_TIMEOUT_MS} ms: ${
      JSON.stringify(hung.slice(0, 5))
    }`,
  );
}

/** The request failures (anything but a complete response), for messages. */
export function failures(outcomes: Outcome[]): Outcome[] {
  return outcomes.filter((o) => o.kind !== "response");
}

/** Whether the body is an error body with this `code`. */
export function hasCode(o: Outcome, code: string): boolean {
  return typeof o.body === "object" && o.body !== null &&
    (o.body as { code?: unknown }).code === code;
}

/**
 * A private server of the file's tests, started by the first test that asks
 * for it (and shared by the next ones, such as the Bun run after the Deno
 * one) and disposed after the file's last test.
 */
export function lazyServer<T extends AsyncDisposable>(
  start: () => Promise<T>,
): () => Promise<T> {
  let server: Promise<T> | undefined;
  after(async () => {
    await (await server?.catch(() => undefined))?.[Symbol.asyncDispose]();
  });
  return () => server ??= start();
}
