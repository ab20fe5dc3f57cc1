/**
 * `stats admin if COND`: the stats page's POST form (`b` backend name or `#id`, `s` servers,
 * `action`) applied as haproxy 2.6 applies it, answered with a 303 to `;st=DONE|PART|NONE|ERRP`
 * (`;st=DENY` when the condition does not hold), the servers' state read back from the CSV.
 * Every expectation was measured on haproxy; PROXY_UNDER_TEST=haproxy runs it there.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULTS, echoReply, proxy, request, scriptedServer, statsCsv } from "./proxy-fixture.js";

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

let admin: number;
let readOnly: number;

beforeAll(async () => {
  const srv = await scriptedServer(echoReply("s"));
  cleanup.push(() => srv.close());
  const { ports } = await proxy(
    `${DEFAULTS}` +
      "listen web\n  bind 127.0.0.1:@PORT1\n  stats enable\n  stats uri /st\n  stats admin if TRUE\n" +
      `  server a 127.0.0.1:${srv.port}\n  server b 127.0.0.1:${srv.port}\n` +
      `backend other\n  server c 127.0.0.1:${srv.port}\n` +
      "listen ro\n  bind 127.0.0.1:@PORT2\n  stats enable\n  stats uri /st\n  stats admin if FALSE\n" +
      `  server d 127.0.0.1:${srv.port}\n`,
    cleanup,
  );
  admin = ports[1]!;
  readOnly = ports[2]!;
});

async function post(port: number, uri: string, body: string): Promise<string | undefined> {
  const r = await request(
    port,
    `POST ${uri} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );
  expect(r.status).toBe(303);
  return r.headers.find(([n]) => n.toLowerCase() === "location")?.[1];
}

async function states(): Promise<string> {
  const rows = await statsCsv(admin, "/st");
  return rows
    .filter((r) => r.pxname !== "ro" && r.svname !== "FRONTEND" && r.svname !== "BACKEND")
    .map((r) => `${r.pxname}/${r.svname}=${r.status}`)
    .join(" ");
}

describe("stats admin", () => {
  it("applies the form's actions in order and answers each with haproxy's outcome", async () => {
    const steps: [string, string, string][] = [
      ["s=a&action=drain&b=%23web", "ERRP", "web/a=no check web/b=no check other/c=no check"],
      ["s=a&action=drain&b=web", "DONE", "web/a=DRAIN web/b=no check other/c=no check"],
      ["s=zz&action=maint&b=web", "ERRP", "web/a=DRAIN web/b=no check other/c=no check"],
      ["action=maint&b=web", "NONE", "web/a=DRAIN web/b=no check other/c=no check"],
      ["s=a&action=bogus&b=web", "ERRP", "web/a=DRAIN web/b=no check other/c=no check"],
      ["s=a&s=b&action=maint&b=%231", "DONE", "web/a=MAINT web/b=MAINT other/c=no check"],
      ["s=a&s=zz&action=ready&b=web", "PART", "web/a=no check web/b=MAINT other/c=no check"],
      ["b=web&action=ready&s=a&s=b", "DONE", "web/a=no check web/b=no check other/c=no check"],
      ["s=c&action=maint&b=other", "DONE", "web/a=no check web/b=no check other/c=MAINT"],
      ["s=c&action=ready&b=other", "DONE", "web/a=no check web/b=no check other/c=no check"],
      ["s=a&action=dhlth&b=web", "NONE", "web/a=no check web/b=no check other/c=no check"],
    ];
    for (const [body, st, after] of steps) {
      expect(await post(admin, "/st", body), body).toBe(`/st;st=${st}`);
      expect(await states(), body).toBe(after);
    }
  });

  it("keeps ;up in the redirect", async () => {
    expect(await post(admin, "/st;up;norefresh", "s=a&action=ready&b=web")).toBe("/st;st=DONE;up");
  });

  it("refuses with ;st=DENY when the condition does not hold, and changes nothing", async () => {
    expect(await post(readOnly, "/st", "s=d&action=maint&b=ro")).toBe("/st;st=DENY");
    const rows = await statsCsv(readOnly, "/st");
    expect(rows.find((r) => r.svname === "d")?.status).toBe("no check");
  });
});
