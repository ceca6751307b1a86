/**
 * What a tokenizer folder (or CLIP's own BPE file) defines, once read and checked: everything a
 * {@link ClipTokenizer} needs, with special tokens already resolved to ids of this vocabulary.
 */
import { UserFacingError } from "../../errors.ts";
import type { Merge } from "./bpe.ts";

/** CLIP's begin-of-text token; its id comes from the vocabulary (49406 in CLIP's own). */
export const START_OF_TEXT = "<|startoftext|>";
/** CLIP's end-of-text token, also its unknown token and SD 1.x's pad token (49407 in CLIP's own). */
export const END_OF_TEXT = "<|endoftext|>";
/** CLIP's context length: the text encoder's 77 positions. */
export const CLIP_CONTEXT_LENGTH = 77;

export interface TokenizerDefinition {
  /** Token → id, special tokens included. */
  readonly vocab: ReadonlyMap<string, number>;
  /** Merge rules, highest priority first. */
  readonly merges: readonly Merge[];
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  /** The folder's pad_token: `<|endoftext|>` for SD 1.x, `!` (id 0) for SD 2.x. */
  readonly padTokenId: number;
  /** Id given to a BPE symbol the vocabulary lacks; undefined makes such a symbol an error. */
  readonly unkTokenId: number | undefined;
  /** Length `encode` pads and truncates to by default. */
  readonly modelMaxLength: number;
}

/** Tokenizer files that are missing or invalid, all of them in one error. */
export class TokenizerFilesError extends UserFacingError {
  override readonly name = "TokenizerFilesError";

  /**
   * @param source the folder or file that was being loaded
   * @param problems one line per missing or invalid file, each naming the file
   */
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`Cannot load a CLIP tokenizer from ${source}:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
  }
}
