export { HAPROXY_COMPAT_VERSION, VERSION } from "../proxy/version.js";
