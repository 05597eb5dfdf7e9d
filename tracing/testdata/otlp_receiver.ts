// OTLP trace receivers for tests: HTTP (protobuf and JSON) on @cqi/http's
// serve, and gRPC on node:http2. They decode ExportTraceServiceRequest into
// plain spans, with a small protobuf reader for the fields the tests check.
import http2 from "node:http2";
import { once } from "node:events";
import { serve } from "@cqi/http";

export type Value = string | number | boolean | Value[];

/** A received span, normalised from protobuf or JSON. */
export interface ReceivedSpan {
  name: string;
  kind: number; // 1 internal, 2 server, 3 client, 4 producer, 5 consumer
  traceId: string;
  spanId: string;
  parentSpanId: string; // "" for a root span
  traceState: string;
  attributes: Record<string, Value>;
  events: Array<{ name: string; attributes: Record<string, Value> }>;
  status: { code: number; message: string }; // 0 unset, 1 ok, 2 error
  resource: Record<string, Value>;
}

/** A request as received. */
export interface Received {
  path: string;
  contentType: string;
  spans: ReceivedSpan[];
}

export interface Receiver extends AsyncDisposable {
  /** Where to send: `http://127.0.0.1:port`. */
  url: string;
  requests: Received[];
  spans(): ReceivedSpan[];
  /** Resolves once at least `count` spans matching `filter` arrived. */
  waitForSpans(
    count: number,
    filter?: (s: ReceivedSpan) => boolean,
  ): Promise<ReceivedSpan[]>;
}

function collector(): {
  requests: Received[];
  add(r: Received): void;
  spans(): ReceivedSpan[];
  waitForSpans: Receiver["waitForSpans"];
} {
  const requests: Received[] = [];
  const waiters: Array<() => void> = [];
  const spans = () => requests.flatMap((r) => r.spans);
  return {
    requests,
    spans,
    add(r) {
      requests.push(r);
      for (const w of [...waiters]) w();
    },
    waitForSpans(count, filter = () => true) {
      return new Promise((resolve) => {
        const check = () => {
          const found = spans().filter(filter);
          if (found.length < count) return false;
          waiters.splice(waiters.indexOf(waiter), 1);
          resolve(found);
          return true;
        };
        const waiter = () => void check();
        waiters.push(waiter);
        check();
      });
    },
  };
}

/** An OTLP/HTTP receiver (protobuf or JSON by content type). */
export function httpReceiver(): Receiver {
  const c = collector();
  const server = serve(async (req) => {
    const path = new URL(req.url).pathname;
    const contentType = req.headers.get("content-type") ?? "";
    const body = new Uint8Array(await req.arrayBuffer());
    if (path === "/v1/traces" || path.startsWith("/custom")) {
      const spans = contentType.includes("json")
        ? decodeJson(JSON.parse(new TextDecoder().decode(body)))
        : decodeRequest(body);
      c.add({ path, contentType, spans });
    }
    return contentType.includes("json")
      ? Response.json({})
      : new Response(new Uint8Array(), {
        headers: { "content-type": "application/x-protobuf" },
      });
  }, { port: 0, hostname: "127.0.0.1", handleSignals: false });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests: c.requests,
    spans: c.spans,
    waitForSpans: c.waitForSpans,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** An OTLP/gRPC receiver on node:http2 (cleartext). */
export async function grpcReceiver(): Promise<Receiver> {
  const c = collector();
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  server.on("stream", (stream: http2.ServerHttp2Stream, headers) => {
    const chunks: Uint8Array[] = [];
    stream.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    stream.on("end", () => {
      const body = concat(chunks);
      // 1 byte compressed flag, 4 bytes length, then the message
      c.add({
        path: String(headers[":path"]),
        contentType: String(headers["content-type"]),
        spans: decodeRequest(body.subarray(5)),
      });
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, {
        waitForTrailers: true,
      });
      stream.on(
        "wantTrailers",
        () => stream.sendTrailers({ "grpc-status": "0" }),
      );
      stream.end(new Uint8Array(5));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests: c.requests,
    spans: c.spans,
    waitForSpans: c.waitForSpans,
    async [Symbol.asyncDispose]() {
      for (const s of sessions) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

// --- protobuf -------------------------------------------------------------

type Field = { no: number; varint?: bigint; bytes?: Uint8Array };

function varint(buf: Uint8Array, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p] = varint(buf, pos);
    pos = p;
    const no = Number(tag >> 3n);
    switch (Number(tag & 7n)) {
      case 0: {
        const [v, q] = varint(buf, pos);
        out.push({ no, varint: v });
        pos = q;
        break;
      }
      case 1:
        out.push({ no, bytes: buf.subarray(pos, pos + 8) });
        pos += 8;
        break;
      case 2: {
        const [len, q] = varint(buf, pos);
        out.push({ no, bytes: buf.subarray(q, q + Number(len)) });
        pos = q + Number(len);
        break;
      }
      case 5:
        out.push({ no, bytes: buf.subarray(pos, pos + 4) });
        pos += 4;
        break;
      default:
        throw new Error(`unsupported wire type in field ${no}`);
    }
  }
  return out;
}

const str = (b?: Uint8Array) => new TextDecoder().decode(b ?? new Uint8Array());
const hex = (b?: Uint8Array) =>
  [...(b ?? [])].map((x) => x.toString(16).padStart(2, "0")).join("");
const all = (fs: Field[], no: number) => fs.filter((f) => f.no === no);
const one = (fs: Field[], no: number) => fs.find((f) => f.no === no);

function anyValue(buf: Uint8Array): Value {
  const f = fields(buf)[0];
  if (f === undefined) return "";
  switch (f.no) {
    case 1:
      return str(f.bytes);
    case 2:
      return f.varint === 1n;
    case 3:
      return Number(BigInt.asIntN(64, f.varint!));
    case 4:
      return new DataView(f.bytes!.buffer, f.bytes!.byteOffset, 8)
        .getFloat64(0, true);
    case 5:
      return all(fields(f.bytes!), 1).map((v) => anyValue(v.bytes!));
    default:
      return str(f.bytes);
  }
}

function keyValues(fs: Field[]): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const f of fs) {
    const kv = fields(f.bytes!);
    out[str(one(kv, 1)?.bytes)] = anyValue(
      one(kv, 2)?.bytes ?? new Uint8Array(),
    );
  }
  return out;
}

/** Decodes an ExportTraceServiceRequest. */
export function decodeRequest(buf: Uint8Array): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of all(fields(buf), 1)) {
    const rsf = fields(rs.bytes!);
    const res = one(rsf, 1);
    const resource = res ? keyValues(all(fields(res.bytes!), 1)) : {};
    for (const ss of all(rsf, 2)) {
      for (const s of all(fields(ss.bytes!), 2)) {
        const sf = fields(s.bytes!);
        const status = one(sf, 15);
        const stf = status ? fields(status.bytes!) : [];
        spans.push({
          traceId: hex(one(sf, 1)?.bytes),
          spanId: hex(one(sf, 2)?.bytes),
          traceState: str(one(sf, 3)?.bytes),
          parentSpanId: hex(one(sf, 4)?.bytes),
          name: str(one(sf, 5)?.bytes),
          kind: Number(one(sf, 6)?.varint ?? 0n),
          attributes: keyValues(all(sf, 9)),
          events: all(sf, 11).map((e) => {
            const ef = fields(e.bytes!);
            return {
              name: str(one(ef, 2)?.bytes),
              attributes: keyValues(all(ef, 3)),
            };
          }),
          status: {
            message: str(one(stf, 2)?.bytes),
            code: Number(one(stf, 3)?.varint ?? 0n),
          },
          resource,
        });
      }
    }
  }
  return spans;
}

// --- JSON -----------------------------------------------------------------

interface JsonValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: JsonValue[] };
}
interface JsonKv {
  key: string;
  value: JsonValue;
}

function jsonValue(v: JsonValue): Value {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) {
    return (v.arrayValue.values ?? []).map(jsonValue);
  }
  return "";
}

const jsonAttributes = (kvs: JsonKv[] = []) =>
  Object.fromEntries(kvs.map((kv) => [kv.key, jsonValue(kv.value ?? {})]));

interface JsonSpan {
  traceId: string;
  spanId: string;
  traceState?: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: JsonKv[];
  events?: Array<{ name: string; attributes?: JsonKv[] }>;
  status?: { code?: number; message?: string };
}
interface JsonRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: JsonKv[] };
    scopeSpans?: Array<{ spans?: JsonSpan[] }>;
  }>;
}

/** Decodes the JSON encoding of an ExportTraceServiceRequest. */
export function decodeJson(body: JsonRequest): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const resource = jsonAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: s.traceId,
          spanId: s.spanId,
          traceState: s.traceState ?? "",
          parentSpanId: s.parentSpanId ?? "",
          name: s.name,
          kind: s.kind,
          attributes: jsonAttributes(s.attributes),
          events: (s.events ?? []).map((
            e: { name: string; attributes?: JsonKv[] },
          ) => ({
            name: e.name,
            attributes: jsonAttributes(e.attributes),
          })),
          status: {
            code: s.status?.code ?? 0,
            message: s.status?.message ?? "",
          },
          resource,
        });
      }
    }
  }
  return spans;
}
