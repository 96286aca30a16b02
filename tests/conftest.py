"""Shared fixtures: a tiny random GPT-2 built locally (no downloads) and the demo model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TINY_WORDS = [f"w{i}" for i in range(90)] + ["Mary", "John", "the", "store", "gave", "to", "a", "drink", ".", ","]


def build_word_tokenizer(words: list[str], folder: Path) -> None:
    """A word-level tokenizer with BOS added automatically, saved as tokenizer.json."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<|endoftext|>": 0, "[UNK]": 1, **{w: i + 2 for i, w in enumerate(words)}}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    tok.post_processor = processors.TemplateProcessing(
        single="<|endoftext|> $A", special_tokens=[("<|endoftext|>", 0)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                   unk_token="[UNK]", pad_token="<|endoftext|>")
    fast.save_pretrained(folder)


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 layers, 4 heads, d_model 32, random weights with a large init so attention is not uniform."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    folder = tmp_path_factory.mktemp("tiny_gpt2")
    build_word_tokenizer(TINY_WORDS, folder)
    config = GPT2Config(vocab_size=len(TINY_WORDS) + 2, n_positions=64, n_embd=32, n_layer=2, n_head=4,
                        bos_token_id=0, eos_token_id=0, pad_token_id=0, initializer_range=0.3,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_engine(tiny_gpt2_dir: Path):
    from engine import Engine

    return Engine(tiny_gpt2_dir, device="cpu")
