// A process for run_test.ts: `ok`, `stop-fails`, `hang`, `delay` or
// `delay-hang` as its argument. The `delay` modes wait a minute before the
// stop and give it another minute, so that only signals move them on.
import process from "node:process";
import { createRunner, httpService, run, type Service } from "../mod.ts";

const mode = process.argv.at(-1);
const delayed = mode === "delay" || mode === "delay-hang";
const http = httpService(() => new Response("ok"), {
  port: 0,
  hostname: "127.0.0.1",
});
const worker: Service = {
  name: "worker",
  start: () => Promise.resolve(),
  stop: () => {
    console.log("stop worker");
    if (mode === "stop-fails") return Promise.reject(new Error("stuck"));
    if (mode === "hang" || mode === "delay-hang") return new Promise(() => {});
    return Promise.resolve();
  },
};
const app = createRunner({ services: [worker, http] });
await run(app, {
  health: {
    markStarted: () => console.log(`listening ${http.addr!.port}`),
    beginShutdown: () => console.log("beginShutdown"),
  },
  drainDelay: delayed ? 60_000 : 10,
  gracePeriod: delayed ? 60_000 : mode === "hang" ? 100 : 5_000,
  onShutdown: [() => console.log("hook 1"), () => console.log("hook 2")],
  log: { info: () => {}, error: (message) => console.log(`error ${message}`) },
  exit: (code) => process.exit(code),
});
