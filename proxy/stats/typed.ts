/**
 * The typed and JSON forms of the stats (`show stat typed`, `show stat json`, the page's
 * `;typed` and `;json`), as haproxy 2.6.12 prints them. They are the CSV's rows (csv.ts
 * `statsRows`) with each field's number, its origin/nature/scope letters and its type, read
 * from the same column table: a field cannot be in one form and not in another.
 *
 * - a field HAProxy leaves empty is left out; an empty string is a field (`last_chk` after a
 *   layer-4 check: `...:MOP:str:`);
 * - fields are numbered HAProxy's way, the CSV's `-` cell is none (ssl_sess is 103);
 * - strings are printed as they are, in the JSON form too: HAProxy 2.6 escapes nothing there,
 *   so a check text with a quote makes its document invalid JSON. Scripts written for it
 *   cope with that; fulcrum prints the same bytes.
 *
 * Pure: rows in, text out.
 */
import { COLUMNS, type FieldType, type RowKind, type StatsRow, type Value } from "./csv.js";

/** HAProxy's process number: fulcrum is one process, as HAProxy 2.6 with `nbproc` gone. */
const PROCESS_NUM = 1;

const OBJ_TYPE: Readonly<Record<RowKind, { letter: string; name: string; key: "fe" | "be" | "sv" }>> = {
  frontend: { letter: "F", name: "Frontend", key: "fe" },
  backend: { letter: "B", name: "Backend", key: "be" },
  server: { letter: "S", name: "Server", key: "sv" },
};

/** The words of the JSON form for each letter of the typed form (HAProxy's FO_, FN_, FS_). */
const ORIGIN: Readonly<Record<string, string>> = {
  M: "Metric",
  S: "Status",
  K: "Key",
  C: "Config",
  P: "Product",
};
const NATURE: Readonly<Record<string, string>> = {
  G: "Gauge",
  L: "Limit",
  M: "Max",
  R: "Rate",
  C: "Counter",
  D: "Duration",
  A: "Age",
  T: "Time",
  N: "Name",
  O: "Output",
  a: "Avg",
};
const SCOPE: Readonly<Record<string, string>> = { P: "Process", S: "Service", s: "System", C: "Cluster" };

/** `"tags":{"origin":"Metric","nature":"Counter","scope":"Process"}` for `MCP`. */
function jsonTags(letters: string): string {
  const [o = "", n = "", s = ""] = letters;
  return `"tags":{"origin":"${ORIGIN[o]}","nature":"${NATURE[n]}","scope":"${SCOPE[s]}"}`;
}

/** A field as both forms describe it, value aside; built once per column and kind of row. */
interface FieldForm {
  /** Index of the field's cell in a row's values. */
  readonly cell: number;
  readonly type: FieldType;
  /** `<pos>.<name>.<process>:<tags>:<type>:`, what a typed line has after the object's ids. */
  readonly typed: string;
  /** `"field":{...},"processNum":1,"tags":{...},"value":{"type":"u64","value":`. */
  readonly json: string;
}

function fieldForm(cell: number, pos: number, name: string, letters: string, type: FieldType): FieldForm {
  return {
    cell,
    type,
    typed: `${pos}.${name}.${PROCESS_NUM}:${letters}:${type}:`,
    json: `"field":{"pos":${pos},"name":"${name}"},"processNum":${PROCESS_NUM},${jsonTags(letters)},"value":{"type":"${type}","value":`,
  };
}

/** Per kind of row, its fields in HAProxy's order (the `-` separator is none). */
const FORMS: Readonly<Record<"fe" | "be" | "sv", readonly FieldForm[]>> = {
  fe: formsFor("fe"),
  be: formsFor("be"),
  sv: formsFor("sv"),
};

function formsFor(key: "fe" | "be" | "sv"): FieldForm[] {
  const out: FieldForm[] = [];
  COLUMNS.forEach((c, i) => {
    if (c.tags !== undefined && c.pos !== undefined)
      out.push(fieldForm(i, c.pos, c.name, c.tags[key], c.tags.type));
  });
  return out;
}

/** A value in the JSON form: numbers bare, strings quoted and not escaped (as HAProxy 2.6). */
function jsonValue(type: FieldType, v: string | number): string {
  return type === "str" ? `"${v}"` : String(v);
}

/** `F.2.0.` then the field: the object type letter, the proxy's iid, the server's sid (0). */
function objectIds(r: StatsRow): { iid: number; id: number } {
  return { iid: r.proxy.id, id: r.server?.cfg.id ?? 0 };
}

/** `show stat typed`: one line per field, `F.2.0.4.scur.1:MGP:u32:0`. */
export function statsTyped(rows: readonly StatsRow[]): string {
  let out = "";
  for (const r of rows) {
    const t = OBJ_TYPE[r.kind];
    const { iid, id } = objectIds(r);
    const prefix = `${t.letter}.${iid}.${id}.`;
    for (const f of FORMS[t.key]) {
      const v: Value = r.values[f.cell];
      if (v !== undefined) out += `${prefix}${f.typed}${v}\n`;
    }
  }
  return out;
}

/** `show stat json`: an array per row, of one object per field, and `\n` (`[]\n` for none). */
export function statsJson(rows: readonly StatsRow[]): string {
  const docs: string[] = [];
  for (const r of rows) {
    const t = OBJ_TYPE[r.kind];
    const { iid, id } = objectIds(r);
    const head = `{"objType":"${t.name}","proxyId":${iid},"id":${id},`;
    const fields: string[] = [];
    for (const f of FORMS[t.key]) {
      const v = r.values[f.cell];
      if (v !== undefined) fields.push(`${head}${f.json}${jsonValue(f.type, v)}}}`);
    }
    docs.push(`[${fields.join(",")}]`);
  }
  return `[${docs.join(",")}]\n`;
}

// ---- show info ------------------------------------------------------------------------------

/** A `show info` line with what the typed forms say of it (info.ts `INFO_FIELDS`). */
export interface TypedInfo {
  readonly pos: number;
  readonly name: string;
  readonly letters: string;
  readonly type: FieldType;
  readonly value: string | number;
}

/** `show info typed`: `0.Name.1:POS:str:fulcrum`. */
export function infoTyped(fields: readonly TypedInfo[]): string {
  return fields.map((f) => `${f.pos}.${f.name}.${PROCESS_NUM}:${f.letters}:${f.type}:${f.value}\n`).join("");
}

/** `show info json`: one array of one object per line, and `\n`. */
export function infoJson(fields: readonly TypedInfo[]): string {
  const items = fields.map(
    (f) =>
      `{"field":{"pos":${f.pos},"name":"${f.name}"},"processNum":${PROCESS_NUM},${jsonTags(f.letters)},` +
      `"value":{"type":"${f.type}","value":${jsonValue(f.type, f.value)}}}`,
  );
  return `[${items.join(",")}]\n`;
}
