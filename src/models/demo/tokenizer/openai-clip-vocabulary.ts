/**
 * CLIP's own byte-level BPE (openai/CLIP's bpe_simple_vocab_16e6.txt.gz, committed under
 * test/fixtures/clip-bpe/ with its licence) as a demo vocabulary: the 49,408 tokens real SD 1.x
 * tokenizer folders carry, so the full-size preset's token embedding has SD 1.5's exact shape and
 * its tokenizer/ folder is what a real export holds. Read with the same parser Atelier's tokenizer
 * uses for that file, so ids are openai/CLIP's.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { parseClipBpeText } from "../../../inference/tokenizer/tokenizer-file-formats.ts";
import type { ClipBpe } from "./clip-bpe.ts";

const CLIP_BPE_FILE = new URL("../../../../test/fixtures/clip-bpe/bpe_simple_vocab_16e6.txt.gz", import.meta.url);

let parsed: ClipBpe | undefined;

/** CLIP's vocabulary and merges ("left right" strings, the demo vocabularies' form), read once per process. */
export function openAiClipVocabulary(): ClipBpe {
  if (parsed) return parsed;
  const { vocab, merges } = parseClipBpeText(gunzipSync(readFileSync(CLIP_BPE_FILE)).toString("utf8"));
  parsed = { vocab, merges: merges.map(([left, right]) => `${left} ${right}`) };
  return parsed;
}
