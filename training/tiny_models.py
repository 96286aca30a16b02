"""Random-init models built locally (no downloads) for tests and benchmarks.

A word-level tokenizer (the `tokenizers` library) with BOS added automatically, and a
GPT-2 config of any shape, saved with save_pretrained so they load through exactly the
same path as any Hugging Face model."""

from __future__ import annotations

from pathlib import Path

BOS = "<|endoftext|>"


def build_word_tokenizer(words: list[str], folder: Path) -> None:
    """Ids: 0 = BOS/EOS/pad, 1 = [UNK], then `words` in order. Saved as tokenizer.json."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {BOS: 0, "[UNK]": 1, **{w: i + 2 for i, w in enumerate(words)}}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    tok.post_processor = processors.TemplateProcessing(single=f"{BOS} $A", special_tokens=[(BOS, 0)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=BOS, unk_token="[UNK]", pad_token=BOS)
    fast.save_pretrained(folder)


def save_random_gpt2(folder: Path, words: list[str], n_layer: int = 2, n_head: int = 4, n_embd: int = 32,
                     n_positions: int = 64, initializer_range: float = 0.02, seed: int = 0) -> Path:
    """A random GPT-2 of the given shape with a word-level tokenizer over `words`."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    build_word_tokenizer(words, folder)
    config = GPT2Config(vocab_size=len(words) + 2, n_positions=n_positions, n_embd=n_embd, n_layer=n_layer,
                        n_head=n_head, bos_token_id=0, eos_token_id=0, pad_token_id=0,
                        initializer_range=initializer_range, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    torch.manual_seed(seed)
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


def gpt2_small_shaped(folder: Path) -> Path:
    """12 layers x 12 heads, d_model 768, 50257-token vocabulary, 1024 positions: GPT-2 small's shape."""
    return save_random_gpt2(folder, [f"t{i}" for i in range(50255)], n_layer=12, n_head=12, n_embd=768,
                            n_positions=1024, initializer_range=0.02)


def save_random_family(folder: Path, words: list[str], family: str, seed: int = 0) -> Path:
    """A tiny random model of another family (2 layers, 4 heads, d_model 32) with the same
    word-level tokenizer: 'gpt_neox' (parallel residual, rotary), 'llama' (RMSNorm, rotary,
    grouped-query attention with 2 key/value heads), 'gemma' / 'gemma2' ((1 + w) RMSNorm,
    scaled embeddings, GQA; gemma2 adds post-norms, soft-capping and a sliding window),
    'opt' (learned positions, biases), 'phi3' (fused qkv and gate/up, GQA) or 'gptj'
    (parallel attention + MLP, partial rotary, lm_head bias).

    Norm weights and all biases are randomised too: their init (ones, zeros, or zeros for
    Gemma's 1 + w) would hide a wrong norm formula or a dropped bias in the tests."""
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    build_word_tokenizer(words, folder)
    torch.manual_seed(seed)
    model = _family_model(family, vocab_size=len(words) + 2)
    if family not in ("gpt_neox", "llama"):  # keep the existing families' weights as they were
        with torch.no_grad():
            for param in model.parameters():
                if param.dim() == 1:
                    param.add_(0.2 * torch.randn_like(param))
    model.save_pretrained(folder)
    return folder


def _family_model(family: str, vocab_size: int):
    """The random-init model of `family`, built from its config class (no download)."""
    import transformers as tf

    common = dict(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  intermediate_size=64, max_position_embeddings=64, bos_token_id=0, eos_token_id=0,
                  pad_token_id=0, initializer_range=0.3)
    if family == "gpt_neox":
        return tf.GPTNeoXForCausalLM(tf.GPTNeoXConfig(**common, rotary_pct=0.5, use_parallel_residual=True))
    if family == "llama":
        return tf.LlamaForCausalLM(tf.LlamaConfig(**common, num_key_value_heads=2, tie_word_embeddings=False))
    if family == "gemma":
        return tf.GemmaForCausalLM(tf.GemmaConfig(**common, num_key_value_heads=2, head_dim=8))
    if family == "gemma2":
        return tf.Gemma2ForCausalLM(tf.Gemma2Config(
            **common, num_key_value_heads=2, head_dim=8, query_pre_attn_scalar=8, sliding_window=6,
            final_logit_softcapping=4.0, attn_logit_softcapping=10.0))
    if family == "phi3":
        return tf.Phi3ForCausalLM(tf.Phi3Config(**common, num_key_value_heads=2,
                                                original_max_position_embeddings=64))
    if family == "opt":
        return tf.OPTForCausalLM(tf.OPTConfig(
            vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, ffn_dim=64,
            word_embed_proj_dim=32, max_position_embeddings=64, dropout=0.0, init_std=0.3,
            bos_token_id=0, eos_token_id=0, pad_token_id=0))
    if family == "gptj":
        return tf.GPTJForCausalLM(tf.GPTJConfig(
            vocab_size=vocab_size, n_embd=32, n_layer=2, n_head=4, n_inner=64, rotary_dim=4, n_positions=64,
            initializer_range=0.3, bos_token_id=0, eos_token_id=0, pad_token_id=0))
    raise ValueError(f"unknown family {family}")


def gpt2_xl_layout(folder: Path, n_embd: int = 400, initializer_range: float = 0.2) -> Path:
    """GPT-2-XL's layout for the views: 48 layers x 25 heads, the 50257-token vocabulary,
    1024 positions. d_model defaults to 400 (16 per head) so it builds in seconds; pass
    n_embd=1600 for GPT-2-XL's full width (1.5 B parameters, 6 GB) when speed is measured.
    A larger init than GPT-2's makes attention patterns visible rather than uniform."""
    return save_random_gpt2(folder, [f"t{i}" for i in range(50255)], n_layer=48, n_head=25, n_embd=n_embd,
                            n_positions=1024, initializer_range=initializer_range)
