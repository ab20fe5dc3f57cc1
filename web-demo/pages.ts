/**
 * Server-rendered pages: plain HTML forms that work without JavaScript, one small inline
 * stylesheet, every interpolated value escaped (the user name is user input). Pure.
 */

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}
main{max-width:34rem;margin:3rem auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin-top:0}
label{display:block;margin:.6rem 0 .2rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.4rem;font:inherit}
button{margin-top:1rem;padding:.4rem 1.2rem;font:inherit;cursor:pointer}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}
dt{color:#5a6172}dd{margin:0;font-weight:600}
.error{background:#fdecea;color:#8a1c12;padding:.6rem .8rem;border-radius:4px}
.down{border-left:6px solid #c62828}
footer{margin-top:1.5rem;color:#5a6172;font-size:.85rem}
code{background:#eef0f3;padding:0 .25rem;border-radius:3px}
`;

function layout(server: string, title: string, body: string, className = ""): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${escapeHtml(server)}</title>
<style>${STYLE}</style>
</head>
<body>
<main${className ? ` class="${className}"` : ""}>
${body}
<footer>served by <strong>${escapeHtml(server)}</strong> · fulcrum web-demo</footer>
</main>
</body>
</html>
`;
}

export function loginFormPage(server: string, opts: { problem?: string; user?: string } = {}): string {
  const problem = opts.problem ? `<p class="error" role="alert">${escapeHtml(opts.problem)}</p>\n` : "";
  return layout(
    server,
    "Log in",
    `<h1>Log in</h1>
${problem}<form method="post" action="/login">
<label for="user">User</label>
<input type="text" id="user" name="user" value="${escapeHtml(opts.user ?? "")}" required maxlength="64" autofocus>
<label for="password">Password (any)</label>
<input type="password" id="password" name="password" required>
<button type="submit">Log in</button>
</form>`,
  );
}

export interface LoggedInView {
  user: string;
  visits: number;
  sessionId: string;
}

export function loggedInPage(server: string, view: LoggedInView): string {
  return layout(
    server,
    `Hello ${view.user}`,
    `<h1>Hello, ${escapeHtml(view.user)}</h1>
<dl>
<dt>User</dt><dd id="user">${escapeHtml(view.user)}</dd>
<dt>Visits in this session</dt><dd id="visits">${escapeHtml(view.visits)}</dd>
<dt>Served by</dt><dd id="server">${escapeHtml(server)}</dd>
<dt>Session</dt><dd id="session"><code>${escapeHtml(view.sessionId)}…</code></dd>
</dl>
<form method="post" action="/logout"><button type="submit">Log out</button></form>`,
  );
}

export function storeDownPage(server: string): string {
  return layout(
    server,
    "Sessions unavailable",
    `<h1>Sessions are unavailable right now</h1>
<p>This server (<strong>${escapeHtml(server)}</strong>) keeps sessions in a shared Redis store, and it cannot reach it.
Nobody can log in or be recognised until Redis is back; this page will work again by itself then.</p>
<p>Try again in a few seconds.</p>`,
    "down",
  );
}

export function messagePage(server: string, title: string, text: string): string {
  return layout(
    server,
    title,
    `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(text)}</p>\n<p><a href="/login">Back to the login page</a></p>`,
  );
}
