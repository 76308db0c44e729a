import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonDepthError, jsonDepthExceeds, parseJsonLimited } from '../../src/json/limited-parse.ts';

describe('parseJsonLimited', () => {
  it('parses JSON within the depth limit', () => {
    assert.deepEqual(parseJsonLimited('{"a":[1,{"b":2}]}', 3), { a: [1, { b: 2 }] });
  });

  it('refuses 100,000 nested arrays with JsonDepthError, without overflowing the stack', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    assert.throws(() => parseJsonLimited(deep), (e) => e instanceof JsonDepthError && /deeper than 32/.test(e.message));
  });

  it('counts only structure: brackets inside strings and escaped quotes do not count', () => {
    assert.equal(jsonDepthExceeds('{"a":"[[[[[\\"[[[["}', 1), false);
    assert.equal(jsonDepthExceeds('[[', 1), true);
    // More openings than the limit, side by side rather than nested: measured, not refused.
    assert.equal(jsonDepthExceeds(`[${'{},'.repeat(40)}[]]`, 2), false);
    assert.equal(jsonDepthExceeds('[{"a":[{}]}]', 4), false);
    assert.equal(jsonDepthExceeds('[{"a":[{}]}]', 3), true);
  });

  it('leaves syntax errors to JSON.parse', () => {
    assert.throws(() => parseJsonLimited('{"a":'), SyntaxError);
  });
});
