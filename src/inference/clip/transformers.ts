/**
 * @huggingface/transformers, the one instance Atelier uses (its `env` is process-global and
 * transformers-environment.ts configures it). Loaded with require, i.e. its CommonJS build:
 * bin/atelier.js runs Atelier through tsx, and imported as an ES module under tsx's loader the
 * library's 1.3 MB bundle left each process (CLI, worker, server) 0.14 GB bigger — 0.25 GB peak
 * after the import against 0.11 GB through require, which tsx's ES module loader does not handle.
 */
import { createRequire } from "node:module";

export const transformers: typeof import("@huggingface/transformers") = createRequire(import.meta.url)("@huggingface/transformers");
