"""OpenAI CLIP's own simple_tokenizer.py, built from a tokenizer folder's merges.txt and checked against
its vocab.json. Shared by the reference scripts.

OPENAI_CLIP_DIR names a checkout of github.com/openai/CLIP (the folder that holds clip/simple_tokenizer.py);
the scripts import that file by path, as it is not an installable package here."""
import gzip
import os
import importlib.util
import json
import sys
import tempfile
import types



def clip_tokenizer_source():
    folder = os.environ.get("OPENAI_CLIP_DIR")
    if not folder:
        raise SystemExit("set OPENAI_CLIP_DIR to a checkout of github.com/openai/CLIP (holding clip/simple_tokenizer.py)")
    return os.path.join(folder, "clip", "simple_tokenizer.py")


def openai_simple_tokenizer(tokenizer_folder):
    # ftfy is not installed: fix_text is stubbed as identity, which is what it does to ASCII prompts.
    sys.modules.setdefault("ftfy", types.SimpleNamespace(fix_text=lambda text: text))
    spec = importlib.util.spec_from_file_location("clip_simple_tokenizer", clip_tokenizer_source())
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    merges = open(f"{tokenizer_folder}/merges.txt", encoding="utf-8").read().split("\n")
    with tempfile.TemporaryDirectory() as scratch:
        path = f"{scratch}/bpe.txt.gz"
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write("\n".join(merges[:-1]))  # simple_tokenizer reads lines 1.. of a file without a final newline
        tokenizer = module.SimpleTokenizer(path)
    vocab = json.load(open(f"{tokenizer_folder}/vocab.json", encoding="utf-8"))
    assert tokenizer.encoder == vocab, "OpenAI's vocabulary construction disagrees with vocab.json"
    return tokenizer
