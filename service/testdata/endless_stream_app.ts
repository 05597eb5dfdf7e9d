// A process for run_test.ts: an httpService whose one route streams a chunk
// every few ms for ever. It never calls process.exit: after SIGTERM the
// process must end by itself, once the server's grace period cut the stream.
import process from "node:process";
import { createRunner, httpService, run } from "../mod.ts";

const chunk = new TextEncoder().encode("tick\n");
const http = httpService(() => {
  console.log("stream started");
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new Response(
    new ReadableStream<Uint8Array>({
      pull: (controller) =>
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            controller.enqueue(chunk);
            resolve();
          }, 5);
        }),
      cancel: (reason) => {
        clearTimeout(timer);
        console.log(`cancelled: ${(reason as Error).message}`);
      },
    }),
  );
}, { port: 0, hostname: "127.0.0.1", gracePeriod: 100 });
process.exitCode = await run(createRunner({ services: [http] }), {
  health: {
    markStarted: () => console.log(`listening ${http.addr!.port}`),
    beginShutdown: () => console.log("beginShutdown"),
  },
  gracePeriod: 5_000,
  log: { info: () => {}, error: (message) => console.log(`error ${message}`) },
});
console.log(`exit code ${process.exitCode}`);
