// Kafka for the bus tests: the machine's shared broker (started by
// `bash scripts/kafka.sh start`; never restarted, never emptied: tests use
// topics and groups of their own), and private brokers a test may kill and
// start again on the same ports. The jars, the config template and the JVM
// flags all come from scripts/kafka.sh (`prepare`); this module only runs
// the JVM, so the test owns the process.
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { closedPort, requireBackend, tcpReachable } from "../../tests/_util.ts";
import { ServerProcess } from "./server_process.ts";

const SCRIPT = fileURLToPath(
  new URL("../../scripts/kafka.sh", import.meta.url),
);
const READY_LINE = "Kafka Server started";

/**
 * The shared broker's `host:port` list (`KAFKA_BROKERS`, comma-separated,
 * overrides it).
 */
export const KAFKA_BROKERS: string[] = (process.env.KAFKA_BROKERS ?? "")
  .split(",")
  .map((broker) => broker.trim())
  .filter((broker) => broker !== "");
if (KAFKA_BROKERS.length === 0) KAFKA_BROKERS.push("127.0.0.1:9092");

/** `host:port` (or `[v6]:port`) as host and port. */
export function hostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(address.slice(colon + 1)) };
}

/** Whether the first shared broker accepts TCP connections. */
export function kafkaReachable(): Promise<boolean> {
  const { host, port } = hostPort(KAFKA_BROKERS[0]);
  return tcpReachable(host, port);
}

/** Skips the test (fails it under CI=true) when the shared broker is absent. */
export function requireKafka(
  t: { skip(message?: string): void },
): Promise<boolean> {
  return requireBackend(t, `Kafka at ${KAFKA_BROKERS[0]}`, kafkaReachable);
}

let installed: Promise<boolean> | undefined;

/**
 * Whether a private broker can be started: Java 17+, and the jars cached or
 * Maven there to fetch them (`scripts/kafka.sh installed`).
 */
export function kafkaInstalled(): Promise<boolean> {
  installed ??= runScript(["installed"]).then(({ code }) => code === 0);
  return installed;
}

/**
 * Skips the test (fails it under CI=true) when a private broker cannot be
 * started (no Java 17+, or neither cached jars nor Maven).
 */
export function requireKafkaInstalled(
  t: { skip(message?: string): void },
): Promise<boolean> {
  return requireBackend(
    t,
    "Java 17+ and Maven (for a private Kafka broker)",
    kafkaInstalled,
  );
}

/** A private single-node Kafka (KRaft) broker on loopback ports of its own. */
export interface PrivateKafka {
  /** `["127.0.0.1:<port>"]`, for a client's bootstrap list. */
  brokers: string[];
  /** The broker (PLAINTEXT) port. */
  port: number;
  /** The KRaft controller port. */
  controllerPort: number;
  /** Its folder: config, `data/` (topics and offsets survive restarts). */
  dir: string;
  /** The broker's last output lines (at most 500), for failure messages. */
  output: string[];
  /** SIGKILL (no controlled shutdown); resolves once the JVM has exited. */
  kill(): Promise<void>;
  /**
   * Starts it again on the same ports and data. Resolves once it serves:
   * it logged "Kafka Server started" and a Metadata request lists it. After
   * a {@linkcode PrivateKafka.kill} that takes ~6 s more than a clean start:
   * the controller refuses the new registration until the old session
   * expires (`broker.session.timeout.ms=3000`).
   */
  start(): Promise<void>;
  /** SIGTERM (controlled shutdown; SIGKILL after 15 s); resolves on exit. */
  stop(): Promise<void>;
  /** Stops it and removes its folder. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a broker of the test's own: free loopback ports, a temporary data
 * folder, the jars that scripts/kafka.sh caches (fetched with Maven the first
 * time). Resolves once it serves. Use it with `await using`: disposing stops
 * the JVM and removes the folder; a JVM whose test process dies is killed by
 * a watchdog.
 */
export async function privateKafka(
  options: { startTimeoutMs?: number } = {},
): Promise<PrivateKafka> {
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const port = await closedPort();
  let controllerPort = await closedPort();
  while (controllerPort === port) controllerPort = await closedPort();
  const dir = await mkdtemp(join(tmpdir(), "cqi-kafka-"));
  const address = `127.0.0.1:${port}`;
  const server = new ServerProcess("kafka", `private Kafka on ${address}`);

  const prepared = await runScript(["prepare"], {
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_DIR: dir,
  });
  if (prepared.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `scripts/kafka.sh prepare failed (${prepared.code}):\n${prepared.stderr}`,
    );
  }
  const [java, ...args] = prepared.stdout.split("\n").filter((a) => a !== "");

  const kill = () => server.kill();
  const stop = () => server.stop(15_000);

  const start = async () => {
    if (server.spawned) {
      throw new Error("the private Kafka broker is running already");
    }
    server.output.length = 0;
    let logged!: () => void;
    const ready = new Promise<void>((resolve) => (logged = resolve));
    server.spawn(java, args, (line) => {
      if (line.includes(READY_LINE)) logged();
    });
    const deadline = performance.now() + startTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const outcome = await Promise.race([
        ready.then(() => "ready"),
        server.exited.then(() => "exited during startup"),
        new Promise<string>((resolve) => {
          timer = setTimeout(
            () =>
              resolve(`did not log "${READY_LINE}" in ${startTimeoutMs} ms`),
            startTimeoutMs,
          );
        }),
      ]);
      if (outcome !== "ready") throw server.describe(outcome);
      // It serves: a Metadata request lists this broker.
      for (;;) {
        const listed = await kafkaMetadata(address).then(
          (m) => m.brokers.some((b) => b.port === port),
          () => false,
        );
        if (listed) break;
        if (!server.running) throw server.describe("exited during startup");
        if (performance.now() > deadline) {
          throw server.describe("does not list itself in Metadata");
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } catch (error) {
      await kill();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };

  try {
    await start();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    brokers: [address],
    port,
    controllerPort,
    dir,
    output: server.output,
    kill,
    start,
    stop,
    [Symbol.asyncDispose]: async () => {
      try {
        await stop();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** What a broker answers to Metadata (v4) about the cluster. */
export interface KafkaMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: { nodeId: number; host: string; port: number }[];
}

/**
 * Sends one Metadata request (v4, no topics) to `address` (`host:port`) on a
 * connection of its own, for tests that look at a broker behind a client's
 * back. Rejects on a connection failure or after `timeoutMs`.
 */
export async function kafkaMetadata(
  address: string,
  timeoutMs = 5_000,
): Promise<KafkaMetadata> {
  const clientId = Buffer.from("cqi-test");
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
  let at = 0;
  at = body.writeInt16BE(3, at); // api_key: Metadata
  at = body.writeInt16BE(4, at); // api_version
  at = body.writeInt32BE(1, at); // correlation_id
  at = body.writeInt16BE(clientId.length, at);
  at += clientId.copy(body, at);
  at = body.writeInt32BE(0, at); // topics: none
  body.writeInt8(0, at); // allow_auto_topic_creation
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);

  const socket = connect(hostPort(address));
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error("timed out")));
  try {
    await Promise.race([
      once(socket, "connect"),
      once(socket, "error").then(([e]) => Promise.reject(e)),
    ]);
    socket.write(Buffer.concat([size, body]));
    let buffer = Buffer.alloc(0);
    for await (const chunk of socket) {
      buffer = Buffer.concat([buffer, chunk as Buffer]);
      if (buffer.length >= 4 && buffer.length >= 4 + buffer.readInt32BE(0)) {
        return parseMetadata(buffer.subarray(4, 4 + buffer.readInt32BE(0)));
      }
    }
    throw new Error(`${address} closed the connection`);
  } finally {
    socket.destroy();
  }
}

function parseMetadata(response: Buffer): KafkaMetadata {
  let at = 4 + 4; // correlation_id, throttle_time_ms
  const int16 = () => ((at += 2), response.readInt16BE(at - 2));
  const int32 = () => ((at += 4), response.readInt32BE(at - 4));
  const string = () => {
    const length = int16();
    if (length < 0) return null;
    at += length;
    return response.toString("utf8", at - length, at);
  };
  const brokers: KafkaMetadata["brokers"] = [];
  for (let count = int32(); count > 0; count--) {
    const nodeId = int32();
    const host = string() ?? "";
    const port = int32();
    string(); // rack
    brokers.push({ nodeId, host, port });
  }
  const clusterId = string();
  const controllerId = int32();
  return { clusterId, controllerId, brokers };
}

function runScript(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", [SCRIPT, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk) => (stdout += chunk));
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    child.once(
      "error",
      (error) => resolve({ code: -1, stdout, stderr: `${stderr}${error}` }),
    );
    child.once(
      "close",
      (code) => resolve({ code: code ?? -1, stdout, stderr }),
    );
  });
}
