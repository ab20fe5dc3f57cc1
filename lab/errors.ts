/** A lab command that failed with the last log lines of the node that explains why. */
import { FulcrumError } from "../proxy/errors.js";

export class LabError extends FulcrumError {
  /** Lines printed before the one-line message (a node's last log lines), or "". */
  readonly details: string;

  constructor(message: string, details = "") {
    super("FUL_RUNTIME", message);
    this.name = "LabError";
    this.details = details;
  }
}
