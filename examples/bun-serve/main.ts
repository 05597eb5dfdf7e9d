// CQI middleware on plain `Bun.serve`: bun run examples/bun-serve/main.ts
// Listens on PORT (default 8080); SIGTERM or SIGINT drains and exits 0.
import process from "node:process";
import { createLogger } from "@cqi/logging";
import { createRegistry } from "@cqi/metrics";
import { createHandler, exampleKeys, examplePort } from "../hello/app.ts";

// Bun's own types are not installed here; this is the part of them used.
interface BunServer {
  hostname: string;
  port: number;
  stop(): Promise<void>;
}
const Bun = (globalThis as {
  Bun?: {
    serve(options: {
      port: number;
      fetch: (req: Request) => Promise<Response>;
    }): BunServer;
  };
}).Bun;
if (Bun === undefined) {
  throw new Error(
    "examples/bun-serve runs on Bun: bun run examples/bun-serve/main.ts",
  );
}

const logger = createLogger({ service: { name: "bun-serve" } }); // JSON lines, stdout
const registry = createRegistry({ namespace: "bun_serve" });

// The key callers send as `Authorization: Bearer <key>`: API_KEY, or a new one.
const keys = exampleKeys(process.env);

const handler = createHandler({
  logger,
  registry,
  keys,
});

const server = Bun.serve({
  port: examplePort(process.env),
  fetch: handler,
});
logger.info("listening", { url: `http://${server.hostname}:${server.port}/` });

// Stop accepting, let in-flight requests finish, then exit.
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  logger.info("stopped");
  await logger.close(); // every buffered line reaches stdout
  process.exit(0);
};
const onSignal = () =>
  void stop().catch((error) => {
    console.error("stopping failed:", error);
    process.exit(1);
  });
process.on("SIGTERM", onSignal);
process.on("SIGINT", onSignal);
