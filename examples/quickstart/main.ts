// The quickstart service: `npm start` (Deno) or `npm run start:bun`.
// Listens on PORT (default 8080) until SIGTERM or SIGINT, then drains and
// exits 0 (1 when the shutdown was not clean).
import process from "node:process";
import * as v from "valibot";
import { cqiSections, loadConfig } from "@cqi/config";
import { apiKey, type ApiKeyRecord, generateApiKey } from "@cqi/auth";
import { createHealth } from "@cqi/health";
import { createLogger, setDefaultLogger } from "@cqi/logging";
import { createRegistry } from "@cqi/metrics";
import { httpService, run, runner } from "@cqi/service";
import { initTracing } from "@cqi/tracing";
import { createApp } from "./app.ts";
import { memoryStore } from "./store.ts";

// Configuration from the environment (CQI_*, .env); the name has a default.
const config = await loadConfig({
  schema: v.object({ service: cqiSections.service, auth: cqiSections.auth }),
  env: { CQI_SERVICE_NAME: "quickstart", ...process.env },
});

// JSON lines on stdout; LOG_LEVEL overrides the level.
const log = createLogger({ service: config.service.name });
setDefaultLogger(log);

// API keys from CQI_AUTH_API_KEYS; in development, a fresh one when unset.
let keys: ApiKeyRecord[] = config.auth?.apiKeys ?? [];
if (keys.length === 0 && config.service.environment === "development") {
  const key = generateApiKey();
  log.warn("CQI_AUTH_API_KEYS is unset: generated a development API key");
  // Straight to the terminal: the logger would (rightly) redact it.
  console.error(`development API key: ${key}`);
  keys = [{ id: "dev", key, serviceId: "dev" }];
}

// Traces go to OTEL_EXPORTER_OTLP_ENDPOINT when it is set.
const tracing = initTracing({
  service: config.service,
  enabled: process.env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined,
  sampler: "always",
});
const registry = createRegistry({ namespace: config.service.name });
const health = createHealth({ registry, logger: log });

const app = createApp({
  store: memoryStore(),
  logger: log,
  registry,
  health,
  auth: apiKey({ keys, exclude: ["/health/*", "/metrics"] }),
});
const services = runner({
  services: [
    httpService(app, {
      onListen: ({ hostname, port }) =>
        log.info("quickstart listening", {
          url: `http://${hostname}:${port}/`,
        }),
      onError: (error) => log.error("server error", { error }),
    }),
  ],
});
health.register("services", services);

const code = await run(services, {
  health,
  onShutdown: [() => health.close(), () => tracing.close()],
  log: {
    info: (message) => log.info(message),
    error: (message, error) => log.error(message, { error }),
  },
});
log.info("quickstart stopped", { clean: code === 0 });
await log.close(); // every buffered line reaches stdout before exit
process.exit(code);
