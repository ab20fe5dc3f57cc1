/**
 * Layer two: raw tree -> drafts. Walks the sections in order, applies `defaults` to the
 * proxies after it, runs every line through the keyword table and collects every error
 * (one per line at most, like HAProxy) instead of stopping at the first. `finish.ts` then
 * checks what needs the whole picture and freezes the model.
 */
import { ConfigError } from "../errors.js";
import type { AclHooks } from "./acl.js";
import {
  type GlobalDraft,
  type HaDraft,
  inheritFrom,
  newGlobal,
  newHa,
  newProxy,
  type ProxyDraft,
  type ProxyKind,
} from "./draft.js";
import { lookupKeyword } from "./keywords/index.js";
import { renderLine } from "./keywords/legacy.js";
import { addBinds } from "./keywords/proxy.js";
import type { ConfigHost, KwCtx } from "./keywords/types.js";
import type { ConfigWarning, SourceLoc } from "./model.js";
import type { RawFile, RawLine, RawSection, SectionKind } from "./parser.js";

export interface Drafts {
  readonly global: GlobalDraft;
  readonly proxies: ProxyDraft[];
  ha?: HaDraft;
}

export interface Collector {
  readonly errors: ConfigError[];
  readonly warnings: ConfigWarning[];
}

const PROXY_NAME = /^[A-Za-z0-9_.:-]+$/;

/** Proxies whose capabilities overlap cannot share a name (a frontend and a backend can). */
const CAPS: Readonly<Record<Exclude<ProxyKind, "defaults">, readonly ("fe" | "be")[]>> = {
  frontend: ["fe"],
  backend: ["be"],
  listen: ["fe", "be"],
};

class Walker {
  readonly drafts: Drafts = { global: newGlobal(), proxies: [] };
  private defaults: ProxyDraft = newProxy("defaults", "", { file: "<builtin>", line: 0 });

  constructor(
    private readonly host: ConfigHost,
    private readonly out: Collector,
  ) {}

  warn(loc: SourceLoc, message: string): void {
    this.out.warnings.push({ loc, message });
  }

  error(err: unknown): void {
    if (err instanceof ConfigError) this.out.errors.push(err);
    else throw err;
  }

  section(s: RawSection): void {
    let target: { proxy?: ProxyDraft; ha?: HaDraft } | undefined;
    try {
      target = this.header(s);
    } catch (err) {
      this.error(err);
    }
    // A section whose header is wrong still has its lines checked (into a scratch draft),
    // so that one run reports as many mistakes as possible.
    const proxy = target?.proxy ?? newProxy("defaults", "", s.header.loc);
    const ha = target?.ha ?? newHa("", s.header.loc);
    for (const line of s.lines) this.line(s.kind, line, proxy, ha);
  }

  private header(s: RawSection): { proxy?: ProxyDraft; ha?: HaDraft } {
    const { loc, words } = s.header;
    const [kind, name, ...rest] = words as [SectionKind, ...string[]];
    if (kind === "global") {
      if (name !== undefined) throw new ConfigError(loc, `'global' takes no argument, got '${name}'`);
      return {};
    }
    if (kind === "ha") {
      if (name === undefined) throw new ConfigError(loc, "'ha' expects a name", "e.g. ha web_proxy");
      if (rest.length) throw new ConfigError(loc, `unexpected argument '${rest[0]}' after 'ha ${name}'`);
      if (this.drafts.ha) {
        throw new ConfigError(
          loc,
          `only one 'ha' section is allowed (the first is at ${this.drafts.ha.loc.file}:${this.drafts.ha.loc.line})`,
        );
      }
      this.drafts.ha = newHa(name, loc);
      return { ha: this.drafts.ha };
    }
    if (rest[0] === "from" || (kind === "defaults" && name === "from")) {
      throw new ConfigError(
        loc,
        `'${kind} ... from <defaults>' is not supported yet`,
        "proxies use the last defaults section before them",
      );
    }
    if (kind === "defaults") {
      if (name !== undefined && !PROXY_NAME.test(name))
        throw new ConfigError(loc, `invalid defaults name '${name}'`);
      if (rest.length) throw new ConfigError(loc, `unexpected argument '${rest[0]}'`);
      this.defaults = newProxy("defaults", name ?? "", loc);
      return { proxy: this.defaults };
    }
    if (name === undefined) throw new ConfigError(loc, `'${kind}' expects a name`, `e.g. ${kind} web`);
    if (!PROXY_NAME.test(name)) {
      throw new ConfigError(
        loc,
        `invalid ${kind} name '${name}'`,
        "use letters, digits, '-', '_', '.' and ':'",
      );
    }
    this.checkDuplicate(kind, name, loc);
    const proxy = inheritFrom(this.defaults, kind, name, loc);
    this.drafts.proxies.push(proxy);
    if (rest.length > 0) this.legacyAddress(kind, name, rest, proxy, loc);
    return { proxy };
  }

  private checkDuplicate(kind: Exclude<ProxyKind, "defaults">, name: string, loc: SourceLoc): void {
    const mine = CAPS[kind];
    const other = this.drafts.proxies.find(
      (p) => p.name === name && p.kind !== "defaults" && CAPS[p.kind].some((c) => mine.includes(c)),
    );
    if (other) {
      throw new ConfigError(
        loc,
        `${kind} '${name}' has the same name as ${other.kind} '${name}' declared at ${other.loc.file}:${other.loc.line}`,
        "proxy names must be unique (a frontend and a backend may share one)",
      );
    }
  }

  /** HAProxy 1.4's `listen NAME ADDR:PORT` (also `frontend NAME ADDR`): the address is a bind. */
  private legacyAddress(
    kind: string,
    name: string,
    rest: readonly string[],
    proxy: ProxyDraft,
    loc: SourceLoc,
  ): void {
    if (kind === "backend" || rest.length > 1) {
      throw new ConfigError(
        loc,
        `unexpected argument '${rest[kind === "backend" ? 0 : 1]}' after '${kind} ${name}'`,
      );
    }
    const ctx = this.ctx(kind as SectionKind, "bind", loc, proxy, newHa("", loc));
    addBinds(ctx, rest[0]!);
    this.warn(
      loc,
      `'${kind} ${name} ${rest[0]}' (an address on the ${kind} line) is deprecated since HAProxy 1.5, use '${kind} ${name}' + '${renderLine(["bind", rest[0]!])}' instead`,
    );
  }

  private ctx(section: SectionKind, keyword: string, loc: SourceLoc, proxy: ProxyDraft, ha: HaDraft): KwCtx {
    const hooks: AclHooks = {
      backendRef: (name, at) => proxy.backendRefs.push({ name, loc: at }),
      warn: (at, message) => this.warn(at, message),
    };
    const ctx: KwCtx = {
      loc,
      section,
      keyword,
      global: this.drafts.global,
      proxy,
      ha,
      host: this.host,
      hooks,
      warn: (message) => this.warn(loc, message),
      dispatch: (words) => this.run(section, words, loc, proxy, ha),
    };
    return ctx;
  }

  private run(
    section: SectionKind,
    words: readonly string[],
    loc: SourceLoc,
    proxy: ProxyDraft,
    ha: HaDraft,
  ): void {
    const { row, args, negated } = lookupKeyword(words, section, loc);
    row.parse(this.ctx(section, row.name, loc, proxy, ha), args, negated);
  }

  private line(section: SectionKind, line: RawLine, proxy: ProxyDraft, ha: HaDraft): void {
    try {
      this.run(section, line.words, line.loc, proxy, ha);
    } catch (err) {
      this.error(err);
    }
  }
}

/** Runs every section of every file, in order, into drafts. */
export function walk(files: readonly RawFile[], host: ConfigHost, out: Collector): Drafts {
  const w = new Walker(host, out);
  for (const f of files) for (const s of f.sections) w.section(s);
  return w.drafts;
}
