// Writes log lines to stdout, for output_test.ts.
//   emit.ts <mode> <count>
// close:  writes <count> lines, then closes the logger
// exit:   writes <count> lines, then calls process.exit(0) without closing
// end:    writes <count> lines and lets the event loop run out
// linger: writes <count> lines, then stays alive until killed
// slow:   writes <count> lines to a stdout nobody reads yet, reports on
//         stderr how long the calls took, then closes
import process from "node:process";
import { createLogger } from "../mod.ts";

const [mode, count] = [process.argv[2], Number(process.argv[3])];
const log = createLogger({ service: { name: "emit" }, output: "stdout" });
const pad = "x".repeat(100);
const start = performance.now();
for (let i = 0; i < count; i++) log.info("line", { i, pad });
if (mode === "close") await log.close();
if (mode === "exit") process.exit(0);
if (mode === "linger") setInterval(() => {}, 1000);
if (mode === "slow") {
  // A timer firing on time proves the event loop was not blocked either.
  await new Promise((resolve) => setTimeout(resolve, 1));
  process.stderr.write(`calls took ${performance.now() - start} ms\n`);
  await log.close();
}
