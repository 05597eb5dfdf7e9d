import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHealth } from "@cqi/health";
import { CqiError } from "@cqi/errors";
import { createRunner, type RunnerEvent, type Service } from "./mod.ts";
import { FakeClock } from "./testdata/fake_clock.ts";

interface Fake extends Service {
  starts: number;
  stops: number;
  healthy: boolean;
}

function fake(
  name: string,
  log: string[],
  options: {
    dependsOn?: string[];
    failStart?: boolean | (() => boolean);
    failStop?: boolean;
    check?: boolean;
  } = {},
): Fake {
  const service: Fake = {
    name,
    dependsOn: options.dependsOn,
    starts: 0,
    stops: 0,
    healthy: true,
    start() {
      service.starts++;
      log.push(`start ${name}`);
      const fail = typeof options.failStart === "function"
        ? options.failStart()
        : options.failStart;
      return fail
        ? Promise.reject(new Error(`${name} cannot start`))
        : Promise.resolve();
    },
    stop() {
      service.stops++;
      log.push(`stop ${name}`);
      return options.failStop
        ? Promise.reject(new Error(`${name} cannot stop`))
        : Promise.resolve();
    },
  };
  if (options.check) {
    service.check = () =>
      service.healthy
        ? Promise.resolve()
        : Promise.reject(new Error(`${name} is sick`));
  }
  return service;
}

const never = () => new AbortController().signal;

describe("runner", () => {
  it("starts in dependency order and stops in reverse", async () => {
    const log: string[] = [];
    const app = createRunner({
      services: [
        fake("http", log, { dependsOn: ["db", "cache"] }),
        fake("cache", log, { dependsOn: ["db"] }),
        fake("db", log),
      ],
    });
    assert.equal(app.status().status, "unhealthy"); // not started
    await app.start(never());
    assert.deepEqual(app.status(), {
      status: "healthy",
      services: { db: "running", cache: "running", http: "running" },
    });
    await app.stop(never());
    assert.deepEqual(log, [
      "start db",
      "start cache",
      "start http",
      "stop http",
      "stop cache",
      "stop db",
    ]);
    assert.equal(app.status().services.db, "stopped");
    await app.stop(never()); // stopping a stopped runner does nothing
    assert.equal(log.length, 6);
  });

  it("throws at construction on a cycle or a missing dependency", () => {
    const log: string[] = [];
    assert.throws(
      () =>
        createRunner({
          services: [
            fake("a", log, { dependsOn: ["b"] }),
            fake("b", log, { dependsOn: ["a"] }),
          ],
        }),
      /dependency cycle: a → b → a/,
    );
    assert.throws(
      () => createRunner({ services: [fake("a", log, { dependsOn: ["zz"] })] }),
      /"a" depends on "zz"/,
    );
  });

  it("rolls back started services in reverse when one fails to start", async () => {
    const log: string[] = [];
    const events: RunnerEvent[] = [];
    const app = createRunner({
      services: [
        fake("db", log),
        fake("cache", log),
        fake("http", log, { failStart: true }),
        fake("worker", log),
      ],
      onEvent: (e) => events.push(e),
    });
    await assert.rejects(app.start(never()), (error: unknown) => {
      assert.ok(error instanceof CqiError);
      assert.equal(error.message, 'service "http" failed to start');
      assert.equal((error.cause as Error).message, "http cannot start");
      return true;
    });
    assert.deepEqual(log, [
      "start db",
      "start cache",
      "start http",
      "stop cache",
      "stop db",
    ]);
    assert.ok(
      events.some((e) => e.type === "start-failed" && e.service === "http"),
    );
    assert.equal(app.status().status, "unhealthy");
    // it can be started again
    await assert.rejects(app.start(never()));
  });

  it("runs every stop when some fail, and reports them all", async () => {
    const log: string[] = [];
    const one = createRunner({
      services: [
        fake("a", log),
        fake("b", log, { failStop: true }),
        fake("c", log),
      ],
    });
    await one.start(never());
    await assert.rejects(one.stop(never()), /service "b" failed to stop/);
    assert.deepEqual(log.slice(3), ["stop c", "stop b", "stop a"]);

    const two = createRunner({
      services: [
        fake("a", log, { failStop: true }),
        fake("b", log, { failStop: true }),
      ],
    });
    await two.start(never());
    await assert.rejects(two.stop(never()), (error: unknown) => {
      assert.ok(error instanceof AggregateError);
      assert.equal(error.message, 'runner "runner": 2 services failed to stop');
      assert.deepEqual(
        error.errors.map((e: Error) => e.message),
        ['service "b" failed to stop', 'service "a" failed to stop'],
      );
      return true;
    });
  });

  it("waits for start delays on the clock, and start can be aborted", async () => {
    const log: string[] = [];
    const clock = new FakeClock();
    const app = createRunner({
      services: [fake("a", log), { service: fake("b", log), startDelay: 500 }],
      clock,
    });
    const starting = app.start(never());
    await clock.until(() => log.length === 2);
    assert.equal(clock.time, 500);
    await starting;
    await app.stop(never());

    const controller = new AbortController();
    const aborted = createRunner({
      services: [fake("x", log), { service: fake("y", log), startDelay: 500 }],
      clock,
    }).start(controller.signal);
    controller.abort(new Error("go away"));
    await assert.rejects(aborted, /service "y" failed to start/);
    assert.deepEqual(log.slice(-2), ["start x", "stop x"]);
  });

  it("restarts a failing service with 1 s → 16 s backoff, then gives up (on-failure)", async () => {
    const log: string[] = [];
    const events: RunnerEvent[] = [];
    const clock = new FakeClock();
    const db = fake("db", log, { check: true });
    const app = createRunner({
      services: [db],
      clock,
      random: () => 0.5, // no jitter
      onEvent: (e) => events.push(e),
    });
    await app.start(never());
    db.healthy = false;
    await clock.until(() => events.some((e) => e.type === "gave-up"));
    const restarts = events.filter((e) => e.type === "restarting");
    assert.deepEqual(restarts.map((e) => e.delay), [
      1000,
      2000,
      4000,
      8000,
      16000,
    ]);
    assert.deepEqual(restarts.map((e) => e.attempt), [1, 2, 3, 4, 5]);
    assert.equal(db.starts, 6);
    assert.equal(app.status().services.db, "failed");
    await assert.rejects(app.check(never()), /runner "runner": db failed/);
    await app.stop(never());
    assert.equal(app.status().services.db, "stopped");
  });

  it("jitters the backoff by ±25% with the injected random", async () => {
    const events: RunnerEvent[] = [];
    const clock = new FakeClock();
    const db = fake("db", [], { check: true });
    let r = 0;
    const app = createRunner({
      services: [db],
      clock,
      random: () => (r++ % 2 === 0 ? 0 : 0.999999),
      maxAttempts: 2,
      onEvent: (e) => events.push(e),
    });
    await app.start(never());
    db.healthy = false;
    await clock.until(() => events.some((e) => e.type === "gave-up"));
    assert.deepEqual(
      events.filter((e) => e.type === "restarting").map((e) => e.delay),
      [750, 2499],
    );
    await app.stop(never());
  });

  it("recovers: a healthy check after a restart resets the attempts", async () => {
    const events: RunnerEvent[] = [];
    const clock = new FakeClock();
    const db = fake("db", [], { check: true });
    const app = createRunner({
      services: [db],
      clock,
      random: () => 0.5,
      onEvent: (e) => events.push(e),
    });
    await app.start(never());
    db.healthy = false;
    await clock.until(() =>
      events.filter((e) => e.type === "restarting").length === 2
    );
    db.healthy = true;
    await clock.until(() => app.status().services.db === "running");
    await clock.next(); // one healthy check
    assert.equal(app.status().status, "healthy");
    await app.check(never());
    db.healthy = false;
    await clock.until(() =>
      events.filter((e) => e.type === "restarting").length === 3
    );
    assert.equal(events.filter((e) => e.type === "restarting")[2].delay, 1000);
    await app.stop(never());
  });

  it("keeps restarting past the attempt limit with always, capped at 60 s", async () => {
    const events: RunnerEvent[] = [];
    const clock = new FakeClock();
    let fail = true;
    const db = fake("db", [], { check: true, failStart: () => fail });
    const app = createRunner({
      services: [{ service: db, restart: "always" }],
      clock,
      random: () => 0.5,
      onEvent: (e) => events.push(e),
    });
    fail = false;
    await app.start(never());
    fail = true;
    db.healthy = false;
    await clock.until(() =>
      events.filter((e) => e.type === "restarting").length === 9
    );
    assert.deepEqual(
      events.filter((e) => e.type === "restarting").map((e) => e.delay),
      [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000],
    );
    assert.ok(events.some((e) => e.type === "start-failed"));
    assert.equal(app.status().services.db, "restarting");
    await app.stop(never()); // aborts the restart loop
    assert.equal(app.status().services.db, "stopped");
  });

  it("never restarts with never", async () => {
    const clock = new FakeClock();
    const db = fake("db", [], { check: true });
    const app = createRunner({ services: [db], clock, restart: "never" });
    await app.start(never());
    db.healthy = false;
    await clock.until(() => app.status().services.db === "failed");
    assert.equal(db.starts, 1);
    await app.stop(never());
  });

  it("counts a hung check as failed after checkTimeout", async () => {
    const clock = new FakeClock();
    let failed!: (event: RunnerEvent) => void;
    const checkFailed = new Promise<RunnerEvent>((resolve) => failed = resolve);
    const hung: Service = {
      name: "hung",
      start: () => Promise.resolve(),
      stop: () => Promise.resolve(),
      check: (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(signal.reason))
        ),
    };
    const app = createRunner({
      services: [hung],
      clock,
      restart: "never",
      checkTimeout: 5,
      onEvent: (e) => e.type === "check-failed" && failed(e),
    });
    await app.start(never());
    await clock.next(); // the interval passes; the check hangs
    const event = await checkFailed;
    assert.match((event.error as Error).message, /check timed out after 5 ms/);
    assert.equal(app.status().services.hung, "failed");
    await app.stop(never());
  });

  it("nests: a runner is a service with an aggregate check", async () => {
    const log: string[] = [];
    const clock = new FakeClock();
    const inner = createRunner({
      name: "data",
      services: [fake("db", log), fake("cache", log, { dependsOn: ["db"] })],
      clock,
    });
    const outer = createRunner({
      services: [fake("http", log, { dependsOn: ["data"] }), inner],
      clock,
    });
    await outer.start(never());
    await clock.next(); // the outer runner checks the inner one
    assert.equal(outer.status().status, "healthy");
    await outer.stop(never());
    assert.deepEqual(log, [
      "start db",
      "start cache",
      "start http",
      "stop http",
      "stop cache",
      "stop db",
    ]);
  });

  it("plugs into @cqi/health as a checker", async () => {
    await using health = createHealth();
    const app = createRunner({ services: [fake("db", [])] });
    health.register("services", app);
    assert.equal((await health.check()).status, "unhealthy");
    await app.start(never());
    assert.deepEqual(await health.check(), {
      status: "healthy",
      checks: { services: "ok" },
    });
    await assert.rejects(app.start(never()), /already running/);
    await app.stop(never());
  });

  it("rejects bad options, naming them", () => {
    assert.throws(() => createRunner({} as never), /services must be an array/);
    assert.throws(
      () => createRunner({ services: [], maxAttempts: 0 }),
      /maxAttempts/,
    );
    assert.throws(
      () => createRunner({ services: [], checkInterval: 0 }),
      /checkInterval/,
    );
    assert.throws(
      () => createRunner({ services: [], checkTimeout: -1 }),
      /checkTimeout/,
    );
    assert.throws(
      () => createRunner({ services: [], restart: "sometimes" as never }),
      /restart must be "never", "always" or "on-failure"/,
    );
    assert.throws(
      () =>
        createRunner({
          services: [{ service: fake("a", []), startDelay: NaN }],
        }),
      /startDelay/,
    );
  });

  it("ignores an onEvent that throws", async () => {
    const app = createRunner({
      services: [fake("a", [])],
      onEvent: () => {
        throw new Error("observer");
      },
    });
    await app.start(never());
    await app.stop(never());
    assert.equal(app.status().services.a, "stopped");
  });
});
