/**
 * Internal: whether the line writer's thread holds the database's write lock, in memory both
 * threads share. SQLite's busy handler cannot tell whose lock it waits for: the writer's own
 * commit (bounded: one batch, and no next batch can start while the event loop is blocked, since
 * the event loop hands batches over) or another process's (any length). With this cell the event
 * loop waits out its own writer's commit, woken the moment it ends rather than at SQLite's next
 * poll (1, 2, 5 … 100 ms apart), and keeps the short write wait for a lock that is not ours.
 */
export class WriteLockCell {
  /** 0: free (or held by someone else), 1: the writer's thread holds it. */
  readonly cell: Int32Array<SharedArrayBuffer>;

  /** A new cell, or a view of the one another thread created (its `cell.buffer`). */
  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.cell = new Int32Array(buffer);
  }

  /** The writer's thread took the lock (its BEGIN IMMEDIATE returned). */
  held(): void {
    Atomics.store(this.cell, 0, 1);
  }

  /** The writer's transaction ended (COMMIT or ROLLBACK returned): wakes whoever waits. */
  released(): void {
    Atomics.store(this.cell, 0, 0);
    Atomics.notify(this.cell, 0);
  }

  /** Whether the writer's thread holds the lock now. */
  isHeld(): boolean {
    return Atomics.load(this.cell, 0) === 1;
  }

  /**
   * Blocks this thread while the writer's thread holds the lock, at most `ms`; returns whether it
   * was released.
   */
  waitReleased(ms: number): boolean {
    const deadline = performance.now() + ms;
    while (Atomics.load(this.cell, 0) === 1) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.cell, 0, 1, left);
    }
    return true;
  }
}
