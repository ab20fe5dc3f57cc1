import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { type Advert, encodeAdvert } from "../../ha/advert.js";
import { PeerLink } from "../../ha/peerlink.js";
import { freePort, waitFor } from "../helpers/index.js";

function advert(node: string, seq: number, over: Partial<Advert> = {}): Advert {
  return {
    v: 1,
    ha: "web",
    node,
    priority: 100,
    role: "BACKUP",
    epoch: 0,
    released: 0,
    redis: true,
    checksum: "c",
    pid: 1,
    start: 1,
    host: "h",
    boot: "b",
    inc: `${node}-inc`,
    up: 1,
    seq,
    ack: 0,
    ackInc: "",
    sent: Date.now(),
    ...over,
  };
}

interface Side {
  link: PeerLink;
  got: Advert[];
  ups: number;
  downs: string[];
  logs: string[];
}

async function side(
  self: string,
  peer: string,
  myPort: number,
  peerPort: number,
  start = true,
): Promise<Side> {
  const s: Side = { link: undefined as unknown as PeerLink, got: [], ups: 0, downs: [], logs: [] };
  s.link = new PeerLink({
    ha: "web",
    self,
    listen: { host: "127.0.0.1", port: myPort },
    peer: { name: peer, host: "127.0.0.1", port: peerPort },
    onAdvert: (a) => s.got.push(a),
    onUp: () => {
      s.ups += 1;
    },
    onDown: (why) => s.downs.push(why),
    log: (_l, m) => s.logs.push(m),
    backoff: { min: 10, max: 100 },
    maxBuffered: 4096,
  });
  onTestFinished(() => s.link.close());
  if (start) await s.link.start();
  return s;
}

async function pair() {
  const p1 = await freePort();
  const p2 = await freePort();
  const lb1 = await side("lb1", "lb2", p1, p2);
  const lb2 = await side("lb2", "lb1", p2, p1);
  await waitFor(() => lb1.link.connected && lb2.link.connected, { what: "both outbound connections" });
  return { lb1, lb2, p1, p2 };
}

describe("the direct peer link", () => {
  it("each node's adverts reach the other, in order, one per line", async () => {
    const { lb1, lb2 } = await pair();
    for (let i = 1; i <= 20; i++) {
      expect(lb1.link.send(encodeAdvert(advert("lb1", i)))).toBe(true);
      expect(lb2.link.send(encodeAdvert(advert("lb2", i)))).toBe(true);
    }
    await waitFor(() => lb1.got.length === 20 && lb2.got.length === 20, { what: "20 adverts each way" });
    expect(lb2.got.map((a) => a.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(lb1.got.every((a) => a.node === "lb2")).toBe(true);
    expect(lb1.ups).toBe(1);
    expect(lb1.link.up).toBe(true);
  });

  it("a peer process that goes away is seen at once: its connection to us closes", async () => {
    const { lb1, lb2 } = await pair();
    lb2.link.send(encodeAdvert(advert("lb2", 1)));
    await waitFor(() => lb1.link.up, { what: "lb1 to hear lb2" });
    const t0 = Date.now();
    await lb2.link.close();
    await waitFor(() => lb1.downs.length === 1, { what: "lb1 to see the link go down" });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(lb1.link.up).toBe(false);
  });

  it("a node started before its peer keeps retrying, and the link comes up when the peer starts", async () => {
    const p1 = await freePort();
    const p2 = await freePort();
    const lb1 = await side("lb1", "lb2", p1, p2);
    await new Promise((r) => setTimeout(r, 150));
    expect(lb1.link.connected).toBe(false);
    const lb2 = await side("lb2", "lb1", p2, p1);
    await waitFor(() => lb1.link.connected && lb2.link.connected, { what: "the link once both run" });
    lb1.link.send(encodeAdvert(advert("lb1", 1)));
    await waitFor(() => lb2.got.length === 1, { what: "the first advert" });
  });

  it("a restarted peer reconnects: the link comes back", async () => {
    const { lb1, lb2, p2, p1 } = await pair();
    lb2.link.send(encodeAdvert(advert("lb2", 1)));
    await waitFor(() => lb1.link.up, { what: "lb1 to hear lb2" });
    await lb2.link.close();
    await waitFor(() => !lb1.link.up, { what: "the link to go down" });
    const again = await side("lb2", "lb1", p2, p1);
    await waitFor(() => again.link.connected, { what: "the new lb2 to connect" });
    again.link.send(encodeAdvert(advert("lb2", 1, { inc: "lb2-new" })));
    await waitFor(() => lb1.link.up && lb1.ups === 2, { what: "the link to come back" });
    await waitFor(() => lb1.link.connected, { what: "lb1 to reconnect its side" });
    expect(lb1.link.send(encodeAdvert(advert("lb1", 5)))).toBe(true);
    await waitFor(() => again.got.length === 1, { what: "lb1's advert to reach the new lb2" });
  });

  it("garbage and adverts of another ha section are ignored and said once; the link stays up", async () => {
    const { lb1, p1 } = await pair();
    const sock: Socket = tcpConnect(p1, "127.0.0.1");
    sock.on("error", () => {});
    onTestFinished(() => {
      sock.destroy();
    });
    await new Promise((r) => sock.once("connect", r));
    sock.write("hello\n");
    sock.write(`${encodeAdvert(advert("lb2", 1, { ha: "other" }))}\n`);
    sock.write(`${encodeAdvert(advert("lb2", 2))}\n`);
    await waitFor(() => lb1.got.length === 1, { what: "the valid advert" });
    expect(lb1.got[0]?.seq).toBe(2);
    expect(lb1.logs).toHaveLength(1);
    expect(lb1.logs[0]).toMatch(/ignoring advert is not JSON/);
  });

  it("a peer that stops reading (frozen) is not buffered for without bound", async () => {
    // A stand-in peer that accepts and never reads, like a SIGSTOPped process.
    const frozen = createServer((s) => {
      s.pause();
      s.on("error", () => {});
      onTestFinished(() => {
        s.destroy();
      });
    });
    await new Promise<void>((r) => frozen.listen(0, "127.0.0.1", () => r()));
    onTestFinished(() => {
      frozen.close();
    });
    const port = (frozen.address() as { port: number }).port;
    const lb1 = await side("lb1", "lb2", await freePort(), port);
    await waitFor(() => lb1.link.connected, { what: "the connection to the frozen peer" });
    const big = encodeAdvert(advert("lb1", 1, { checksum: "x".repeat(200) }));
    let refused = 0;
    for (let i = 0; i < 20_000 && refused === 0; i++) if (!lb1.link.send(big)) refused += 1;
    expect(refused).toBe(1);
    expect(lb1.logs.join("\n")).toMatch(/lb2 is not reading; dropping the connection/);
  });

  it("two listeners on one peer address: the second start fails with a bind error", async () => {
    const { p1 } = await pair();
    const dup = await side("lb1", "lb2", p1, await freePort(), false);
    await expect(dup.link.start()).rejects.toMatchObject({ code: "FUL_BIND" });
  });
});
