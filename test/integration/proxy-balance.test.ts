/**
 * Choosing a server as haproxy 2.6 does on the same config: `balance roundrobin` (equal and
 * weighted orders), `static-rr`, `leastconn`, `source`, `uri`, `first`, `backup` servers (and
 * `option allbackups`), `disabled`, `maxconn` with its fair queue, and `slowstart` (the CSV
 * weight while a server leaving maint ramps up).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir, waitFor } from "../helpers/index.js";
import {
  DEFAULTS,
  echoReply,
  get,
  header,
  proxy,
  RawClient,
  request,
  runtimeApi,
  type ScriptedServer,
  scriptedServer,
  statsCsv,
} from "./proxy-fixture.js";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

let s: ScriptedServer[];
let sock: string;
const port: Record<string, number> = {};

const BACKENDS: [string, string, string[]][] = [
  ["rr", "roundrobin", ["", "", ""]],
  ["rrw", "roundrobin", ["weight 3", "weight 1"]],
  ["rrw3", "roundrobin", ["weight 5", "weight 3", "weight 2"]],
  ["static", "static-rr", ["weight 2", "weight 1"]],
  ["lc", "leastconn", ["", ""]],
  ["src", "source", ["", "", ""]],
  ["uri", "uri", ["", "", ""]],
  ["first", "first", ["maxconn 1", "maxconn 1"]],
  ["bk", "roundrobin", ["", "disabled", "backup", "backup"]],
  ["bkall", "roundrobin", ["disabled", "disabled", "backup", "backup"]],
  ["allbk", "roundrobin\n  option allbackups", ["disabled", "disabled", "backup", "backup"]],
  ["q", "roundrobin", ["maxconn 1"]],
  ["slow", "roundrobin", ["weight 20 slowstart 2s", "weight 20 slowstart 2s"]],
];

beforeAll(async () => {
  s = [];
  for (const n of ["s1", "s2", "s3", "s4"]) {
    const x = await scriptedServer(echoReply(n));
    cleanup.push(() => x.close());
    s.push(x);
  }
  const dir = tempDir("proxy-balance-");
  cleanup.push(async () => dir.remove());
  sock = join(dir.path, "admin.sock");
  let cfg = `global\n  stats socket ${sock} level admin\n${DEFAULTS}`;
  BACKENDS.forEach(([name, balance, servers], i) => {
    cfg +=
      `listen ${name}\n  bind 127.0.0.1:@PORT${i + 1}\n  balance ${balance}\n  stats enable\n  stats uri /stats\n` +
      servers.map((opts, k) => `  server s${k + 1} 127.0.0.1:${s[k]!.port} ${opts}\n`).join("");
  });
  const { ports } = await proxy(cfg, cleanup);
  BACKENDS.forEach(([name], i) => {
    port[name] = ports[i + 1]!;
  });
});

/** Who answers each of `n` requests, each on its own connection. */
async function order(p: number, n: number, path = (i: number) => `/r${i}`): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(header(await request(p, get(path(i))), "x-echo") ?? "-");
  return out;
}

describe("balance", () => {
  it("roundrobin with equal weights alternates in declaration order", async () => {
    expect(await order(port.rr!, 6)).toEqual(["s1", "s2", "s3", "s1", "s2", "s3"]);
  });

  it("roundrobin with weights 3 and 1 spreads them smoothly, as HAProxy's order", async () => {
    expect(await order(port.rrw!, 8)).toEqual(["s1", "s1", "s1", "s2", "s1", "s1", "s1", "s2"]);
  });

  it("roundrobin with weights 5, 3 and 2 follows HAProxy's order", async () => {
    expect(await order(port.rrw3!, 10)).toEqual(["s1", "s2", "s1", "s3", "s1", "s2", "s1", "s2", "s1", "s3"]);
  });

  it("static-rr with weights 2 and 1", async () => {
    expect(await order(port.static!, 6)).toEqual(["s1", "s1", "s2", "s1", "s1", "s2"]);
  });

  it("leastconn sends a new request to the server with fewer connections", async () => {
    const busy = await RawClient.open(port.lc!);
    busy.send(get("/slow?_delay=600"));
    await waitFor(
      () =>
        s[0]!.requests.some((r) => r.head.includes("/slow?")) ||
        s[1]!.requests.some((r) => r.head.includes("/slow?")),
      {
        what: "the slow request at a server",
      },
    );
    const busyOn = s[0]!.requests.some((r) => r.head.includes("/slow?")) ? "s1" : "s2";
    const next = await order(port.lc!, 3);
    expect(next).toEqual(Array(3).fill(busyOn === "s1" ? "s2" : "s1"));
    await busy.response();
  });

  it("source sends a client address to the same server every time", async () => {
    const seen: string[] = [];
    for (const addr of ["127.0.0.2", "127.0.0.3", "127.0.0.2", "127.0.0.3"]) {
      const c = await RawClient.open(port.src!, { localAddress: addr });
      c.send(get("/"));
      seen.push(header(await c.response(), "x-echo")!);
    }
    expect(seen[0]).toBe(seen[2]);
    expect(seen[1]).toBe(seen[3]);
  });

  it("uri sends the same path to the same server, the query string ignored", async () => {
    const r = await order(port.uri!, 4, (i) => ["/a", "/b?x=1", "/a?y=2", "/b"][i]!);
    expect(r[0]).toBe(r[2]);
    expect(r[1]).toBe(r[3]);
  });

  it("first fills the first server up to its maxconn before using the next", async () => {
    const busy = await RawClient.open(port.first!);
    busy.send(get("/slow?_delay=500"));
    await waitFor(() => s[0]!.requests.some((r) => r.head.includes("/slow?_delay=500")), { what: "s1 busy" });
    expect(await order(port.first!, 2)).toEqual(["s2", "s2"]);
    await busy.response();
    expect(await order(port.first!, 2)).toEqual(["s1", "s1"]);
  });
});

describe("backup and disabled servers", () => {
  it("a backup server gets nothing while an active one is up; a disabled one gets nothing", async () => {
    expect(await order(port.bk!, 4)).toEqual(["s1", "s1", "s1", "s1"]);
  });

  it("with every active server down, the first backup takes everything", async () => {
    expect(await order(port.bkall!, 4)).toEqual(["s3", "s3", "s3", "s3"]);
  });

  it("option allbackups balances over all the backup servers", async () => {
    expect(await order(port.allbk!, 4)).toEqual(["s3", "s4", "s3", "s4"]);
  });
});

describe("maxconn and the queue", () => {
  it("a request over the server's maxconn waits in the queue and is served when a slot frees, in order", async () => {
    const first = await RawClient.open(port.q!);
    first.send(get("/q1?_delay=200"));
    await waitFor(() => s[0]!.requests.some((r) => r.head.startsWith("GET /q1?")), {
      what: "q1 at the server",
    });
    const clients = [first];
    for (const path of ["/q2", "/q3"]) {
      const c = await RawClient.open(port.q!);
      c.send(get(path));
      clients.push(c);
    }
    const bodies = await Promise.all(clients.map(async (c) => (await c.response()).body));
    expect(bodies).toEqual(["s1:GET /q1?_delay=200 HTTP/1.1", "s1:GET /q2 HTTP/1.1", "s1:GET /q3 HTTP/1.1"]);
    const heads = s[0]!.requests.map((r) => r.head.split(" ")[1]).filter((p) => p!.startsWith("/q"));
    expect(heads).toEqual(["/q1?_delay=200", "/q2", "/q3"]);
  });
});

describe("slowstart", () => {
  it("a server leaving maint ramps its weight up over slowstart (CSV weight 2, 12, then 20)", async () => {
    await runtimeApi(sock, "set server slow/s2 state maint");
    await runtimeApi(sock, "set server slow/s2 state ready");
    const weight = async () =>
      (await statsCsv(port.slow!, "/stats")).find((r) => r.pxname === "slow" && r.svname === "s2")!.weight;
    const seen = [await weight()];
    await waitFor(
      async () => {
        const w = await weight();
        if (w !== seen[seen.length - 1]) seen.push(w!);
        return w === "20";
      },
      { timeout: 5000, what: "full weight" },
    );
    expect(seen[0]).toBe("2");
    expect(seen).toContain("12");
    expect(seen[seen.length - 1]).toBe("20");
  });
});
