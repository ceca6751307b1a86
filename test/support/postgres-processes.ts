import { execFileSync } from "node:child_process";

/** Command lines of running postgres server processes whose data directory is `clusterDir`. */
export function postmastersFor(clusterDir: string): string[] {
  const lines = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" }).split("\n");
  return lines.filter((line) => /\bpostgres\b/.test(line) && line.includes(`-D ${clusterDir}`));
}
