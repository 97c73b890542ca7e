/**
 * Short quotes of user input for error messages: an offending line or field is shown up to a
 * fixed number of characters, so that a 60 MB line or a binary file is never echoed whole.
 */

/** How many characters of an offending line or field a message quotes. */
export const EXCERPT_CHARS = 100;

/**
 * `text` in single quotes when it is at most `max` characters long; otherwise its first `max`
 * characters, an ellipsis and the full length: `'abc…' (60000000 characters)`. Control
 * characters (NUL, escape sequences) are shown as \uXXXX so that they cannot garble a terminal.
 */
export function quoteExcerpt(text: string, max = EXCERPT_CHARS): string {
  const cut = text.length > max;
  const shown = visible(cut ? text.slice(0, max) : text);
  return cut ? `'${shown}…' (${text.length} characters)` : `'${shown}'`;
}

/** `text` with C0 control characters other than tab written as \uXXXX. */
function visible(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    out += (c < 32 && c !== 9) || c === 127 ? `\\u${c.toString(16).padStart(4, '0')}` : ch;
  }
  return out;
}

/**
 * `text` as it is when at most `max` characters long (no quotes added); otherwise cut like
 * {@link quoteExcerpt}. For values a message already shows bare (a list of names, a number).
 */
export function shortened(text: string, max = EXCERPT_CHARS): string {
  return text.length <= max ? text : quoteExcerpt(text, max);
}
