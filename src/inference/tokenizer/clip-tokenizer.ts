/**
 * CLIP's byte-level BPE tokenizer, giving the ids openai/CLIP's `SimpleTokenizer` gives (apart from
 * ftfy's repairs, see text-cleanup.ts), padded and truncated the way Stable Diffusion pipelines
 * call it: `tokenizer(prompt, padding="max_length", max_length=77, truncation=True)`.
 */
import { BytePairEncoder } from "./bpe.ts";
import { toByteSymbols } from "./byte-level.ts";
import { readClipBpeFile, readTokenizerFiles, readTokenizerFolder, type TokenizerFilePaths } from "./load-tokenizer.ts";
import { cleanPromptText } from "./text-cleanup.ts";
import { END_OF_TEXT, START_OF_TEXT, type TokenizerDefinition } from "./tokenizer-definition.ts";

/**
 * openai/CLIP's pre-tokenizer: the two special tokens, English contractions, letter runs, single
 * digits, and runs of anything else that is not whitespace. Python's \s is Unicode White_Space
 * (JavaScript's \s would add U+FEFF and miss U+0085).
 */
const PRE_TOKEN =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\p{White_Space}\p{L}\p{N}]+/giu;

/** Options of {@link ClipTokenizer.encode}. */
export interface EncodeOptions {
  /**
   * Length of the result: BOS, at most `maxLength - 2` tokens, EOS, then pad ids. A longer text
   * keeps its first `maxLength - 2` tokens (EOS is always last), as truncation=True does.
   * @default the tokenizer's modelMaxLength (77 for CLIP)
   */
  maxLength?: number;
}

export class ClipTokenizer {
  /** Id of `<|startoftext|>` in this vocabulary (49406 in CLIP's). */
  readonly bosTokenId: number;
  /** Id of `<|endoftext|>` in this vocabulary (49407 in CLIP's). */
  readonly eosTokenId: number;
  /** The folder's pad_token id: 49407 for SD 1.x, 0 (`!`) for SD 2.x. */
  readonly padTokenId: number;
  /** tokenizer_config.json's model_max_length when it is a sane length, else 77. */
  readonly modelMaxLength: number;
  readonly #vocab: ReadonlyMap<string, number>;
  readonly #unkTokenId: number | undefined;
  readonly #bpe: BytePairEncoder;

  constructor(definition: TokenizerDefinition) {
    this.bosTokenId = definition.bosTokenId;
    this.eosTokenId = definition.eosTokenId;
    this.padTokenId = definition.padTokenId;
    this.modelMaxLength = definition.modelMaxLength;
    this.#vocab = definition.vocab;
    this.#unkTokenId = definition.unkTokenId;
    this.#bpe = new BytePairEncoder(definition.merges);
  }

  /** A tokenizer folder: tokenizer.json, or vocab.json + merges.txt (see readTokenizerFolder). */
  static async fromFolder(dir: string): Promise<ClipTokenizer> {
    return new ClipTokenizer(await readTokenizerFolder(dir));
  }

  /** Tokenizer files named one by one. */
  static async fromFiles(paths: TokenizerFilePaths): Promise<ClipTokenizer> {
    return new ClipTokenizer(await readTokenizerFiles(paths));
  }

  /** openai/CLIP's bpe_simple_vocab_16e6.txt.gz, vocabulary built as SimpleTokenizer builds it; pads with `<|endoftext|>`. */
  static async fromClipBpeFile(gzPath: string): Promise<ClipTokenizer> {
    return new ClipTokenizer(await readClipBpeFile(gzPath));
  }

  /** The ids of `text`, without BOS, EOS or padding, however many there are. */
  tokenize(text: string): number[] {
    const ids: number[] = [];
    for (const [piece] of cleanPromptText(text).matchAll(PRE_TOKEN)) {
      if (piece === START_OF_TEXT) ids.push(this.bosTokenId);
      else if (piece === END_OF_TEXT) ids.push(this.eosTokenId);
      else for (const symbol of this.#bpe.encode(toByteSymbols(piece))) ids.push(this.#idOf(symbol));
    }
    return ids;
  }

  /** BOS, the tokens of `text`, EOS, padded (or truncated) to `maxLength` ids. */
  encode(text: string, options: EncodeOptions = {}): Int32Array {
    const maxLength = options.maxLength ?? this.modelMaxLength;
    if (!Number.isSafeInteger(maxLength) || maxLength < 2) {
      throw new RangeError(`maxLength must be an integer of at least 2 (room for BOS and EOS), got ${maxLength}`);
    }
    const tokens = this.tokenize(text).slice(0, maxLength - 2);
    const ids = new Int32Array(maxLength).fill(this.padTokenId);
    ids[0] = this.bosTokenId;
    ids.set(tokens, 1);
    ids[tokens.length + 1] = this.eosTokenId;
    return ids;
  }

  #idOf(symbol: string): number {
    const id = this.#vocab.get(symbol) ?? this.#unkTokenId;
    if (id === undefined) throw new Error(`BPE symbol ${JSON.stringify(symbol)} is not in the vocabulary, which has no unk token`);
    return id;
  }
}
