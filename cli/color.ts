/**
 * Terminal colours: only when the stream is a TTY and `NO_COLOR` is unset (no-color.org).
 * @module
 */

/** Colour helpers; every function returns its input unchanged when colour is off. */
export interface Colors {
  enabled: boolean;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

/** Whether to colour a stream: a terminal, and `NO_COLOR` absent or empty. */
export function colorEnabled(isTerminal: boolean, noColor: string | undefined): boolean {
  return isTerminal && (noColor === undefined || noColor === "");
}

function sgr(enabled: boolean, open: number, close: number): (text: string) => string {
  return enabled ? (text) => `\x1b[${open}m${text}\x1b[${close}m` : (text) => text;
}

/** Colour helpers for `enabled`. */
export function createColors(enabled: boolean): Colors {
  return {
    enabled,
    red: sgr(enabled, 31, 39),
    green: sgr(enabled, 32, 39),
    yellow: sgr(enabled, 33, 39),
    dim: sgr(enabled, 2, 22),
    bold: sgr(enabled, 1, 22),
  };
}
