/**
 * Health checks and the stats CSV as haproxy 2.6 shows them on the same config: the check
 * request bytes (the tutorial's `option httpchk HEAD /login HTTP/1.0`), TCP connect checks,
 * `http-check expect`, rise/fall (servers start UP with health = rise, so a first failed check
 * takes one down), no traffic to a DOWN server, and the CSV columns an operator's script
 * watches while a server goes down and comes back (status, check_status, check_code,
 * chkfail, chkdown), with MAINT and DRAIN set through the runtime API.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, tempDir, waitFor } from "../helpers/index.js";
import {
  DEFAULTS,
  echoReply,
  get,
  header,
  proxy,
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

/** A server whose check answers can be switched; other requests are echoed. */
interface Switchable extends ScriptedServer {
  healthy: boolean;
}

async function switchable(name: string, healthy = true): Promise<Switchable> {
  const state = { healthy };
  const echo = echoReply(name);
  const srv = await scriptedServer((head) => {
    if (head.startsWith("HEAD /login") || head.startsWith("OPTIONS ") || head.startsWith("GET /health")) {
      return state.healthy
        ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nalive"
        : "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndead";
    }
    return echo(head);
  });
  cleanup.push(() => srv.close());
  return Object.defineProperty(srv, "healthy", {
    get: () => state.healthy,
    set: (v: boolean) => {
      state.healthy = v;
    },
  }) as Switchable;
}

let web1: Switchable;
let web2: Switchable;
let sick: Switchable;
let plain: ScriptedServer;
let sock: string;
let tutorial: number;
let tcp: number;
let expectPort: number;
let allDown: number;

beforeAll(async () => {
  web1 = await switchable("web1");
  web2 = await switchable("web2");
  sick = await switchable("sick", false);
  plain = await scriptedServer(echoReply("plain"));
  cleanup.push(() => plain.close());
  const closedPort = await freePort();
  const dir = tempDir("proxy-health-");
  cleanup.push(async () => dir.remove());
  sock = join(dir.path, "admin.sock");
  const { ports } = await proxy(
    `global\n  stats socket ${sock} level admin\n${DEFAULTS}  timeout check 500\n` +
      `listen tutorial\n  bind 127.0.0.1:@PORT1\n  stats enable\n  stats uri /stats\n` +
      `  option httpchk HEAD /login HTTP/1.0\n  balance roundrobin\n` +
      `  server webA 127.0.0.1:${web1.port} check inter 100 rise 2 fall 2\n` +
      `  server webB 127.0.0.1:${web2.port} check inter 100 rise 2 fall 2\n` +
      `  server webC 127.0.0.1:${sick.port} check inter 100 rise 2 fall 3\n` +
      `  server webD 127.0.0.1:${plain.port}\n` +
      `listen tcpchk\n  bind 127.0.0.1:@PORT2\n  stats enable\n  stats uri /stats\n` +
      `  server up 127.0.0.1:${plain.port} check inter 100\n` +
      `  server closed 127.0.0.1:${closedPort} check inter 100\n` +
      `listen expect\n  bind 127.0.0.1:@PORT3\n  stats enable\n  stats uri /stats\n` +
      `  option httpchk GET /health\n  http-check expect string alive\n` +
      `  server good 127.0.0.1:${web1.port} check inter 100\n` +
      `  server bad 127.0.0.1:${sick.port} check inter 100\n` +
      `listen alldown\n  bind 127.0.0.1:@PORT4\n  stats enable\n  stats uri /stats\n` +
      `  server only 127.0.0.1:${closedPort} check inter 100\n`,
    cleanup,
  );
  tutorial = ports[1]!;
  tcp = ports[2]!;
  expectPort = ports[3]!;
  allDown = ports[4]!;
});

/**
 * A server's CSV row between two checks: while a check runs HAProxy shows `* L7OK` with code
 * 0 (health-keywords.test.ts covers that), so the rows compared here wait for it to end.
 */
async function row(p: number, px: string, sv: string, settled = true): Promise<Record<string, string>> {
  return waitFor(
    async () => {
      const r = (await statsCsv(p, "/stats")).find((x) => x.pxname === px && x.svname === sv);
      if (r === undefined) throw new Error(`no CSV row ${px}/${sv}`);
      return settled && r.check_status?.startsWith("* ") ? undefined : r;
    },
    { interval: 5, what: `${px}/${sv} between two checks` },
  );
}

/** The CSV fields of a server a script watches, one string. */
async function watch(p: number, px: string, sv: string): Promise<string> {
  const r = await row(p, px, sv);
  return `${r.status} ${r.check_status} ${r.check_code} chkfail=${r.chkfail} chkdown=${r.chkdown}`;
}

describe("check requests", () => {
  it("sends the tutorial's HEAD /login HTTP/1.0 exactly so", async () => {
    await waitFor(() => web1.requests.some((r) => r.head.startsWith("HEAD ")), { what: "a check at web1" });
    const check = web1.requests.find((r) => r.head.startsWith("HEAD "))!;
    expect(check.head).toBe("HEAD /login HTTP/1.0\r\n\r\n");
  });

  it("a server without check is shown as 'no check' and takes traffic", async () => {
    expect((await row(tutorial, "tutorial", "webD")).status).toBe("no check");
  });
});

describe("rise and fall", () => {
  it("a server whose first check fails is DOWN at once (health starts at rise)", async () => {
    await waitFor(async () => (await row(tutorial, "tutorial", "webC")).status === "DOWN", {
      what: "webC DOWN",
    });
    expect(await watch(tutorial, "tutorial", "webC")).toBe("DOWN L7STS 503 chkfail=1 chkdown=1");
  });

  it("a DOWN server gets no traffic", async () => {
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 6; i++) seen.add(header(await request(tutorial, get(`/r${i}`)), "x-echo"));
    expect([...seen].sort()).toEqual(["plain", "web1", "web2"]);
  });

  it("goes UP 1/2, DOWN after fall failures, DOWN 1/2, then UP after rise successes, as the CSV shows", async () => {
    const seen: string[] = [];
    const track = async (until: string) =>
      waitFor(
        async () => {
          const w = await watch(tutorial, "tutorial", "webB");
          if (seen[seen.length - 1] !== w) seen.push(w);
          return w.startsWith(until);
        },
        { timeout: 5000, interval: 15, what: until },
      );
    await track("UP L7OK");
    web2.healthy = false;
    await track("DOWN L7STS");
    web2.healthy = true;
    await track("UP L7OK");
    expect(seen).toEqual([
      "UP L7OK 200 chkfail=0 chkdown=0",
      "UP 1/2 L7STS 503 chkfail=1 chkdown=0",
      "DOWN L7STS 503 chkfail=2 chkdown=1",
      "DOWN 1/2 L7OK 200 chkfail=2 chkdown=1",
      "UP L7OK 200 chkfail=2 chkdown=1",
    ]);
  });
});

describe("every server down", () => {
  it("answers 503 once the only server is DOWN, and the backend row says DOWN", async () => {
    await waitFor(async () => (await row(allDown, "alldown", "only")).status === "DOWN", {
      what: "only DOWN",
    });
    const r = await request(allDown, get("/a"));
    expect(r.status).toBe(503);
    expect((await row(allDown, "alldown", "BACKEND")).status).toBe("DOWN");
  });
});

describe("TCP checks and http-check expect", () => {
  it("a TCP check is L4OK on a listening port and L4CON on a closed one (DOWN)", async () => {
    await waitFor(async () => (await row(tcp, "tcpchk", "closed")).status === "DOWN", {
      what: "closed DOWN",
    });
    expect((await row(tcp, "tcpchk", "closed")).check_status).toBe("L4CON");
    expect((await row(tcp, "tcpchk", "up")).check_status).toBe("L4OK");
  });

  it("http-check expect string: a body without the string is L7RSP... DOWN, with it L7OK", async () => {
    await waitFor(async () => (await row(expectPort, "expect", "bad")).status === "DOWN", {
      what: "bad DOWN",
    });
    const good = await row(expectPort, "expect", "good");
    expect(`${good.status} ${good.check_status}`).toBe("UP L7OK");
    expect((await row(expectPort, "expect", "bad")).check_status).toBe("L7RSP");
  });
});

describe("admin states in the CSV", () => {
  it("MAINT takes a server down (chkdown counts it); leaving it, the server starts again at health rise", async () => {
    const before = Number((await row(tutorial, "tutorial", "webA")).chkdown);
    await runtimeApi(sock, "set server tutorial/webA state maint");
    const maint = await row(tutorial, "tutorial", "webA");
    expect(`${maint.status} chkdown=${maint.chkdown}`).toBe(`MAINT chkdown=${before + 1}`);
    await runtimeApi(sock, "set server tutorial/webA state drain");
    expect((await row(tutorial, "tutorial", "webA", false)).status).toBe("DRAIN 1/2");
    await waitFor(async () => (await row(tutorial, "tutorial", "webA")).status === "DRAIN", {
      what: "DRAIN",
    });
    await runtimeApi(sock, "set server tutorial/webA state ready");
    expect((await row(tutorial, "tutorial", "webA")).status).toBe("UP");
  });
});
