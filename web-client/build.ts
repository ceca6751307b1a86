/**
 * `npm run build`: builds the web client into web-client/dist/, as `atelier serve` does on start
 * when that build is missing or stale (src/http/web-client-build.ts).
 */
import { buildWebClient } from "../src/http/web-client-build.ts";
import { createLogger } from "../src/log.ts";

await buildWebClient(createLogger("info"));
