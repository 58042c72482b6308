// Quoting for the few shell strings we must build (mmdebstrap hooks run through `sh -c`).
const SAFE = /^[\w@%+=:,./-]+$/;

export function shellQuote(word: string): string {
  if (word !== "" && SAFE.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
