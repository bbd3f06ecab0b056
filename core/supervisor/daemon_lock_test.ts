import { ok as assert, throws } from "node:assert/strict";
import { acquireDaemonLock, DaemonLockedError } from "./daemon_lock.ts";

Deno.test("acquireDaemonLock() lets one holder in and names it to the next", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/daemon.lock`;
  // The holder is another process: flock is per open file, so this is what a second daemon sees.
  const holder = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { acquireDaemonLock } from "${new URL("./daemon_lock.ts", import.meta.url).href}";
       acquireDaemonLock(${
        JSON.stringify(path)
      }); console.log("locked"); setInterval(() => {}, 1000);`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = holder.stdout.getReader();
  await reader.read();
  throws(
    () => acquireDaemonLock(path),
    (e: unknown) =>
      e instanceof DaemonLockedError && e.holderPid === holder.pid &&
      e.message.includes(`pid ${holder.pid}`),
  );
  holder.kill("SIGKILL");
  await holder.status;
  reader.releaseLock();
  await holder.stdout.cancel();
  // A crashed holder leaves no stale lock.
  const lock = acquireDaemonLock(path);
  assert(Deno.readTextFileSync(path).trim() === String(Deno.pid));
  lock.release();
});
