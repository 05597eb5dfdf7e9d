import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHealth } from "@cqi/health";
import { router } from "@cqi/http";
import {
  createRunner,
  httpService,
  run,
  type RunOptions,
  type Service,
} from "./mod.ts";
import { FakeClock } from "./testdata/fake_clock.ts";
import { deferred } from "../retry/testdata/fake_clock.ts";
import { runtime, spawnScript } from "../tests/_util.ts";

const quiet = { info() {}, error() {} };

function recorder() {
  const log: string[] = [];
  const options: RunOptions = {
    health: {
      markStarted: () => log.push("markStarted"),
      beginShutdown: () => log.push("beginShutdown"),
    },
    log: {
      info: (message) => log.push(`info ${message}`),
      error: (message) => log.push(`error ${message}`),
    },
    exit: (code) => log.push(`exit ${code}`),
  };
  return { log, options };
}

function service(
  log: string[],
  behaviour: {
    start?: () => Promise<void>;
    stop?: (signal: AbortSignal) => Promise<void>;
  } = {},
): Service {
  return {
    name: "app",
    start: () => {
      log.push("start");
      return behaviour.start?.() ?? Promise.resolve();
    },
    stop: (signal) => {
      log.push("stop");
      return behaviour.stop?.(signal) ?? Promise.resolve();
    },
  };
}

describe("run", () => {
  it("starts, waits for the signal, drains, stops, runs the hooks LIFO, exits 0", async () => {
    const { log, options } = recorder();
    const shutdown = new AbortController();
    const app = service(log, {
      start: () => {
        queueMicrotask(() => shutdown.abort());
        return Promise.resolve();
      },
    });
    const code = await run(app, {
      ...options,
      signal: shutdown.signal,
      drainDelay: 1,
      onShutdown: [
        () => void log.push("hook 1"),
        () => void log.push("hook 2"),
      ],
    });
    assert.equal(code, 0);
    assert.deepEqual(log, [
      "start",
      "markStarted",
      "info app: started",
      "info app: shutting down",
      "beginShutdown",
      "stop",
      "hook 2",
      "hook 1",
      "info app: stopped",
      "exit 0",
    ]);
  });

  it("exits 1 when a stop fails, still running every hook", async () => {
    const { log, options } = recorder();
    const app = service(log, {
      stop: () => Promise.reject(new Error("stuck")),
    });
    const code = await run(app, {
      ...options,
      signal: AbortSignal.abort(),
      onShutdown: [
        (code) => void log.push(`hook 1 (code ${code})`),
        () => Promise.reject(new Error("hook failed")),
      ],
    });
    assert.equal(code, 1);
    assert.deepEqual(log.slice(-5), [
      "stop",
      "error app: stop failed",
      "error shutdown hook failed",
      "hook 1 (code 1)",
      "exit 1",
    ]);
  });

  it("exits 1 when the grace period runs out, aborting the stop signal", async () => {
    const { log, options } = recorder();
    let stopSignal: AbortSignal | undefined;
    const app = service(log, {
      stop: (signal) => {
        stopSignal = signal;
        return new Promise(() => {}); // never finishes
      },
    });
    const code = await run(app, {
      ...options,
      signal: AbortSignal.abort(),
      gracePeriod: 5,
    });
    assert.equal(code, 1);
    assert.equal(stopSignal?.aborted, true);
    assert.match(String(stopSignal?.reason), /grace period of 5 ms ran out/);
    assert.ok(log.includes("error app: stop failed"));
  });

  it("serves during drainDelay with readiness 503, then stops the server", async () => {
    const clock = new FakeClock();
    const health = createHealth();
    const http = httpService(
      router({ ...health.routes(), "GET /work": () => new Response("done") }),
      { port: 0, hostname: "127.0.0.1" },
    );
    const started = deferred();
    const shuttingDown = deferred();
    const shutdown = new AbortController();
    const exited = run(createRunner({ services: [http] }), {
      health: {
        markStarted: () => (health.markStarted(), started.resolve()),
        beginShutdown: () => (health.beginShutdown(), shuttingDown.resolve()),
      },
      drainDelay: 5_000,
      gracePeriod: 1_000,
      clock,
      signal: shutdown.signal,
      log: quiet,
    });
    await started.promise;
    const base = `http://127.0.0.1:${http.addr!.port}`;
    const get = async (path: string) => {
      const res = await fetch(`${base}${path}`);
      return [res.status, await res.text()];
    };
    assert.equal((await get("/health/ready"))[0], 200);

    shutdown.abort();
    await shuttingDown.promise; // the delay's sleep is on the clock from here
    assert.deepEqual(clock.sleeps, [5_000]);
    assert.equal((await get("/health/ready"))[0], 503);
    assert.deepEqual(await get("/work"), [200, "done"]);
    clock.advance(4_999);
    assert.deepEqual(await get("/work"), [200, "done"]);
    assert.equal((await get("/health/ready"))[0], 503);

    clock.advance(1);
    assert.equal(await exited, 0);
    assert.deepEqual(clock.sleeps, [5_000, 1_000]); // then the grace period
    assert.equal(http.addr, undefined);
    await assert.rejects(fetch(`${base}/work`));
    await health.close();
  });

  it("starts the grace period when the drain delay ends", async () => {
    const { log, options } = recorder();
    const clock = new FakeClock();
    let stopSignal: AbortSignal | undefined;
    const stopping = deferred();
    const app = service(log, {
      stop: (signal) => {
        stopSignal = signal;
        stopping.resolve();
        return new Promise(() => {}); // never finishes
      },
    });
    const shuttingDown = deferred();
    const exited = run(app, {
      ...options,
      health: { markStarted() {}, beginShutdown: shuttingDown.resolve },
      signal: AbortSignal.abort(),
      drainDelay: 5_000,
      gracePeriod: 1_000,
      clock,
    });
    await shuttingDown.promise;
    assert.equal(clock.pending, 1); // the delay
    clock.advance(5_000);
    await stopping.promise;
    assert.equal(clock.time, 5_000);
    assert.equal(stopSignal?.aborted, false);
    clock.advance(999);
    assert.equal(stopSignal?.aborted, false);
    clock.advance(1);
    assert.equal(await exited, 1);
    assert.match(String(stopSignal?.reason), /grace period of 1000 ms ran out/);
  });

  it("exits 1 without waiting when the service fails to start", async () => {
    const { log, options } = recorder();
    const app = service(log, {
      start: () => Promise.reject(new Error("no port")),
    });
    const code = await run(app, {
      ...options,
      onShutdown: [() => void log.push("hook")],
    });
    assert.equal(code, 1);
    assert.deepEqual(log, [
      "start",
      "error app: failed to start",
      "hook",
      "exit 1",
    ]);
  });

  it("rejects bad durations", async () => {
    await assert.rejects(
      run(service([]), { gracePeriod: -1 }),
      /run: gracePeriod/,
    );
    await assert.rejects(
      run(service([]), { drainDelay: Infinity }),
      /run: drainDelay/,
    );
  });

  for (const rt of ["deno", "bun"] as const) {
    it(`handles SIGTERM in a ${rt} process: exit 0, in order`, async () => {
      const child = spawnScript(
        new URL("./testdata/signal_app.ts", import.meta.url),
        {
          runtime: rt,
          args: ["ok"],
        },
      );
      const line = await child.line((l) => l.startsWith("listening "));
      const port = Number(line.split(" ")[1]);
      const res = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(await res.text(), "ok");
      child.signal("SIGTERM");
      assert.equal(await child.exited, 0);
      assert.deepEqual(child.lines.slice(1), [
        "beginShutdown",
        "stop worker",
        "hook 2",
        "hook 1",
      ]);
    });
  }

  it(`exits non-zero on SIGINT when a stop fails (${runtime})`, async () => {
    const child = spawnScript(
      new URL("./testdata/signal_app.ts", import.meta.url),
      {
        args: ["stop-fails"],
      },
    );
    await child.line((l) => l.startsWith("listening "));
    child.signal("SIGINT");
    assert.equal(await child.exited, 1);
    assert.ok(child.lines.includes("error runner: stop failed"));
  });

  it(`ends the drain delay on a second signal, then stops cleanly (${runtime})`, async () => {
    const child = spawnScript(
      new URL("./testdata/signal_app.ts", import.meta.url),
      { args: ["delay"] }, // a 60 s delay: only the signal ends it
    );
    await child.line((l) => l.startsWith("listening "));
    child.signal("SIGTERM");
    await child.line((l) => l === "beginShutdown");
    child.signal("SIGTERM");
    assert.equal(await child.exited, 0);
    assert.deepEqual(child.lines.slice(1), [
      "beginShutdown",
      "stop worker",
      "hook 2",
      "hook 1",
    ]);
  });

  it(`cuts the grace period short on a signal while stopping (${runtime})`, async () => {
    const child = spawnScript(
      new URL("./testdata/signal_app.ts", import.meta.url),
      { args: ["delay-hang"] }, // 60 s delay, 60 s grace, a stop that hangs
    );
    await child.line((l) => l.startsWith("listening "));
    child.signal("SIGTERM");
    await child.line((l) => l === "beginShutdown");
    child.signal("SIGTERM"); // ends the delay
    await child.line((l) => l === "stop worker");
    child.signal("SIGTERM"); // ends the grace period
    assert.equal(await child.exited, 1);
    assert.ok(child.lines.includes("error runner: stop failed"));
    assert.ok(child.lines.includes("hook 1"));
  });

  it(`exits 1 by itself when the server's grace period cuts an endless stream (${runtime})`, async () => {
    const child = spawnScript(
      new URL("./testdata/endless_stream_app.ts", import.meta.url),
    );
    const line = await child.line((l) => l.startsWith("listening "));
    const res = await fetch(`http://127.0.0.1:${line.split(" ")[1]}/`);
    const reader = res.body!.getReader();
    assert.equal((await reader.read()).done, false);
    const client = (async () => {
      while (!(await reader.read()).done);
    })().then(() => "ended", () => "aborted");
    child.signal("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const code = await Promise.race([
      child.exited,
      new Promise((resolve) => timer = setTimeout(resolve, 10_000, "hung")),
    ]).finally(() => clearTimeout(timer));
    if (code === "hung") child.signal("SIGKILL");
    assert.equal(code, 1, `output:\n${child.lines.join("\n")}`);
    assert.ok(child.lines.some((l) => l.startsWith("cancelled: ")));
    assert.ok(child.lines.includes("error runner: stop failed"));
    assert.equal(await client, "aborted");
  });

  it(`exits non-zero when the grace period runs out (${runtime})`, async () => {
    const child = spawnScript(
      new URL("./testdata/signal_app.ts", import.meta.url),
      {
        args: ["hang"],
      },
    );
    await child.line((l) => l.startsWith("listening "));
    child.signal("SIGTERM");
    assert.equal(await child.exited, 1);
    assert.ok(child.lines.includes("hook 1"));
  });
});
