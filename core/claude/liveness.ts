/** Whether a claude process outlives the end of its stdout (then it can never report again). */
/**
 * After claude's stdout ended without a result: whether the process is still alive `graceMs`
 * later (then it can never report again and is to be stopped as `stdout_closed`).
 */
export async function outlivesStdout(
  status: Promise<Deno.CommandStatus>,
  graceMs: number,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    status.then(() => true, () => true),
    new Promise<false>((r) => (timer = setTimeout(() => r(false), graceMs))),
  ]).finally(() => clearTimeout(timer));
  return !exited;
}
