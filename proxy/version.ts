/** fulcrum's version, and the HAProxy version whose behaviour it follows (for -cc and stats). */
export const VERSION = "0.1.0";
export const HAPROXY_COMPAT_VERSION = "2.6.12";
