/** Deep freeze of the model: objects and arrays frozen, Maps made read-only at run time too. */

function refuse(): never {
  throw new TypeError("the configuration model is immutable");
}

export function deepFreeze<T>(value: T): T {
  const seen = new Set<unknown>();
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== "object" || seen.has(v)) return;
    seen.add(v);
    // Buffers (errorfile contents) cannot be frozen; nothing hands them out for writing.
    if (ArrayBuffer.isView(v)) return;
    if (v instanceof Map) {
      for (const [k, x] of v) {
        visit(k);
        visit(x);
      }
      for (const m of ["set", "delete", "clear"]) Object.defineProperty(v, m, { value: refuse });
      Object.freeze(v);
      return;
    }
    for (const x of Object.values(v)) visit(x);
    Object.freeze(v);
  };
  visit(value);
  return value;
}
