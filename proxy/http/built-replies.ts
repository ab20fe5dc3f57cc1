/**
 * The replies an `http-request redirect` or `http-request return` rule answers with, in
 * HAProxy 2.6's shape (measured side by side with haproxy 2.6.12):
 *
 *     HTTP/1.1 302 Found                      HTTP/1.1 503 Service Unavailable
 *     content-length: 0                       x-a: b                 (hdr lines first)
 *     location: /new                          content-length: 2      (none for a 204)
 *     cache-control: no-cache  (302/303/307)  content-type: application/json
 *     set-cookie: FOO=bar; path=/;                                   (then the payload)
 *
 * A `location` redirect and every `return` are fixed by the configuration and made once; a
 * `prefix` or `scheme` redirect takes the request's path (and Host), so only those are
 * built per request.
 */
import type { HttpRedirectRule, HttpReturnRule } from "../config/model.js";
import type { RequestInfo } from "./plan.js";
import { type BuiltReply, cachedReply, type ReplyOptions, renderReply, statusReason } from "./responses.js";

export type ReplyRenderer = (o: ReplyOptions) => Buffer;

const REDIRECT_REASONS: Readonly<Record<HttpRedirectRule["code"], string>> = {
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
};

/** The path part of a request URI (origin form as is; absolute form after its authority). */
function pathOf(uri: string): string {
  if (uri.startsWith("/")) return uri;
  const scheme = uri.indexOf("://");
  if (scheme < 0) return "";
  const slash = uri.indexOf("/", scheme + 3);
  return slash < 0 ? "" : uri.slice(slash);
}

function redirectReply(rule: HttpRedirectRule, location: string): BuiltReply {
  const headers: [string, string][] = [
    ["content-length", "0"],
    ["location", location],
  ];
  // HAProxy marks the temporary ones uncacheable.
  if (rule.code === 302 || rule.code === 303 || rule.code === 307)
    headers.push(["cache-control", "no-cache"]);
  if (rule.cookie !== undefined) {
    headers.push(["set-cookie", `${rule.cookie.text}; path=/;${rule.cookie.clear ? " Max-Age=0;" : ""}`]);
  }
  return { status: rule.code, reason: REDIRECT_REASONS[rule.code], headers, body: Buffer.alloc(0) };
}

/** What a redirect rule answers to a request, prepared once per rule. */
export function compileRedirect(rule: HttpRedirectRule): (req: RequestInfo) => ReplyRenderer {
  if (rule.kind === "location") {
    const fixed = cachedReply(redirectReply(rule, rule.target));
    return () => fixed;
  }
  // `prefix /` adds no prefix (HAProxy's special case), so the path is not doubled.
  const prefix = rule.kind === "prefix" ? (rule.target === "/" ? "" : rule.target) : `${rule.target}://`;
  const withHost = rule.kind === "scheme";
  return (req) => {
    let path = pathOf(req.head.uri);
    if (rule.dropQuery) {
      const q = path.indexOf("?");
      if (q >= 0) path = path.slice(0, q);
    }
    if (rule.appendSlash && !path.endsWith("/")) path += "/";
    let host = "";
    if (withHost) {
      const at = req.head.headers.names.indexOf("host");
      if (at >= 0) host = req.head.headers.values[at]!;
    }
    const reply = redirectReply(rule, `${prefix}${host}${path}`);
    return (o) => renderReply(reply, o);
  };
}

/** What a return rule answers, made once per rule. */
export function compileReturn(rule: HttpReturnRule): ReplyRenderer {
  const headers: [string, string][] = rule.headers.map(([n, v]) => [n.toLowerCase(), v]);
  if (rule.status !== 204) headers.push(["content-length", String(rule.body.length)]);
  if (rule.contentType !== undefined) headers.push(["content-type", rule.contentType]);
  return cachedReply({ status: rule.status, reason: statusReason(rule.status), headers, body: rule.body });
}
