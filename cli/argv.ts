/**
 * HAProxy spells some flags as several letters after one dash (`-db`, `-sf`, `-st`, `-dM`,
 * `-cc`); argument parsers read `-db` as `-d -b`. This turns them into long options before
 * commander sees them. Only the proxy subcommand's words are rewritten.
 */
const MULTI_LETTER = new Map<string, string>([
  ["-db", "--db"],
  ["-sf", "--sf"],
  ["-st", "--st"],
  ["-cc", "--cc"],
  ["-dM", "--dM"],
]);

export function normaliseHaproxyArgs(argv: readonly string[]): string[] {
  if (argv[0] !== "proxy") return [...argv];
  const out = ["proxy"];
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === "--") {
      out.push(...argv.slice(i));
      break;
    }
    out.push(MULTI_LETTER.get(word) ?? word);
  }
  return out;
}
