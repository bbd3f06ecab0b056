/**
 * The SQL that stores a line and its event. Kept free of imports: the line writer's worker
 * thread loads it, and a worker may read only the modules the daemon's permissions name.
 */

/** Insert one line; parameters: agent_key, seq, ts, type, subtype, byte_length, parse_error, eof_no_newline, raw. */
export const INSERT_MESSAGE = `INSERT INTO messages
  (agent_key, seq, ts, type, subtype, byte_length, parse_error, eof_no_newline, raw)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Insert one event; parameters: ts, kind, agent_key, seq. */
export const INSERT_EVENT = "INSERT INTO events (ts, kind, agent_key, seq) VALUES (?, ?, ?, ?)";
