// The quickstart service: `npm start` (Deno) or `npm run start:bun`.
// Listens on PORT (default 8080) until SIGTERM or SIGINT, then drains and
// exits 0 (1 when the shutdown was not clean).
import process from "node:process";
import * as v from "valibot";
import { cqiSections, isConfigError, loadConfig } from "@cqi/config";
import { apiKey, type ApiKeyRecord, generateApiKey } from "@cqi/auth";
import { bootstrap, createRunner, httpService, run } from "@cqi/service";
import { createApp } from "./app.ts";
import { memoryStore } from "./store.ts";

// Configuration: CQI_* environment variables (and .env, and a file named by
// CQI_CONFIG_FILE); the name, the port (PORT) and metrics have defaults here.
// A start-up failure is one line on stderr and exit code 2, never a stack.
const { PORT, OTEL_EXPORTER_OTLP_ENDPOINT, CQI_TRACING_ENABLED } = process.env;
if (PORT !== undefined && !(/^\d{1,5}$/.test(PORT) && Number(PORT) <= 65535)) {
  console.error(
    `quickstart: PORT must be a port from 0 to 65535, got "${PORT}"`,
  );
  process.exit(2);
}
const config = await loadConfig({
  schema: v.object({
    service: cqiSections.service,
    server: cqiSections.server,
    log: cqiSections.log,
    metrics: cqiSections.metrics,
    tracing: cqiSections.tracing,
    auth: cqiSections.auth,
  }),
  env: {
    CQI_SERVICE_NAME: "quickstart",
    CQI_METRICS_ENABLED: "true",
    ...(PORT === undefined ? {} : { CQI_SERVER_PORT: PORT }),
    ...process.env,
  },
}).catch((error) => {
  if (!isConfigError(error)) throw error;
  console.error(`quickstart: ${error.message}`); // each problem and its source
  return process.exit(2);
});

// Logger (JSON lines on stdout; LOG_LEVEL overrides), metrics registry,
// tracing (the config's; else OTLP to OTEL_EXPORTER_OTLP_ENDPOINT when that
// is set and CQI_TRACING_ENABLED says nothing) and the health registry.
const svc = bootstrap({
  ...config,
  tracing: config.tracing.enabled ? config.tracing : {
    enabled: OTEL_EXPORTER_OTLP_ENDPOINT !== undefined &&
      CQI_TRACING_ENABLED === undefined,
    exporter: "otlp",
    sampler: "always",
    shutdownTimeout: config.tracing.shutdownTimeout,
  },
});
const log = svc.logger;

// API keys from CQI_AUTH_API_KEYS; in development, a fresh one when unset.
let keys: ApiKeyRecord[] = config.auth?.apiKeys ?? [];
if (keys.length === 0 && config.service.environment === "development") {
  const key = generateApiKey();
  log.warn("CQI_AUTH_API_KEYS is unset: generated a development API key");
  // Straight to the terminal: the logger would (rightly) redact it.
  console.error(`development API key: ${key}`);
  keys = [{ id: "dev", key, serviceId: "dev" }];
}

const app = createApp({
  store: memoryStore(),
  logger: log,
  registry: svc.registry, // undefined with CQI_METRICS_ENABLED=false
  health: svc.health,
  auth: apiKey({ keys, exclude: ["/health/*", "/metrics"] }),
});
const gracePeriod = config.server.shutdownTimeout;
const services = createRunner({
  services: [
    httpService(app, {
      hostname: config.server.host,
      port: config.server.port,
      gracePeriod,
      idleTimeout: config.server.idleTimeout,
      onListen: ({ hostname, port }) =>
        log.info("quickstart listening", {
          url: `http://${hostname}:${port}/`,
        }),
      ...svc.serverHooks("http"), // logs and counts escaped and listener errors
    }),
  ],
});
svc.health.register("services", services);

// The one signal path: readiness fails, requests are still served for
// server.shutdownDelay (0 unless set; a few seconds behind a load balancer),
// in-flight requests finish within the grace period (the server's own cut-off
// first), services stop; then bootstrap's shutdown flushes spans (within
// tracing.shutdownTimeout), writes the stop line and every buffered log line.
const code = await run(services, {
  health: svc.health,
  drainDelay: config.server.shutdownDelay,
  gracePeriod: gracePeriod + 1_000, // counted from the end of the drain delay
  onShutdown: [
    (code) =>
      svc.shutdown(() => log.info("quickstart stopped", { clean: code === 0 })),
  ],
  log: {
    info: (message) => log.info(message),
    error: (message, error) => log.error(message, { error }),
  },
});
process.exit(code);
