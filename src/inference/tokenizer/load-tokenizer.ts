/**
 * Reads a CLIP tokenizer from its files into a {@link TokenizerDefinition}. Every file is read and
 * checked before anything is reported, so one {@link TokenizerFilesError} names every missing or
 * invalid file at once.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import {
  type BpeModel,
  type TokenizerSettings,
  parseClipBpeText,
  parseMergesTxt,
  parseSpecialTokensMap,
  parseTokenizerConfig,
  parseTokenizerJson,
  parseVocabJson,
} from "./tokenizer-file-formats.ts";
import {
  CLIP_CONTEXT_LENGTH,
  END_OF_TEXT,
  START_OF_TEXT,
  type TokenizerDefinition,
  TokenizerFilesError,
} from "./tokenizer-definition.ts";

/** The files of a tokenizer: the fast format or the slow one; the two config files are optional. */
export type TokenizerFilePaths = (
  | { readonly tokenizerJson: string }
  | { readonly vocabJson: string; readonly mergesTxt: string }
) & {
  /** Its pad_token / unk_token win over tokenizer_config.json's and tokenizer.json's. */
  readonly specialTokensMap?: string;
  readonly tokenizerConfig?: string;
};

const FILE_NAMES = {
  tokenizerJson: "tokenizer.json",
  vocabJson: "vocab.json",
  mergesTxt: "merges.txt",
  specialTokensMap: "special_tokens_map.json",
  tokenizerConfig: "tokenizer_config.json",
} as const;

const gunzipAsync = promisify(gunzip);

/** Hugging Face writes int(1e30) as model_max_length when a tokenizer has no limit; such values mean "use CLIP's 77". */
const MAX_SANE_MODEL_MAX_LENGTH = 65_536;

/**
 * A tokenizer folder: tokenizer.json when it is there, else vocab.json + merges.txt; plus
 * special_tokens_map.json and tokenizer_config.json when present.
 */
export async function readTokenizerFolder(dir: string): Promise<TokenizerDefinition> {
  let names: Set<string>;
  try {
    names = new Set(await readdir(dir));
  } catch (error) {
    throw new TokenizerFilesError(dir, [`cannot read the folder (${(error as Error).message})`]);
  }
  const inDir = (key: keyof typeof FILE_NAMES) => path.join(dir, FILE_NAMES[key]);
  const ifPresent = (key: "specialTokensMap" | "tokenizerConfig") => (names.has(FILE_NAMES[key]) ? { [key]: inDir(key) } : {});
  const model = names.has(FILE_NAMES.tokenizerJson)
    ? { tokenizerJson: inDir("tokenizerJson") }
    : { vocabJson: inDir("vocabJson"), mergesTxt: inDir("mergesTxt") };
  const paths: TokenizerFilePaths = { ...model, ...ifPresent("specialTokensMap"), ...ifPresent("tokenizerConfig") };
  return readTokenizer(dir, paths, "a tokenizer folder needs tokenizer.json, or vocab.json and merges.txt");
}

/** The given files; each one named must exist. */
export async function readTokenizerFiles(paths: TokenizerFilePaths): Promise<TokenizerDefinition> {
  const first = "tokenizerJson" in paths ? paths.tokenizerJson : paths.vocabJson;
  return readTokenizer(path.dirname(first), paths, "");
}

/** openai/CLIP's gzipped BPE file (bpe_simple_vocab_16e6.txt.gz): SD 1.x's conventions, pad = `<|endoftext|>`. */
export async function readClipBpeFile(gzPath: string): Promise<TokenizerDefinition> {
  const problems: string[] = [];
  const parse = async (bytes: Buffer) => parseClipBpeText((await gunzipAsync(bytes)).toString("utf8"));
  const model = await readAndParse(gzPath, parse, { problems });
  if (model === undefined) throw new TokenizerFilesError(gzPath, problems);
  return resolveDefinition(gzPath, { ...model, label: path.basename(gzPath) }, []);
}

async function readTokenizer(source: string, paths: TokenizerFilePaths, missingNote: string): Promise<TokenizerDefinition> {
  const problems: string[] = [];
  // One file after another, so that problems are listed in this order.
  const read = async <T>(file: string | undefined, parse: (text: string) => T) =>
    file === undefined ? undefined : readAndParse(file, (bytes) => parse(bytes.toString("utf8")), { problems, source, missingNote });
  const model = "tokenizerJson" in paths ? await read(paths.tokenizerJson, parseTokenizerJson) : await readSlowModel(paths, read);
  const specialTokensMap = await read(paths.specialTokensMap, parseSpecialTokensMap);
  const tokenizerConfig = await read(paths.tokenizerConfig, parseTokenizerConfig);
  if (model === undefined || problems.length > 0) throw new TokenizerFilesError(source, problems);
  // Precedence of special-token settings: special_tokens_map.json, tokenizer_config.json, tokenizer.json.
  const settings: LabelledSettings[] = [
    { label: FILE_NAMES.specialTokensMap, settings: specialTokensMap },
    { label: FILE_NAMES.tokenizerConfig, settings: tokenizerConfig },
    { label: FILE_NAMES.tokenizerJson, settings: model },
  ];
  const vocabLabel = "tokenizerJson" in paths ? FILE_NAMES.tokenizerJson : FILE_NAMES.vocabJson;
  return resolveDefinition(source, { ...model, label: vocabLabel }, settings);
}

async function readSlowModel(
  paths: { readonly vocabJson: string; readonly mergesTxt: string },
  read: <T>(file: string, parse: (text: string) => T) => Promise<T | undefined>,
): Promise<(BpeModel & TokenizerSettings) | undefined> {
  const vocab = await read(paths.vocabJson, parseVocabJson);
  const merges = await read(paths.mergesTxt, parseMergesTxt);
  return vocab === undefined || merges === undefined ? undefined : { vocab, merges };
}

interface ReadContext {
  /** Where each problem is recorded, as "file: what is wrong". */
  readonly problems: string[];
  /** Files directly in this folder are named by their base name. */
  readonly source?: string;
  /** Added to "missing" so the reader knows which files would do. */
  readonly missingNote?: string;
}

/** The parsed file, or undefined with the problem recorded. */
async function readAndParse<T>(file: string, parse: (bytes: Buffer) => T | Promise<T>, context: ReadContext): Promise<T | undefined> {
  const label = context.source !== undefined && path.dirname(file) === context.source ? path.basename(file) : file;
  try {
    return await parse(await readFile(file));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    const note = context.missingNote ? ` (${context.missingNote})` : "";
    context.problems.push(missing ? `${label}: missing${note}` : `${label}: ${(error as Error).message}`);
    return undefined;
  }
}

interface LabelledSettings {
  readonly label: string;
  readonly settings: TokenizerSettings | undefined;
}

/** Special tokens resolved to ids of the vocabulary, added tokens merged in, model_max_length checked. */
function resolveDefinition(
  source: string,
  model: BpeModel & { readonly label: string },
  settings: readonly LabelledSettings[],
): TokenizerDefinition {
  const vocab = new Map(model.vocab);
  for (const { settings: values } of settings) for (const [token, id] of values?.addedTokens ?? []) vocab.set(token, id);
  const problems: string[] = [];
  const idOf = (token: string, role: string) => {
    const id = vocab.get(token);
    if (id === undefined) problems.push(`${role} ${JSON.stringify(token)} is not in the vocabulary (${model.label})`);
    return id ?? -1;
  };
  const pad = firstSetting(settings, "padToken");
  const definition: TokenizerDefinition = {
    vocab,
    merges: model.merges,
    bosTokenId: idOf(START_OF_TEXT, "the begin-of-text token"),
    eosTokenId: idOf(END_OF_TEXT, "the end-of-text token"),
    padTokenId: idOf(pad?.value ?? END_OF_TEXT, pad ? `pad_token (${pad.label})` : "the default pad token"),
    unkTokenId: vocab.get(firstSetting(settings, "unkToken")?.value ?? END_OF_TEXT),
    modelMaxLength: saneModelMaxLength(firstSetting(settings, "modelMaxLength")?.value) ?? CLIP_CONTEXT_LENGTH,
  };
  if (problems.length > 0) throw new TokenizerFilesError(source, problems);
  return definition;
}

function firstSetting<K extends "padToken" | "unkToken" | "modelMaxLength">(
  settings: readonly LabelledSettings[],
  key: K,
): { label: string; value: NonNullable<TokenizerSettings[K]> } | undefined {
  for (const { label, settings: values } of settings) {
    const value = values?.[key];
    if (value !== undefined && value !== null) return { label, value };
  }
  return undefined;
}

function saneModelMaxLength(value: unknown): number | undefined {
  return Number.isSafeInteger(value) && (value as number) >= 2 && (value as number) <= MAX_SANE_MODEL_MAX_LENGTH ? (value as number) : undefined;
}
