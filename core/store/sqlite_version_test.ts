import assert from "node:assert/strict";
import { checkSqliteVersion } from "./sqlite_version.ts";

Deno.test("checkSqliteVersion() refuses versions with the WAL-reset bug", () => {
  for (
    const v of ["3.7.0", "3.8.11.1", "3.44.5", "3.45.0", "3.49.2", "3.50.6", "3.51.0", "3.51.2"]
  ) {
    assert.throws(() => checkSqliteVersion(v), /Cannot use SQLite .*WAL-reset bug/, v);
  }
});

Deno.test("checkSqliteVersion() accepts fixed, backported and older-than-WAL versions", () => {
  for (
    const v of [
      "3.53.2",
      "3.51.3",
      "3.52.0",
      "3.44.6",
      "3.44.9",
      "3.50.7",
      "3.50.10",
      "3.6.23",
      "4.0.0",
    ]
  ) {
    assert.doesNotThrow(() => checkSqliteVersion(v), v);
  }
});

Deno.test("checkSqliteVersion() rejects strings that are not versions", () => {
  for (const v of ["", "3.51", "latest", "3.x.1"]) {
    assert.throws(() => checkSqliteVersion(v), TypeError, v);
  }
});
