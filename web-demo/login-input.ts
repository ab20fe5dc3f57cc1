/**
 * What a POST /login must carry: a user name (shown on pages, so bounded and free of control
 * characters) and a non-empty password (any value: this is a demo, but the field is required).
 * Pure: the body parsers already turned the form or JSON into an object.
 */

export const USER_MAX_LENGTH = 64;

export type LoginInput = { ok: true; user: string } | { ok: false; problem: string; user?: string };

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Each rule in order; the first that fails names the problem. */
const RULES: ReadonlyArray<readonly [(user: unknown, password: unknown) => boolean, string]> = [
  [(u) => typeof u === "string" && u.trim() !== "", "the user name is required"],
  [
    (u) => String(u).trim().length <= USER_MAX_LENGTH,
    `the user name is longer than ${USER_MAX_LENGTH} characters`,
  ],
  [(u) => !CONTROL.test(String(u)), "the user name contains control characters"],
  [(_u, p) => typeof p === "string" && p !== "", "the password is required (any non-empty value)"],
];

export function parseLoginInput(body: unknown): LoginInput {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return {
      ok: false,
      problem: "send user and password as a form (application/x-www-form-urlencoded) or JSON",
    };
  }
  const { user, password } = body as Record<string, unknown>;
  for (const [check, problem] of RULES) {
    if (!check(user, password)) {
      return typeof user === "string"
        ? { ok: false, problem, user: user.slice(0, USER_MAX_LENGTH) }
        : { ok: false, problem };
    }
  }
  return { ok: true, user: (user as string).trim() };
}
