import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { httpService } from "./mod.ts";

const never = () => new AbortController().signal;
const local = { port: 0, hostname: "127.0.0.1" };

describe("httpService", () => {
  it("listens on start, answers, and shuts down on stop; can start again", async () => {
    const http = httpService(() => new Response("hello"), local);
    assert.equal(http.name, "http");
    assert.equal(http.addr, undefined);
    await assert.rejects(http.check!(never()), /http: not listening/);
    await http.start(never());
    await http.start(never()); // already listening: no second server
    await http.check!(never());
    const res = await fetch(`http://127.0.0.1:${http.addr!.port}/`);
    assert.equal(await res.text(), "hello");
    await http.stop(never());
    assert.equal(http.addr, undefined);
    await http.stop(never()); // stopped already: nothing to do

    await http.start(never());
    const again = await fetch(`http://127.0.0.1:${http.addr!.port}/`);
    assert.equal(again.status, 200);
    await again.body?.cancel();
    await http.stop(never());
  });

  it("lets an in-flight request finish, and rejects when the grace period runs out", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => release = resolve);
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => arrived = resolve);
    const http = httpService(async () => {
      arrived();
      await gate;
      return new Response("late");
    }, { ...local, gracePeriod: 20, name: "api", dependsOn: ["db"] });
    assert.deepEqual(http.dependsOn, ["db"]);
    await http.start(never());
    const pending = fetch(`http://127.0.0.1:${http.addr!.port}/`).then(
      (res) => res.text(),
      (error) => error,
    );
    await inFlight;
    await assert.rejects(http.stop(never()), /grace period of 20 ms ran out/);
    release();
    await pending;
  });

  it("rejects stop when its signal aborts first", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => release = resolve);
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => arrived = resolve);
    const http = httpService(async () => {
      arrived();
      await gate;
      return new Response("late");
    }, { ...local, gracePeriod: 5_000 });
    await http.start(never());
    const pending = fetch(`http://127.0.0.1:${http.addr!.port}/`).then(
      (res) => res.text(),
    );
    await inFlight;
    const controller = new AbortController();
    const stopping = http.stop(controller.signal);
    controller.abort(new Error("grace period over"));
    await assert.rejects(
      stopping,
      /http: shutdown cut short: grace period over/,
    );
    release();
    assert.equal(await pending, "late");
  });

  it("does not start with an aborted signal", async () => {
    const http = httpService(() => new Response("x"), local);
    await assert.rejects(http.start(AbortSignal.abort(new Error("no"))), /no/);
    assert.equal(http.addr, undefined);
  });
});
