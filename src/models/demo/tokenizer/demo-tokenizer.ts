import { DEMO_BPE_MERGES } from "../presets.ts";
import { learnClipBpe, type ClipBpe } from "./clip-bpe.ts";
import { ENGLISH_WORDS } from "./english-words.ts";

let learned: ClipBpe | undefined;

/** The vocabulary every demo model shares (SD text encoder and CLIP), learned once per process. */
export function demoTokenizer(): ClipBpe {
  return (learned ??= learnClipBpe(ENGLISH_WORDS, DEMO_BPE_MERGES));
}
