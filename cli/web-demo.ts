import { FulcrumError } from "../proxy/errors.js";

export async function runWebDemoCommand(_opts: Record<string, unknown>): Promise<void> {
  throw new FulcrumError("FUL_RUNTIME", "`fulcrum web-demo` is not available in this build yet");
}
