/** The shadows' text checks. */
import assert from "node:assert/strict";
import { cleanCommitMessage, cleanTitle, fallbackCommitMessage, fallbackTitle } from "./text.ts";

Deno.test("shadow text: fallback title, title and commit message checks", () => {
  assert.equal(
    fallbackTitle("  fix\tthe\nlogin   page redirect loop now please "),
    "fix the login page redirect loop",
  );
  assert.equal(fallbackTitle("\u202e\u0000"), "untitled");
  assert.equal(fallbackTitle("x".repeat(100)).length, 60);
  assert.equal(cleanTitle('"Fix Login Redirect."'), "Fix Login Redirect");
  assert.equal(cleanTitle("Title: **Billing Module Rename**\n\nextra"), "Billing Module Rename");
  assert.equal(cleanTitle("one"), null);
  assert.equal(cleanTitle("this answer has far too many words to be a title"), null);
  assert.equal(cleanTitle(""), null);
  assert.equal(
    cleanCommitMessage("```\nfeat(api): add usage endpoint\n\nDetails.\n```"),
    "feat(api): add usage endpoint\n\nDetails.",
  );
  assert.equal(cleanCommitMessage("fix!: drop the old flag"), "fix!: drop the old flag");
  assert.equal(
    cleanCommitMessage("Failed to authenticate. API Error: 403 unknown proxy token"),
    null,
  );
  assert.equal(cleanCommitMessage("Added some files"), null);
  assert.match(fallbackCommitMessage("my agent", ["a", "b"]), /^chore: my agent\n\nFiles: a, b$/);
  assert.ok(cleanCommitMessage(fallbackCommitMessage(null, ["x"])));
});
