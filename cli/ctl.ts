import { FulcrumError } from "../proxy/errors.js";

export async function runCtlCommand(_socket: string, _words: string[]): Promise<void> {
  throw new FulcrumError("FUL_RUNTIME", "`fulcrum ctl` is not available in this build yet");
}
