/**
 * Imports one session file into a fresh store in its own process and prints
 * `{"lines": n, "malformed": n, "hwm": peak RSS bytes}` (VmHWM): the memory test's subject, apart
 * from whatever else the test runner holds.
 * Usage: deno run -A import_rss.ts <db path> <session file>
 */
import { importSessions } from "../mod.ts";
import { openStore } from "../../store/mod.ts";

const [dbPath, file] = Deno.args;
const store = openStore(dbPath!);
try {
  const report = await importSessions({ store, path: file!, configDir: "/nonexistent" });
  const status = await Deno.readTextFile("/proc/self/status");
  const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]) * 1024;
  console.log(JSON.stringify({ lines: report.lines, malformed: report.malformed, hwm }));
} finally {
  store.close();
}
