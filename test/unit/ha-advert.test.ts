import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ADVERT_FIELDS, type Advert, checksumMismatch, decodeAdvert, encodeAdvert } from "../../ha/advert.js";

const sample: Advert = {
  v: 1,
  ha: "web_proxy",
  node: "lb1",
  priority: 150,
  role: "MASTER",
  epoch: 7,
  released: 0,
  redis: true,
  checksum: "ab".repeat(32),
  pid: 4321,
  start: 123456,
  host: "lb-host",
  boot: "893c5ffd-9587-40cc-bc4a-f3fd7ebdd6ca",
  inc: "1a2b3c4d",
  up: 1_700_000_000_000,
  seq: 42,
  ack: 17,
  ackInc: "5e6f7a8b",
  sent: 1_700_000_000_123,
};

describe("advert codec", () => {
  it("an advert survives encode and decode unchanged, on one line", () => {
    const line = encodeAdvert(sample);
    expect(line).not.toMatch(/\n/);
    expect(decodeAdvert(line)).toEqual({ ok: true, advert: sample });
  });

  it("carries what the issue lists: name, priority, role, epoch, checksum, pid, start time, host identity, sent time", () => {
    for (const f of [
      "node",
      "priority",
      "role",
      "epoch",
      "checksum",
      "pid",
      "start",
      "host",
      "boot",
      "sent",
    ]) {
      expect(ADVERT_FIELDS).toContain(f);
    }
  });

  it("an advert of another version is refused with a reason", () => {
    const r = decodeAdvert(JSON.stringify({ ...sample, v: 2 }));
    expect(r).toMatchObject({ ok: false, code: "version" });
  });

  it("a missing or mistyped field is refused, naming the field", () => {
    const { epoch: _e, ...noEpoch } = sample;
    expect(decodeAdvert(JSON.stringify(noEpoch))).toMatchObject({ ok: false, code: "field" });
    const r = decodeAdvert(JSON.stringify({ ...sample, role: "LEADER" }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/"role"/);
    expect(decodeAdvert(JSON.stringify({ ...sample, epoch: -1 })).ok).toBe(false);
    expect(decodeAdvert(JSON.stringify({ ...sample, redis: "yes" })).ok).toBe(false);
  });

  it("unknown extra fields are dropped, not passed on", () => {
    const r = decodeAdvert(JSON.stringify({ ...sample, extra: "x" }));
    expect(r.ok && "extra" in r.advert).toBe(false);
  });

  it("decoding never throws, whatever the line", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (line) => {
        const r = decodeAdvert(line);
        expect(typeof r.ok).toBe("boolean");
      }),
      { numRuns: 500 },
    );
  });

  it("a config checksum mismatch is detected", () => {
    expect(checksumMismatch(sample.checksum, sample)).toBe(false);
    expect(checksumMismatch("cd".repeat(32), sample)).toBe(true);
  });
});
