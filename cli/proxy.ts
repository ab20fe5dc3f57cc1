import { FulcrumError } from "../proxy/errors.js";

export async function runProxyCommand(_opts: Record<string, unknown>): Promise<void> {
  throw new FulcrumError("FUL_RUNTIME", "`fulcrum proxy` is not available in this build yet");
}
