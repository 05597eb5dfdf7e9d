// A server for the shutdown tests: /endless streams a chunk every few ms for
// ever. It never calls process.exit: once shutdown is over, the process must
// end by itself, with exit code 1 for an unclean shutdown.
import process from "node:process";
import { serve } from "../mod.ts";

const chunk = new TextEncoder().encode("tick\n");
const server = serve(() => {
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
}, {
  port: 0,
  hostname: "127.0.0.1",
  gracePeriod: Number(process.env.GRACE_MS ?? "100"),
  onListen: () => {},
  onError: (error) => console.log(`error: ${(error as Error).message}`),
});
console.log(`port ${server.addr.port}`);
await server.finished;
const clean = await server.shutdown().then(() => true, () => false);
console.log("finished");
process.exitCode = clean ? 0 : 1;
