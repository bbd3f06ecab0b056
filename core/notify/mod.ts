/**
 * Telling a person that an agent needs them: the attention rules and the webhook channel.
 * @module
 */
export * from "./attention.ts";
export * from "./webhook.ts";
