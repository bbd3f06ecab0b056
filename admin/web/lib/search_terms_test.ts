import assert from "node:assert/strict";
import { highlightTerms, matchRanges } from "./search_terms.ts";

Deno.test("highlightTerms() keeps words, phrases and prefixes and drops exclusions", () => {
  assert.deepEqual(highlightTerms('Foo "Bär baz" qu* -skip -"no way" src/a.ts "open'), [
    { tokens: ["foo"], prefix: false },
    { tokens: ["bar", "baz"], prefix: false },
    { tokens: ["qu"], prefix: true },
    { tokens: ["src", "a", "ts"], prefix: false },
    { tokens: ["open"], prefix: false },
  ]);
  assert.deepEqual(highlightTerms("*** -"), []);
});

Deno.test("matchRanges() finds whole words, phrases as one range, prefixes, ignoring case and accents", () => {
  const text = "The Café quickly served quiche; café au lait";
  assert.deepEqual(matchRanges(text, highlightTerms('cafe "au lait" qui*')), [
    [4, 8],
    [9, 16],
    [24, 30],
    [32, 36],
    [37, 44],
  ]);
  assert.deepEqual(matchRanges("category", highlightTerms("cat")), []);
});
