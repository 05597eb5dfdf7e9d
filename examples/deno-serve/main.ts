// CQI middleware on plain `Deno.serve`:
//   deno run --allow-net --allow-env --allow-read examples/deno-serve/main.ts
// Listens on PORT (default 8080); SIGTERM or SIGINT drains and exits 0.
import { createLogger } from "@cqi/logging";
import { createRegistry } from "@cqi/metrics";
import { createHandler, exampleKeys, examplePort } from "../hello/app.ts";

if (!("Deno" in globalThis)) {
  throw new Error(
    "examples/deno-serve runs on Deno: deno run -A examples/deno-serve/main.ts",
  );
}

const logger = createLogger({ service: { name: "deno-serve" } }); // JSON lines, stdout
const registry = createRegistry({ namespace: "deno_serve" });

// The key callers send as `Authorization: Bearer <key>`: API_KEY, or a new one.
const keys = exampleKeys(Deno.env.toObject());

const handler = createHandler({
  logger,
  registry,
  keys,
});

const server = Deno.serve({
  port: examplePort(Deno.env.toObject()),
  onListen: ({ hostname, port }) =>
    logger.info("listening", { url: `http://${hostname}:${port}/` }),
}, handler);

// Stop accepting, let in-flight requests finish, then exit.
const stop = () => void server.shutdown();
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
await server.finished;
logger.info("stopped");
await logger.close(); // every buffered line reaches stdout
Deno.exit(0);
