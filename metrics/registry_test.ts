import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRegistry, type Labels } from "./mod.ts";
import { find, value } from "./testdata/exposition.ts";

const registry = () =>
  createRegistry({ namespace: "shop", defaultMetrics: false });

describe("registration", () => {
  it("takes its namespace from the service identity, or namespace when given", () => {
    const named = (options: Parameters<typeof createRegistry>[0]) =>
      createRegistry({ ...options, defaultMetrics: false }).namespace;
    assert.equal(
      named({ service: { name: "order-service" } }),
      "order_service",
    );
    assert.equal(
      named({ service: { name: "order-service" }, namespace: "orders" }),
      "orders",
    );
    assert.equal(named({ namespace: "shop" }), "shop");
    assert.throws(() => named({}), /service\.name or namespace is required/);
  });

  it("returns the registered collector for the same definition", () => {
    const r = registry();
    const a = r.counter({
      name: "placed_total",
      help: "Placed.",
      labelNames: ["side", "venue"],
    });
    const b = r.counter({
      name: "placed_total",
      help: "Placed.",
      labelNames: ["venue", "side"],
    });
    assert.equal(a, b);
    const h1 = r.histogram({
      name: "latency_seconds",
      help: "L.",
      buckets: [0.1, 1],
    });
    assert.equal(
      r.histogram({ name: "latency_seconds", help: "L.", buckets: [0.1, 1] }),
      h1,
    );
    const s1 = r.summary({ name: "size_bytes", help: "S." });
    assert.equal(
      r.summary({ name: "size_bytes", help: "S.", maxAge: 600_000 }),
      s1,
    );
    const collect = () => {};
    const g1 = r.gauge({ name: "depth", help: "D.", collect });
    assert.equal(r.gauge({ name: "depth", help: "D.", collect }), g1);
  });

  it("throws on a conflicting definition, naming both", () => {
    const r = registry();
    r.counter({ name: "placed_total", help: "Placed.", labelNames: ["side"] });
    assert.throws(
      () =>
        r.counter({
          name: "placed_total",
          help: "Placed.",
          labelNames: ["side", "venue"],
        }),
      {
        name: "TypeError",
        message:
          'metrics: "shop_placed_total" is already registered as counter ' +
          'shop_placed_total{side} "Placed."; cannot register counter ' +
          'shop_placed_total{side,venue} "Placed."',
      },
    );
    assert.throws(
      () =>
        r.counter({
          name: "placed_total",
          help: "Orders placed.",
          labelNames: ["side"],
        }),
      /"Placed\."; cannot register counter shop_placed_total\{side\} "Orders placed\."/,
    );
    r.histogram({ name: "latency_seconds", help: "L." });
    assert.throws(
      () =>
        r.histogram({ name: "latency_seconds", help: "L.", buckets: [1, 2] }),
      /histogram shop_latency_seconds\{\} buckets \[0\.0001,.*\] "L\."; cannot register histogram shop_latency_seconds\{\} buckets \[1,2\]/,
    );
    r.gauge({ name: "depth", help: "D." });
    assert.throws(
      () => r.gauge({ name: "depth", help: "D.", collect: () => {} }),
      /with a collect callback/,
    );
    r.summary({ name: "size_bytes", help: "S." });
    assert.throws(
      () => r.summary({ name: "size_bytes", help: "S.", percentiles: [0.5] }),
      /quantiles \[0\.5,0\.9,0\.99\].*cannot register summary .*quantiles \[0\.5\]/,
    );
  });

  it("throws when a name is in use by another type or another family's samples", () => {
    const r = registry();
    r.gauge({ name: "depth", help: "D." });
    assert.throws(
      () => r.summary({ name: "depth", help: "D." }),
      /"shop_depth" is already registered as gauge shop_depth\{\} "D\."; cannot register summary/,
    );
    // in OpenMetrics the counter's family is "shop_jobs": a gauge of that name clashes
    r.counter({ name: "jobs_total", help: "J." });
    assert.throws(
      () => r.gauge({ name: "jobs", help: "J." }),
      /"shop_jobs" is already used by "shop_jobs_total" as counter/,
    );
    // the histogram's _count sample and the counter's family would share a name
    r.histogram({ name: "request_seconds", help: "R." });
    assert.throws(
      () => r.counter({ name: "request_seconds_count_total", help: "C." }),
      /"shop_request_seconds_count" is already used by "shop_request_seconds"/,
    );
  });

  it("checks buckets and summary options", () => {
    const r = registry();
    for (const buckets of [[], [1, 1], [2, 1], [1, Infinity], [Number.NaN]]) {
      assert.throws(
        () => r.histogram({ name: "x_seconds", help: "X.", buckets }),
        (e: Error) =>
          e instanceof RangeError &&
          /increasing finite numbers/.test(e.message),
      );
    }
    assert.throws(
      () => r.summary({ name: "first_bytes", help: "A.", percentiles: [1] }),
      RangeError,
    );
    assert.throws(
      () => r.summary({ name: "second_bytes", help: "B.", percentiles: [] }),
      RangeError,
    );
    assert.throws(
      () => r.summary({ name: "third_bytes", help: "C.", maxAge: 0 }),
      /maxAge/,
    );
    assert.throws(
      () => r.summary({ name: "fourth_bytes", help: "D.", ageBuckets: 0 }),
      /ageBuckets/,
    );
    assert.throws(
      () =>
        r.gauge({
          name: "fifth",
          help: "E.",
          collect: 5 as unknown as () => void,
        }),
      /collect must be a function/,
    );
  });
});

describe("typed labels", () => {
  it("accepts the declared labels and rejects others at compile time", async () => {
    const r = registry();
    const placed = r.counter({
      name: "placed_total",
      help: "P.",
      labelNames: ["side"],
    });
    placed.inc({ side: "buy" });
    placed.labels({ side: "sell" }).inc(2);
    const plain = r.counter({ name: "plain_total", help: "P." });
    plain.inc();
    plain.inc(3);
    const depth = r.gauge({
      name: "depth",
      help: "D.",
      labelNames: ["queue", "shard"],
    });
    depth.set({ queue: "mail", shard: 1 }, 4);

    // deno-lint-ignore no-constant-condition
    if (false) {
      // @ts-expect-error misspelled label
      placed.inc({ sid: "buy" });
      // @ts-expect-error undeclared label next to a declared one
      placed.inc({ side: "buy", venue: "x" });
      // @ts-expect-error missing label
      depth.set({ queue: "mail" }, 1);
      // @ts-expect-error labels required
      placed.inc();
      // @ts-expect-error no labels declared
      plain.inc({ side: "buy" });
      // @ts-expect-error label values are strings or numbers
      depth.inc({ queue: true, shard: 1 });
      const labels: Labels<"side"> = { side: "buy" };
      // @ts-expect-error a Labels<"side"> has no venue
      labels.venue;
    }
    const text = await r.metrics();
    assert.equal(value(text, "shop_placed_total", { side: "buy" }), 1);
    assert.equal(value(text, "shop_placed_total", { side: "sell" }), 2);
    assert.equal(value(text, "shop_plain_total"), 4);
    assert.equal(value(text, "shop_depth", { queue: "mail", shard: "1" }), 4);
  });

  it("checks labels at run time too", () => {
    const r = registry();
    const placed = r.counter({
      name: "placed_total",
      help: "P.",
      labelNames: ["side"],
    });
    const loose = placed as unknown as { inc(...args: unknown[]): void };
    assert.throws(
      () => loose.inc(),
      /"shop_placed_total" needs its labels \(side\)/,
    );
    assert.throws(() => loose.inc({}), /label "side" .* got nothing/);
    assert.throws(
      () => loose.inc({ side: true }),
      /string or a number, got boolean/,
    );
    assert.throws(
      () => loose.inc({ side: "buy", venue: "x" }),
      /has no label "venue" \(it has side\)/,
    );
  });
});

describe("collectors", () => {
  it("counts up only", async () => {
    const r = registry();
    const c = r.counter({ name: "placed_total", help: "P." });
    for (const bad of [-1, Infinity, Number.NaN]) {
      assert.throws(() => c.inc(bad), RangeError);
    }
    c.inc(0.5);
    assert.equal(c.labels({}).value, 0.5);
    assert.equal(value(await r.metrics(), "shop_placed_total"), 0.5);
  });

  it("moves gauges both ways and runs collect before each scrape", async () => {
    const r = registry();
    let calls = 0;
    const g = r.gauge({
      name: "pool_size",
      help: "P.",
      labelNames: ["pool"],
      collect: async (gauge) => {
        await Promise.resolve();
        gauge.set({ pool: "main" }, ++calls * 10);
      },
    });
    g.inc({ pool: "side" }, 5);
    g.dec({ pool: "side" });
    g.labels({ pool: "side" }).dec(2);
    assert.equal(g.labels({ pool: "side" }).value, 2);
    assert.equal(
      value(await r.metrics(), "shop_pool_size", { pool: "main" }),
      10,
    );
    assert.equal(
      value(await r.metrics(), "shop_pool_size", { pool: "main" }),
      20,
    );
    const plain = r.gauge({ name: "temperature_celsius", help: "T." });
    plain.set(-3.5);
    plain.inc();
    plain.dec(0.5);
    assert.equal(value(await r.metrics(), "shop_temperature_celsius"), -3);
    assert.throws(
      () => (plain as unknown as { set(v: unknown): void }).set("1"),
      /takes numbers/,
    );
  });

  it("fails the scrape when a collect callback fails", async () => {
    const r = registry();
    r.gauge({
      name: "depth",
      help: "D.",
      collect: () => {
        throw new Error("queue unreachable");
      },
    });
    await assert.rejects(r.metrics(), /queue unreachable/);
  });

  it("fills cumulative histogram buckets", async () => {
    const r = registry();
    const h = r.histogram({
      name: "latency_seconds",
      help: "L.",
      labelNames: ["op"],
      buckets: [0.01, 0.1, 1],
    });
    for (const v of [0.005, 0.01, 0.05, 0.5, 5]) h.observe({ op: "read" }, v);
    const text = await r.metrics();
    const buckets = find(text, "shop_latency_seconds_bucket", { op: "read" })
      .map((s) => [s.labels.le, s.value]);
    assert.deepEqual(buckets, [["0.01", 2], ["0.1", 3], ["1", 4], ["+Inf", 5]]);
    assert.equal(value(text, "shop_latency_seconds_count", { op: "read" }), 5);
    assert.ok(
      Math.abs(
        value(text, "shop_latency_seconds_sum", { op: "read" })! - 5.565,
      ) < 1e-9,
    );
    const series = h.labels({ op: "read" });
    assert.equal(series.count, 5);
    assert.throws(() => series.observe(Infinity), RangeError);
  });

  it("times with startTimer in seconds", async () => {
    const r = registry();
    const h = r.histogram({ name: "work_seconds", help: "W." });
    const s = r.summary({ name: "pause_seconds", help: "P." });
    const stopH = h.labels({}).startTimer();
    const stopS = s.labels({}).startTimer();
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(stopH() >= 0.004);
    assert.ok(stopS() >= 0.004);
    const text = await r.metrics();
    assert.equal(value(text, "shop_work_seconds_count"), 1);
    assert.equal(value(text, "shop_pause_seconds_count"), 1);
  });

  it("reports summary quantiles, sum and count", async () => {
    const r = registry();
    const s = r.summary({
      name: "batch_size_bytes",
      help: "B.",
      labelNames: ["topic"],
      percentiles: [0.5, 0.99],
    });
    for (let i = 1; i <= 100; i++) s.observe({ topic: "orders" }, i);
    const plain = r.summary({ name: "other_bytes", help: "O." });
    plain.observe(7);
    assert.throws(() => plain.observe(Number.NaN), RangeError);
    const text = await r.metrics();
    const median = value(text, "shop_batch_size_bytes", {
      topic: "orders",
      quantile: "0.5",
    })!;
    assert.ok(median >= 49 && median <= 51, String(median));
    assert.equal(
      value(text, "shop_batch_size_bytes_count", { topic: "orders" }),
      100,
    );
    assert.equal(
      value(text, "shop_batch_size_bytes_sum", { topic: "orders" }),
      5050,
    );
    assert.equal(value(text, "shop_other_bytes", { quantile: "0.5" }), 7);
    assert.match(
      text,
      /shop_batch_size_bytes\{topic="orders",quantile="0\.5"\}/,
    );
  });

  it("removes series", async () => {
    const r = registry();
    const c = r.counter({
      name: "placed_total",
      help: "P.",
      labelNames: ["side"],
    });
    const g = r.gauge({ name: "depth", help: "D.", labelNames: ["queue"] });
    const h = r.histogram({
      name: "latency_seconds",
      help: "L.",
      labelNames: ["op"],
    });
    const s = r.summary({
      name: "size_bytes",
      help: "S.",
      labelNames: ["topic"],
    });
    const plain = r.summary({ name: "plain_bytes", help: "P." });
    c.inc({ side: "buy" });
    c.inc({ side: "sell" });
    g.set({ queue: "a" }, 1);
    h.observe({ op: "read" }, 1);
    s.observe({ topic: "t" }, 1);
    plain.observe(3);
    c.remove({ side: "buy" });
    c.remove({ side: "nope" });
    g.remove({ queue: "a" });
    h.remove({ op: "read" });
    s.remove({ topic: "t" });
    plain.remove({});
    const text = await r.metrics();
    assert.deepEqual(
      find(text, "shop_placed_total").map((x) => x.labels.side),
      ["sell"],
    );
    assert.equal(find(text, "shop_depth").length, 0);
    assert.equal(find(text, "shop_latency_seconds_count").length, 0);
    assert.equal(find(text, "shop_size_bytes_count").length, 0);
    assert.equal(value(text, "shop_plain_bytes_count"), 0);
    const unlabelled = r.counter({ name: "plain_total", help: "P." });
    unlabelled.inc();
    unlabelled.remove({});
    assert.equal(find(await r.metrics(), "shop_plain_total").length, 0);
  });
});

describe("exposition", () => {
  it("renders the Prometheus text format", async () => {
    const r = registry();
    r.counter({
      name: "placed_total",
      help: 'Orders "placed"\\\nsince start.',
      labelNames: ["side"],
    })
      .inc({ side: 'a"b\\c\nd' }, 1, { trace_id: "abc" });
    r.gauge({ name: "depth", help: "D." }).set(Number.NaN);
    r.gauge({ name: "low", help: "L." }).set(-Infinity);
    assert.equal(
      await r.metrics("prometheus"),
      [
        '# HELP shop_placed_total Orders "placed"\\\\\\nsince start.',
        "# TYPE shop_placed_total counter",
        'shop_placed_total{side="a\\"b\\\\c\\nd"} 1',
        "# HELP shop_depth D.",
        "# TYPE shop_depth gauge",
        "shop_depth NaN",
        "# HELP shop_low L.",
        "# TYPE shop_low gauge",
        "shop_low -Inf",
        "",
      ].join("\n"),
    );
  });

  it("renders OpenMetrics with units, exemplars and # EOF", async () => {
    const r = registry();
    r.counter({ name: "work_seconds_total", help: 'Time "spent".' })
      .inc(0.25, { trace_id: "abc" });
    const h = r.histogram({
      name: "latency_seconds",
      help: "L.",
      buckets: [0.1, 1],
    });
    h.observe(0.5, { trace_id: "def", span_id: "01" });
    const text = await r.metrics("openmetrics");
    const lines = text.split("\n");
    assert.deepEqual(
      lines.slice(0, 4),
      [
        '# HELP shop_work_seconds Time \\"spent\\".',
        "# TYPE shop_work_seconds counter",
        "# UNIT shop_work_seconds seconds",
      ].concat([lines[3]]),
    );
    assert.match(
      lines[3],
      /^shop_work_seconds_total 0\.25 # \{trace_id="abc"\} 0\.25 \d+\.\d{3}$/,
    );
    assert.ok(lines.includes("# UNIT shop_latency_seconds seconds"));
    assert.ok(lines.includes('shop_latency_seconds_bucket{le="0.1"} 0'));
    assert.ok(
      lines.some((l) =>
        /^shop_latency_seconds_bucket\{le="1"\} 1 # \{trace_id="def",span_id="01"\} 0\.5 \d+\.\d{3}$/
          .test(l)
      ),
    );
    assert.equal(lines.at(-2), "# EOF");
    assert.equal(lines.at(-1), "");
    // the text format has no exemplars
    assert.doesNotMatch(await r.metrics(), /trace_id/);
  });

  it("checks exemplars and the format", async () => {
    const c = registry().counter({ name: "x_total", help: "X." });
    assert.throws(() => c.inc(1, { "Trace-Id": "a" }), /exemplar label/);
    assert.throws(() => c.inc(1, { trace_id: "a".repeat(130) }), /at most 128/);
    await assert.rejects(
      registry().metrics("json" as "prometheus"),
      /format must be "prometheus" or "openmetrics"/,
    );
  });

  it("renders nothing for an empty registry", async () => {
    assert.equal(await registry().metrics(), "");
    assert.equal(await registry().metrics("openmetrics"), "# EOF\n");
  });
});

describe("default metrics", () => {
  it("includes the process metrics that work on this runtime", async () => {
    const text = await createRegistry({ namespace: "shop" }).metrics();
    for (
      const name of [
        "process_cpu_seconds_total",
        "process_start_time_seconds",
        "process_resident_memory_bytes",
        "process_open_fds",
        "nodejs_heap_size_used_bytes",
        "nodejs_eventloop_lag_p99_seconds",
      ]
    ) {
      assert.equal(find(text, name).length, 1, name);
    }
    assert.ok(value(text, "process_cpu_seconds_total")! > 0);
    for (
      const name of [
        "nodejs_gc_duration_seconds",
        "nodejs_active_handles_total",
      ]
    ) {
      assert.doesNotMatch(text, new RegExp(`^# TYPE ${name} `, "m"));
    }
    const bun = "Bun" in globalThis;
    assert.equal(/^nodejs_heap_space_size_used_bytes/m.test(text), !bun);
  });
});
