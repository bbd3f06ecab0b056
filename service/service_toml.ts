/**
 * `service.toml`, the file lab reads for each binary: one checked reader shared by the server, the
 * admin and the CLI, plus the `--info` renderer they all print with.
 * @module
 */
import { parseToml, stringifyToml, type TomlTable } from "./toml.ts";

export interface ServiceBinary {
  name: string;
  kind: string;
  sockets: string[];
  description: string;
  /** lab starts it under hero_proc unless false (the CLI). */
  supervised: boolean;
}

export interface ServiceEnv {
  name: string;
  default: string;
  description: string;
}

export interface ServiceToml {
  name: string;
  description: string;
  category: string;
  binaries: ServiceBinary[];
  env: ServiceEnv[];
  health: { socket: string; path: string };
}

function str(table: TomlTable, key: string, where: string): string {
  const value = table[key];
  if (typeof value !== "string") {
    throw new TypeError(`Cannot read service.toml: ${where}.${key} must be a string`);
  }
  return value;
}

function tables(table: TomlTable, key: string): TomlTable[] {
  const value = table[key];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "object" && !Array.isArray(v))) {
    throw new TypeError(`Cannot read service.toml: [[${key}]] is missing`);
  }
  return value as TomlTable[];
}

/** Parses and checks a service.toml. */
export function readServiceToml(text: string): ServiceToml {
  const t = parseToml(text);
  const health = t.health;
  if (typeof health !== "object" || health === null || Array.isArray(health)) {
    throw new TypeError("Cannot read service.toml: [health] is missing");
  }
  const categories = ["core", "storage", "ai", "network", "ui", "tool"];
  const category = str(t, "category", "top level");
  if (!categories.includes(category)) {
    throw new TypeError(
      `Cannot read service.toml: category "${category}" is not one of ${categories.join(", ")}`,
    );
  }
  return {
    name: str(t, "name", "top level"),
    description: str(t, "description", "top level"),
    category,
    binaries: tables(t, "binaries").map((b, i) => {
      const kind = str(b, "kind", `binaries[${i}]`);
      if (!["server", "admin", "web", "cli", "cmdline"].includes(kind)) {
        throw new TypeError(`Cannot read service.toml: binaries[${i}].kind "${kind}" is unknown`);
      }
      const sockets = b.sockets ?? [];
      if (!Array.isArray(sockets) || !sockets.every((s) => typeof s === "string")) {
        throw new TypeError(`Cannot read service.toml: binaries[${i}].sockets must be strings`);
      }
      return {
        name: str(b, "name", `binaries[${i}]`),
        kind,
        sockets: sockets as string[],
        description: str(b, "description", `binaries[${i}]`),
        supervised: b.supervised !== false,
      };
    }),
    env: tables(t, "env").map((e, i) => ({
      name: str(e, "name", `env[${i}]`),
      default: str(e, "default", `env[${i}]`),
      description: str(e, "description", `env[${i}]`),
    })),
    health: {
      socket: str(health as TomlTable, "socket", "health"),
      path: str(health as TomlTable, "path", "health"),
    },
  };
}

/** The `[[binaries]]` entry named `name`. */
export function serviceBinary(svc: ServiceToml, name: string): ServiceBinary {
  const bin = svc.binaries.find((b) => b.name === name);
  if (!bin) throw new TypeError(`Cannot read service.toml: no [[binaries]] named ${name}`);
  return bin;
}

/** The fields every binary's `--info` manifest starts with, in this order. */
export interface ManifestHead {
  name: string;
  binary: string;
  kind: string;
  version: string;
  description: string;
  service: string;
  category: string;
}

/** The head of `binary`'s manifest: the same for the server, the admin and the CLI. */
export function manifestHead(
  name: string,
  svc: ServiceToml,
  binary: ServiceBinary,
  version: string,
): ManifestHead {
  return {
    name,
    binary: binary.name,
    kind: binary.kind,
    version,
    description: binary.description,
    service: svc.name,
    category: svc.category,
  };
}

/** Where the service answers health checks, as `<socket>.sock:<path>`. */
export function healthLocation(svc: ServiceToml): string {
  return `${svc.health.socket}.sock:${svc.health.path}`;
}

/** `--info` output: TOML, or JSON with `--json`. */
export function renderManifest(manifest: object, format: "toml" | "json"): string {
  if (format === "json") return JSON.stringify(manifest, null, 2) + "\n";
  return stringifyToml(manifest as unknown as TomlTable);
}
