/** Protocol limits shared by the server, the contract and `system.info`. */

/** Request bodies above this are answered 413 before parsing. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Largest accepted batch. */
export const MAX_BATCH = 100;
/** Deepest accepted JSON nesting (objects and arrays, the envelope included). */
export const MAX_DEPTH = 32;
/** Longest accepted prompt, in UTF-16 code units (`string.length`). */
export const MAX_PROMPT_CHARS = 200_000;
/** Most messages `agent.messages` returns at once. */
export const MAX_MESSAGES_PAGE = 1000;
/** `agent.messages` stops adding messages once the page holds this many bytes of raw lines. */
export const MAX_MESSAGES_PAGE_BYTES = 4 * 1024 * 1024;
/** Most working directories `agent.cwds` returns. */
export const MAX_KNOWN_CWDS = 500;
/** Most agents `agent.list` returns at once. */
export const MAX_LIST_PAGE = 500;
/** Release version of the service and its contract. */
export const VERSION = "0.1.0";
