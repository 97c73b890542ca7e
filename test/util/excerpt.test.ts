/** Quotes of user input in messages: at most EXCERPT_CHARS characters, then an ellipsis and the length. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXCERPT_CHARS, quoteExcerpt, shortened } from '../../src/util/excerpt.js';

test('a short text is quoted whole', () => {
  assert.equal(quoteExcerpt('196 '), "'196 '");
  assert.equal(quoteExcerpt('x'.repeat(EXCERPT_CHARS)), `'${'x'.repeat(EXCERPT_CHARS)}'`);
});

test('a long text is cut after EXCERPT_CHARS characters, with its length', () => {
  const line = 'y'.repeat(60_000_000);
  const q = quoteExcerpt(line);
  assert.equal(q, `'${'y'.repeat(EXCERPT_CHARS)}…' (60000000 characters)`);
  assert.equal(quoteExcerpt('abcdef', 3), "'abc…' (6 characters)");
});

test('control characters are shown escaped, tabs as they are', () => {
  assert.equal(quoteExcerpt('a\u0000b\u001b[31m\tc\n'), "'a\\u0000b\\u001b[31m\tc\\u000a'");
});

test('shortened: bare when short, cut like quoteExcerpt when long', () => {
  assert.equal(shortened('user_id, item_id'), 'user_id, item_id');
  assert.equal(shortened('abcdef', 3), "'abc…' (6 characters)");
});
