// The quickstart service: `npm start` (Deno) or `npm run start:bun`.
// Listens on PORT (default 8080) until SIGTERM or SIGINT, then drains and
// exits 0 (1 when the shutdown was not clean).
import process from "node:process";
import { mustLoad } from "@cqi/config";
import { createBus } from "@cqi/bus";
import { createCache } from "@cqi/cache";
import { createDatabase, migrate } from "@cqi/database";
import { connectHandler, grpcStack } from "@cqi/grpc";
import { bootstrap } from "@cqi/service";
import { createApp } from "./app.ts";
import { positionService } from "./grpc.ts";
import { cacheInvalidator } from "./invalidator.ts";
import { outboxRelay, recordChange } from "./outbox.ts";
import { cachedStore, databaseStore } from "./store.ts";

// Configuration: CQI_* variables (also from .env or CQI_CONFIG_FILE); PORT,
// the name and metrics have defaults here; OTEL_EXPORTER_OTLP_ENDPOINT turns
// tracing on unless CQI_TRACING_ENABLED says otherwise. A bad value is one
// line on stderr and exit code 1, never a stack.
// CQI_DATABASE_URL, CQI_CACHE_URL and CQI_BUS_URL choose a backend each by URL
// (postgres://, redis://, kafka:// or nats://) over the config sections; the
// default is embedded (PGlite, memory). They are not config keys.
const {
  PORT,
  OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
  CQI_DATABASE_URL,
  CQI_CACHE_URL,
  CQI_BUS_URL,
  ...env
} = process.env;
if (PORT !== undefined && !(/^\d{1,5}$/.test(PORT) && Number(PORT) <= 65535)) {
  console.error(
    `quickstart: PORT must be a port from 0 to 65535, got "${PORT}"`,
  );
  process.exit(1);
}
const config = await mustLoad({
  env: {
    CQI_SERVICE_NAME: "quickstart",
    CQI_METRICS_ENABLED: "true",
    CQI_SERVER_PORT: PORT,
    ...otlp && { CQI_TRACING_ENABLED: "true", CQI_TRACING_ENDPOINT: otlp },
    ...otlp &&
      { CQI_TRACING_EXPORTER: "otlp-http", CQI_TRACING_SAMPLER: "always" },
    ...env,
  },
});

// Logger, metrics, tracing and health from the config; the app behind the
// canonical stack; the one signal path (readiness fails, requests drain,
// spans and logs flush) and its exit code.
const svc = bootstrap(config);
const guard = (() => {
  try {
    return svc.auth(); // CQI_AUTH_API_KEYS; in development a generated key
  } catch (error) {
    console.error(`quickstart: ${(error as Error).message}`); // no keys
    return process.exit(1);
  }
})();
// A silent cache or bus (not critical) answers readiness "degraded" within
// this, under a probe's 1 s timeout, instead of holding it.
const NON_CRITICAL_CHECK_TIMEOUT = 500;
// Positions in PostgreSQL (CQI_DATABASE_HOST, ...), else in PGlite in memory;
// the schema from migrations/ either way. Closed after requests drain.
const db = createDatabase(CQI_DATABASE_URL || config.database || "pglite://", {
  service: config.service,
  // a server that stops answering fails a request in 5 s, not 30
  queryTimeout: config.database?.queryTimeout ?? 5_000,
  ...svc.databaseHooks("main"),
});
svc.onShutdown(() => db.close());
svc.health.register("database", db);
await migrate(db, new URL("./migrations/", import.meta.url)).catch((error) => {
  console.error(`quickstart: migrations: ${error.cause?.message ?? error}`);
  process.exit(1);
});
// Positions read through a cache: Redis (CQI_CACHE_URL, CQI_CACHE_HOST, ...),
// else memory. Not critical: without it reads go to the database (degraded).
const positions = createCache(CQI_CACHE_URL || config.cache || "memory://", {
  service: config.service,
  ...svc.cacheHooks("main"),
});
svc.onShutdown(() => positions.close());
svc.health.register("cache", {
  check: (signal) => positions.check(signal),
  critical: false,
  timeout: NON_CRITICAL_CHECK_TIMEOUT,
});
// Events: Kafka or NATS JetStream (CQI_BUS_URL, or the event_bus section),
// else memory. A put writes its PositionChanged in its own transaction (the
// outbox); the relay publishes it, so a bus outage delays events and never
// fails a write (not critical either); the invalidator drops cached positions.
const bus = createBus(CQI_BUS_URL || config.eventBus || "memory://", {
  service: config.service,
  ...svc.busHooks("main"),
  nats: { stream: "QUICKSTART", subjects: ["cqc.quickstart.v1.>"] },
});
svc.onShutdown(() => bus.close());
svc.health.register("bus", {
  check: (signal) => bus.check(signal),
  critical: false,
  timeout: NON_CRITICAL_CHECK_TIMEOUT,
});
const relay = outboxRelay(db, bus, { logger: svc.logger });
svc.health.register("outbox", {
  check: (signal) => relay.healthCheck(signal),
  critical: false,
  timeout: NON_CRITICAL_CHECK_TIMEOUT,
});
const store = cachedStore(
  databaseStore(db, { record: recordChange, onCommit: relay.wake }),
  positions,
  (error) => svc.logger.warn("position not invalidated", { error }),
);
// GetPosition over Connect and gRPC-Web on the same port, on the canonical
// interceptors (tracing, access log, metrics, recovery, auth).
const grpc = connectHandler(positionService(store), {
  readMaxBytes: 64 * 1024, // a GetPositionRequest is an id
  // calls refused before the interceptors (bad framing, too large): logged
  onRejected: ({ request, service, method, code }) =>
    svc.logger.warn("rpc refused", {
      method: request.method,
      rpc_service: service,
      rpc_method: method,
      grpc_code: code,
    }),
  interceptors: grpcStack({
    logger: svc.logger,
    registry: svc.registry,
    auth: guard,
  }),
});
const app = createApp({
  store,
  auth: guard,
  routes: svc.routes(), // health probes and /metrics, open to all
});
process.exit(
  await svc.run(app, {
    stack: { tracing: { returnTraceparent: true } },
    rpc: { "POST /cqc.quickstart.v1.PositionService/*": grpc },
    // stopped after the server drained: the relay publishes what is left
    services: [relay, cacheInvalidator(bus, positions, svc.logger)],
  }),
);
