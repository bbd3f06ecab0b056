/**
 * `<hero-agent-widget permission-mode="default">` in headless Chromium: the model's text shows as
 * it is written (before its line is stored, and gives way to the stored line), and the agent's
 * permission prompts show inline: Allow runs the tool, Deny does not, Allow for session passes
 * claude's suggestions; a prompt pending across a reload is shown again. An unknown mode is
 * refused by the element itself.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { fakePrompt, type FakeStep } from "@hero/core/testing";
import { waitFor } from "./testing/harness.ts";
import { chromiumAvailable, startWidgetStack, type WidgetStack } from "./testing/widget_stack.ts";

const W = (rest: string) => `#ask ${rest}`;

function textDelta(text: string): FakeStep {
  return {
    line: {
      type: "stream_event",
      event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } },
      session_id: "{{session_id}}",
      parent_tool_use_id: null,
      api_message_id: "msg_widget_1",
    },
  };
}

/** A step that waits until the test creates `path` (the agent's cwd is shared with its sandbox). */
function gate(path: string): FakeStep {
  return { spawnWait: `until [ -e '${path}' ]; do sleep 0.05; done` };
}

async function approvalCard(page: Page): Promise<string> {
  const card = page.locator(W(".approval")).first();
  await card.waitFor({ timeout: 20_000 });
  return (await card.getAttribute("data-approval"))!;
}

Deno.test({
  name: "widget in Chromium: live text and inline approvals (allow, deny, allow for session)",
  ignore: !chromiumAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using stack: WidgetStack = await startWidgetStack({
      HERO_ORCHESTRATOR_SESSION_IDLE_MS: "120000",
    });
    const client = stack.server.client;
    const books = `${stack.work}/books`;
    const page = await stack.open("/hero_books/admin/asking");

    // An unknown mode never reaches the server: the element says why and stays inert.
    await page.waitForSelector("#bogus[data-state=invalid]");
    assert.match(await page.locator("#bogus .invalid").innerText(), /permission-mode "yolo"/);

    const typing = `${books}/typing`;
    const stored = `${books}/stored`;
    const reloaded = `${books}/reloaded`;
    await page.waitForSelector("#ask[data-state=compose]");
    await page.click(W(".launcher"));
    await page.fill(
      W("textarea[name=prompt]"),
      fakePrompt({
        auto: true,
        steps: [
          gate(typing),
          textDelta("Writing as "),
          textDelta("it goes"),
          gate(stored),
          { text: "Stored answer line" },
          { ask: { tool: "Write", input: { file_path: `${books}/allowed.txt`, content: "yes" } } },
          gate(reloaded),
          {
            ask: {
              tool: "Write",
              input: { file_path: `${books}/denied.txt`, content: "no" },
              description: "Write the denied file",
              suggestions: [],
            },
          },
          { ask: { tool: "Bash", input: { command: "echo remembered" } } },
          { text: "All asked." },
        ],
      }),
    );
    await page.click(W(".run"));
    await page.waitForSelector("#ask[data-status=running]", { timeout: 20_000 });
    const agentId = await waitFor("the widget's agent", async () => {
      const { agents } = await client.agent.list({});
      return agents.find((a) => a.home_mcp === "hero_books")?.id;
    });
    const agent = await client.agent.get({ id: agentId });
    assert.equal(agent.permission_mode, "default", "the embedder's mode reached agent.create");

    // Text shows as it is written: no stored line holds it yet.
    await Deno.writeTextFile(typing, "");
    await page.locator(W(".live-text")).getByText("Writing as it goes").waitFor({
      timeout: 20_000,
    });
    const lines = await client.agent.messages({ id: agentId, after_seq: 0, limit: 500 });
    assert.ok(!lines.messages.some((m) => m.raw?.includes("Writing as it goes") === true));
    // The stored line takes its place.
    await Deno.writeTextFile(stored, "");
    await page.locator(W(".transcript .item.text")).getByText("Stored answer line").waitFor({
      timeout: 20_000,
    });
    await page.locator(W(".live-text")).waitFor({ state: "hidden" });

    // 1. Allow: the tool runs.
    const first = await approvalCard(page);
    assert.match(
      await page.locator(W(".approval")).innerText(),
      /Allow Write\?[\s\S]*allowed\.txt/,
    );
    assert.equal(await page.locator(W(".approval button")).count(), 3, "Allow, session, Deny");
    assert.equal(await page.locator(W(".working .status")).innerText(), "Needs you");
    await page.click(W(`button[data-approval="${first}"][data-decision=allow]`));
    await waitFor("the allowed file", async () => {
      try {
        return (await Deno.readTextFile(`${books}/allowed.txt`)) === "yes";
      } catch {
        return false;
      }
    }, 20_000);
    await page.locator(W(`.approval[data-approval="${first}"]`)).waitFor({ state: "detached" });
    await page.locator(W(".working .status")).getByText("Working").waitFor();
    const [allowed] = (await client.approval.list({ agent_id: agentId })).approvals
      .filter((a) => a.id === first);
    assert.equal(allowed?.state, "allowed");
    assert.equal(allowed?.answered_by, "widget");
    assert.equal(allowed?.remember, null);

    // 2. A prompt pending across a reload is shown again; Deny: the tool does not run.
    await Deno.writeTextFile(reloaded, "");
    const second = await approvalCard(page);
    await page.reload();
    await page.waitForSelector("#ask[data-status=running]", { timeout: 20_000 });
    if (await page.locator(W(".panel")).isHidden()) await page.click(W(".launcher"));
    assert.equal(await approvalCard(page), second);
    const card = await page.locator(W(".approval")).innerText();
    assert.match(card, /Write the denied file/);
    assert.doesNotMatch(card, /Allow for session/, "no suggestions, no session button");
    await page.click(W(`button[data-approval="${second}"][data-decision=deny]`));

    // 3. Allow for session: claude's suggestions are kept for the run.
    const third = await waitFor("the third prompt", async () => {
      const id = await approvalCard(page);
      return id !== second ? id : undefined;
    });
    assert.match(
      await page.locator(W(".approval")).innerText(),
      /Allow Bash\?[\s\S]*echo remembered/,
    );
    await page.click(W(`button[data-approval="${third}"][data-decision=session]`));
    await page.locator(W(".transcript .item.text")).getByText("All asked.").waitFor({
      timeout: 20_000,
    });
    await page.waitForSelector("#ask[data-status=awaiting_review]", { timeout: 20_000 });
    assert.equal(await page.locator(W(".approval")).count(), 0);

    const rows = new Map(
      (await client.approval.list({ agent_id: agentId })).approvals.map((a) => [a.id, a]),
    );
    assert.equal(rows.get(second)?.state, "denied");
    assert.equal(rows.get(second)?.answered_by, "widget");
    assert.equal(rows.get(third)?.state, "allowed");
    assert.equal(rows.get(third)?.remember, "session");
    await assert.rejects(Deno.stat(`${books}/denied.txt`), Deno.errors.NotFound);
    assert.deepEqual(stack.errors, []);
  },
});
