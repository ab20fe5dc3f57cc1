import { FulcrumError } from "../proxy/errors.js";

export async function runBenchCommand(_opts: Record<string, unknown>): Promise<void> {
  throw new FulcrumError("FUL_RUNTIME", "`fulcrum bench` is not available in this build yet");
}
