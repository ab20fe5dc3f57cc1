/**
 * Whether a response is cacheable by HAProxy 2.6's rules, which decide if `cookie ... nocache`
 * adds `Cache-Control: private` next to an inserted cookie. Recorded against HAProxy with one
 * response per case:
 * - request method GET, HEAD, OPTIONS or TRACE (POST, PUT, DELETE, PATCH and unknown ones never);
 * - status 200, 203, 204, 206, 300, 301, 404, 405, 410, 414 or 501;
 * - some freshness or validator: a Cache-Control `max-age`/`s-maxage` (any value but 0),
 *   `Expires` (any value), `Last-Modified` or `ETag` (`public` alone is not enough);
 * - and nothing that forbids caching: Cache-Control `no-cache`, `no-store`, `private`,
 *   `max-age=0`, `s-maxage=0` (case-insensitive, any header, any position), or
 *   `Pragma: no-cache`. `no-cache="set-cookie"`, `Vary` and the server's own Set-Cookie do not
 *   change anything. Request headers do not matter.
 */

const METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
const STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501]);
const FORBID: ReadonlySet<string> = new Set(["no-cache", "no-store", "private", "max-age=0", "s-maxage=0"]);

/** Response headers as name (lowercase) -> values, one per header line. */
export type HeaderLookup = (lowercaseName: string) => readonly string[];

export function isCacheable(method: string, status: number, header: HeaderLookup): boolean {
  if (!METHODS.has(method) || !STATUSES.has(status)) return false;
  for (const v of header("pragma")) if (v.trim().toLowerCase() === "no-cache") return false;
  let fresh = false;
  for (const line of header("cache-control")) {
    for (const raw of line.split(",")) {
      const d = raw.trim().toLowerCase();
      if (FORBID.has(d)) return false;
      if (d.startsWith("max-age") || d.startsWith("s-maxage")) fresh = true;
    }
  }
  if (fresh) return true;
  return header("expires").length > 0 || header("last-modified").length > 0 || header("etag").length > 0;
}
