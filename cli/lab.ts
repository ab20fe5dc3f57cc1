import { FulcrumError } from "../proxy/errors.js";

export async function runLabCommand(_words: string[]): Promise<void> {
  throw new FulcrumError("FUL_RUNTIME", "`fulcrum lab` is not available in this build yet");
}
