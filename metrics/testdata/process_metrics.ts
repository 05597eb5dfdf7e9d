// Test helper: prints this process's exposition as one JSON string line,
// then stays alive until it is signalled, so that the test can read the
// process's /proc entries to compare. Not published.
import { createRegistry } from "../mod.ts";

const text = await createRegistry({ namespace: "probe" }).metrics();
console.log(JSON.stringify(text));
setInterval(() => {}, 1 << 30);
