"""Data synthesis and vocabulary for Microtome's demo model.

The demo model is a tiny GPT-2 trained on a mixture of three kinds of text, packed
into 128-token sequences that always start with the BOS token ``<|endoftext|>``:

* **Repeated random segments** (about 65% of tokens): a segment of 3-30 words drawn
  uniformly from :data:`POOL` (the "filler" pool), then a gap of 0-20 random pool words,
  then the same segment again; several such chunks per sequence, at random places. Within
  a row, segment and gap words are drawn without replacement from pool words not used
  earlier in the row, so every match with an earlier token is a real repeat. The
  distance between the two copies varies from 3 to 50 tokens, so the only way to predict
  the second copy is token matching (an induction circuit), not a fixed offset.
* **Indirect-object identification (IOI) sentences**, e.g.
  ``When Mary and John went to the store , John gave a drink to Mary .``
  Training uses :data:`IOI_TRAIN_TEMPLATES` and name pairs outside the held-out set;
  :func:`ioi_examples` with ``held_out=True`` uses :data:`IOI_HELDOUT_TEMPLATES` and held-out
  name pairs only.
* **Plain templated sentences**, e.g. ``the red dog saw a cat in the park .``

Vocabulary (see :func:`vocabulary`), in id order:

* ``<|endoftext|>`` (id 0: BOS, EOS and padding), ``[UNK]`` (id 1);
* punctuation ``.`` and ``,``;
* :data:`NAMES`: 60 capitalised single-token first names;
* :data:`TEMPLATE_WORDS`: words of the IOI and plain-text templates (places, objects,
  verbs, function words);
* :data:`POOL`: 400 lowercase filler words, disjoint from the words above, used for the
  random repeated segments (and, drawn by part of speech, in plain sentences).

The tokenizer is word-level (``tokenizers`` ``WordLevel`` model, ``Whitespace``
pre-tokenizer, which splits on whitespace and punctuation); it prepends BOS automatically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

BOS = "<|endoftext|>"
UNK = "[UNK]"
SPECIAL_TOKENS: list[str] = [BOS, UNK]
PUNCTUATION: list[str] = [".", ","]

NAMES: list[str] = (
    "Mary John Alice Bob Sarah James Emma David Anna Tom Laura Paul Kate Mark Lucy "
    "Peter Jane Mike Rose Adam Emily Daniel Sophie Jack Grace Henry Chloe Sam Ella Max "
    "Julia Ben Clara Leo Nina Oscar Ruby Hugo Ivy Carl Maria Frank Olivia Ryan Zoe "
    "Victor Amy Simon Lily Eric Helen Noah Diana Luke Irene Owen Fiona Alex Wendy Kevin"
).split()

# IOI templates. {A} and {B} are the two names, {S} the subject repeated, {P} a place,
# {O} an object; the indirect object follows the last word.
IOI_TRAIN_TEMPLATES: list[str] = [
    "When {A} and {B} went to the {P} , {S} gave a {O} to",
    "Then , {A} and {B} went to the {P} . {S} gave a {O} to",
    "After {A} and {B} went to the {P} , {S} gave a {O} to",
    "While {A} and {B} were working at the {P} , {S} gave a {O} to",
    "When {A} and {B} got a {O} at the {P} , {S} decided to give it to",
    "Then , {A} and {B} had a long argument . Afterwards {S} said to",
    "{A} and {B} went to the {P} . {S} handed a {O} to",
    "Friends {A} and {B} found a {O} at the {P} . {S} gave it to",
    "The {P} {A} and {B} went to had a {O} . {S} gave it to",
    "When {A} and {B} arrived at the {P} , {S} threw a {O} to",
    "{A} and {B} had a {O} at the {P} . {S} gave it to",
    "At the {P} , {A} and {B} found a {O} . {S} handed it to",
    "{A} and {B} were in the {P} . Then {S} threw a {O} to",
    "After {A} and {B} had a long argument , {S} gave a {O} to",
]
IOI_HELDOUT_TEMPLATES: list[str] = [
    # New sentence structures, but made only of words that training text uses.
    "While {A} and {B} were at the {P} , {S} threw a {O} to",
    "Then , {A} and {B} found a {O} at the {P} . Afterwards {S} gave it to",
    "When {A} and {B} had a long argument at the {P} , {S} said to",
    "After {A} and {B} arrived at the {P} , {S} handed it to",
]
PLACES: list[str] = "store park school house office garden cafe station hospital restaurant".split()
OBJECTS: list[str] = "drink ball book ring letter flower bone snack key bottle gift kiss".split()

# Plain-text templates: {N} name, {a} adjective, {n} noun, {v} past-tense verb, {P} place.
PLAIN_TEMPLATES: list[str] = [
    "the {a} {n} {v} the {n} .",
    "a {n} {v} the {a} {n} in the {P} .",
    "{N} {v} a {a} {n} .",
    "the {n} is very {a} .",
    "{N} saw a {n} at the {P} .",
    "{N} likes the {a} {n} .",
    "there is a {a} {n} near the {P} .",
    "the {n} and the {n} were {a} .",
]

# Literal words of all templates (everything that is not a {slot}), in first-seen order.
_TEMPLATE_FUNCTION_WORDS = [
    w
    for t in IOI_TRAIN_TEMPLATES + IOI_HELDOUT_TEMPLATES + PLAIN_TEMPLATES
    for w in t.split()
    if not w.startswith("{")
]

ADJECTIVES: list[str] = (
    "red blue green small big old young happy sad bright dark quiet loud warm cold soft "
    "hard fast slow tall short clean dirty heavy light sweet bitter fresh rich poor brave "
    "calm proud kind wild gentle lazy busy funny strange"
).split()
NOUNS: list[str] = (
    "dog cat bird fish horse cow sheep mouse lion tiger bear wolf fox rabbit duck frog "
    "tree flower river mountain lake road car boat train plane table chair door window "
    "cup plate spoon knife lamp clock phone piano guitar hat coat shoe shirt apple bread "
    "cheese cake egg milk tea coffee rice soup"
).split()
VERBS: list[str] = (
    "liked saw found took moved painted washed watched carried pushed pulled kicked "
    "cooked opened closed fixed broke sold bought chased"
).split()
_OTHER_POOL = (
    "able acid age air angle animal answer arm army art autumn baby back bag band bank "
    "base basket bath bed bell belt berry blade block blood board body bomb bone border "
    "bottom bowl box brain branch brass brick bridge brush bucket bulb burn butter button "
    "cable camera camp card carpet cart castle cause cell chain chalk chance change "
    "channel chest chin church circle cloud coal coast code collar color comb comfort "
    "copper copy cord corn cotton cough country cover crack crane cream crime crown "
    "crush cry cushion curve damage dance danger daughter day death debt degree desk "
    "detail dinner dust ear earth edge effect engine error event example eye face fact "
    "farm father fear feather feeling fence field fight finger fire flag flame floor "
    "fog fold food foot force fork form frame friend front fruit fuel game gate gold "
    "grain grass group growth guide gun hair hammer hand harbor head heart heat hill "
    "hole honey hook horn hour ice idea ink iron island jam jelly jewel journey judge "
    "jump kettle kitchen knee knot land language laugh law lead leaf leather leg lemon "
    "level library line linen lip list lock loss machine map market mask mass meal "
    "meat metal middle mind mine minute mist money monkey month moon morning mother "
    "motion muscle music nail name neck needle nerve net news night noise nose note "
    "number nut ocean offer oil orange order oven owner page pain paint pan paper parcel "
    "paste pen pencil person picture pig pin pipe place plant pocket point poison "
    "porter pot powder power price print prison profit pump purpose quilt rail rain "
    "range rat ray reason record rest reward rhythm rod roof room root rope rub rule "
    "salt sand scale school sea seat seed shade shadow shelf ship silk silver sister "
    "size skin skirt sky sleep slope smell smile smoke snake snow soap sock son song "
    "sort sound space spade sponge spring square stage stamp star steam steel stem "
    "step stick stone stove straw street string sugar summer sun support surprise "
    "system tail talk taste tax teeth test theory thing thread throat thumb ticket "
    "tin toe tongue tooth top touch town toy trade tray trick trouble turn twist "
    "umbrella unit valley value verse vessel view voice walk wall war wash waste water "
    "wave wax way weather week weight wheel whip whistle wind wine wing winter wire "
    "wood wool word work worm wound year zinc"
).split()


def _dedupe(words: list[str], exclude: set[str]) -> list[str]:
    out: list[str] = []
    seen = set(exclude)
    for w in words:
        if w not in seen:
            out.append(w)
            seen.add(w)
    return out


TEMPLATE_WORDS: list[str] = _dedupe(
    _TEMPLATE_FUNCTION_WORDS + PLACES + OBJECTS, set(SPECIAL_TOKENS + PUNCTUATION + NAMES)
)
_RESERVED = set(SPECIAL_TOKENS + PUNCTUATION + NAMES + TEMPLATE_WORDS)
ADJECTIVES = _dedupe(ADJECTIVES, _RESERVED)
NOUNS = _dedupe(NOUNS, _RESERVED | set(ADJECTIVES))
VERBS = _dedupe(VERBS, _RESERVED | set(ADJECTIVES) | set(NOUNS))
POOL: list[str] = _dedupe(ADJECTIVES + NOUNS + VERBS + _OTHER_POOL, _RESERVED)[:400]

SEQ_LEN = 128


def vocabulary() -> dict[str, int]:
    """Return the word -> id map: specials, punctuation, names, template words, pool."""
    words = SPECIAL_TOKENS + PUNCTUATION + NAMES + TEMPLATE_WORDS + POOL
    assert len(set(words)) == len(words), "vocabulary has duplicates"
    return {w: i for i, w in enumerate(words)}


VOCAB: dict[str, int] = vocabulary()
BOS_ID: int = VOCAB[BOS]
POOL_IDS: np.ndarray = np.array([VOCAB[w] for w in POOL], dtype=np.int64)


def build_tokenizer() -> PreTrainedTokenizerFast:
    """Build the word-level ``PreTrainedTokenizerFast`` (BOS prepended automatically)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(vocab=VOCAB, unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A",
        pair=f"{BOS} $A {BOS} $B",
        special_tokens=[(BOS, BOS_ID)],
    )
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=BOS,
        unk_token=UNK,
        pad_token=BOS,
        model_max_length=SEQ_LEN,
    )


def encode_words(words: list[str]) -> list[int]:
    """Map already-split words to ids (no BOS); matches the tokenizer on spaced text."""
    return [VOCAB[w] for w in words]


# ---------------------------------------------------------------- names and IOI


def _is_heldout_pair(a: str, b: str) -> bool:
    """A fixed ~1/8 of unordered name pairs is never used in training."""
    i, j = sorted((NAMES.index(a), NAMES.index(b)))
    return (i * 31 + j * 17) % 8 == 0


@dataclass
class IOIExample:
    """One IOI prompt; ``prompt`` ends right before the indirect object ``io``."""

    prompt: str
    io: str
    s: str
    template: str = ""


def _sample_pair(rng: np.random.Generator, held_out: bool) -> tuple[str, str]:
    while True:
        a, b = rng.choice(len(NAMES), size=2, replace=False)
        na, nb = NAMES[a], NAMES[b]
        if _is_heldout_pair(na, nb) == held_out:
            return na, nb


def _fill_ioi(template: str, io: str, s: str, rng: np.random.Generator) -> str:
    # ABBA or BABA order at random: the subject appears first or second.
    a, b = (io, s) if rng.random() < 0.5 else (s, io)
    return template.format(
        A=a, B=b, S=s, P=PLACES[rng.integers(len(PLACES))], O=OBJECTS[rng.integers(len(OBJECTS))]
    )


def ioi_examples(n: int, rng: np.random.Generator, held_out: bool = True) -> list[IOIExample]:
    """Sample ``n`` IOI prompts.

    ``held_out=True``: held-out templates and held-out name pairs (never seen in training);
    ``held_out=False``: training templates and training name pairs.
    """
    templates = IOI_HELDOUT_TEMPLATES if held_out else IOI_TRAIN_TEMPLATES
    out: list[IOIExample] = []
    for _ in range(n):
        io, s = _sample_pair(rng, held_out)
        t = templates[rng.integers(len(templates))]
        out.append(IOIExample(prompt=_fill_ioi(t, io, s, rng), io=io, s=s, template=t))
    return out


def _ioi_sentence(rng: np.random.Generator) -> list[int]:
    """A full IOI sentence with its answer and a full stop (answer at index -2)."""
    io, s = _sample_pair(rng, held_out=False)
    t = IOI_TRAIN_TEMPLATES[rng.integers(len(IOI_TRAIN_TEMPLATES))]
    return encode_words((_fill_ioi(t, io, s, rng) + f" {io} .").split())


def _plain_sentence(rng: np.random.Generator) -> list[int]:
    t = PLAIN_TEMPLATES[rng.integers(len(PLAIN_TEMPLATES))]
    words: list[str] = []
    for w in t.split():
        if w == "{N}":
            words.append(NAMES[rng.integers(len(NAMES))])
        elif w == "{a}":
            words.append(ADJECTIVES[rng.integers(len(ADJECTIVES))])
        elif w == "{n}":
            words.append(NOUNS[rng.integers(len(NOUNS))])
        elif w == "{v}":
            words.append(VERBS[rng.integers(len(VERBS))])
        elif w == "{P}":
            words.append(PLACES[rng.integers(len(PLACES))])
        else:
            words.append(w)
    return encode_words(words)


# ---------------------------------------------------------------- repeated segments


TOKEN_CLASSES: dict[str, np.ndarray] = {}  # filled below: ids a repeated segment can be drawn from


def repeated_sequences(
    n: int, seg_len: int, rng: np.random.Generator, prefix_len: int = 0, token_class: str = "pool",
    inner_repeats: bool = False,
) -> np.ndarray:
    """Return ids ``[n, 1 + prefix_len + 2*seg_len]``: BOS, random prefix, segment, segment.

    Words are drawn from :data:`TOKEN_CLASSES` [token_class] ('pool', 'names', 'template',
    'all'). Without ``inner_repeats`` they are drawn without replacement within a row, so every
    token of the second copy has exactly one earlier occurrence; with it, with replacement.
    """
    ids = TOKEN_CLASSES[token_class]
    k = prefix_len + seg_len
    if k > len(ids) and not inner_repeats:
        raise ValueError(f"prefix_len + seg_len exceeds the {token_class!r} class ({len(ids)} tokens)")
    out = np.empty((n, 1 + prefix_len + 2 * seg_len), dtype=np.int64)
    out[:, 0] = BOS_ID
    for r in range(n):
        words = ids[rng.choice(len(ids), size=k, replace=inner_repeats)]
        seg = words[prefix_len:]
        out[r, 1:] = np.concatenate([words[:prefix_len], seg, seg])
    return out


REPEAT_SOURCES = {"pool": 0.2, "vocabulary": 0.3, "vocabulary with repeats": 0.2, "names and template words": 0.3}


def _repeat_chunk(rng: np.random.Generator, row: list[int]) -> list[int]:
    """Segment (3-30 tokens), gap (0-20 tokens), segment again, placed after whatever the row
    holds so far (IOI and plain sentences included).

    The segment is drawn (see :data:`REPEAT_SOURCES`) from the filler pool, from the whole
    vocabulary (names, template words, punctuation, filler), or from the names and template
    words alone (whose sentence statistics otherwise outvote copying), so copying is learnt for
    every token. All but 'vocabulary with repeats' draw tokens not yet used in the row, without replacement,
    so matching an earlier token is unambiguous; 'vocabulary with repeats' draws with
    replacement, so a segment may repeat a token inside itself or one seen earlier in the
    row (copying must then use more than the last token).
    """
    seg_len = int(rng.integers(3, 31))
    gap = int(rng.integers(0, 21))
    source = list(REPEAT_SOURCES)[rng.choice(len(REPEAT_SOURCES), p=list(REPEAT_SOURCES.values()))]
    if source == "vocabulary with repeats":
        words = TOKEN_CLASSES["all"][rng.integers(len(TOKEN_CLASSES["all"]), size=seg_len + gap)].tolist()
    else:
        used = set(row)
        ids = {"pool": TOKEN_CLASSES["pool"], "vocabulary": TOKEN_CLASSES["all"],
               "names and template words": np.concatenate([TOKEN_CLASSES["names"], TOKEN_CLASSES["template"]])}[source]
        fresh = [t for t in rng.permutation(ids).tolist() if t not in used]
        words = fresh[:seg_len + gap]
    seg, filler = words[:seg_len], words[seg_len:]
    return seg + filler + seg


# ---------------------------------------------------------------- training batches

CHUNK_PROBS = {"repeat": 0.40, "ioi": 0.45, "plain": 0.15}


def training_sequence_with_weights(
    rng: np.random.Generator, seq_len: int = SEQ_LEN, ioi_weight: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """One training row and per-token loss weights (``ioi_weight`` on IOI answer tokens).

    Row: BOS followed by a random mix of chunks (see :data:`CHUNK_PROBS`), cut to ``seq_len``.
    ``weights[t]`` weighs the loss of predicting token ``t`` (``weights[0]`` is unused).
    """
    ids: list[int] = [BOS_ID]
    answers: list[int] = []
    kinds = list(CHUNK_PROBS)
    probs = np.array(list(CHUNK_PROBS.values()))
    while len(ids) < seq_len:
        kind = kinds[rng.choice(len(kinds), p=probs)]
        if kind == "repeat":
            ids += _repeat_chunk(rng, ids)
        elif kind == "ioi":
            ids += _ioi_sentence(rng)
            answers.append(len(ids) - 2)
        else:
            ids += _plain_sentence(rng)
    w = np.ones(seq_len, dtype=np.float32)
    for p in answers:
        if p < seq_len:
            w[p] = ioi_weight
    return np.array(ids[:seq_len], dtype=np.int64), w


def training_sequence(rng: np.random.Generator, seq_len: int = SEQ_LEN) -> np.ndarray:
    """One training row: BOS followed by a random mix of chunks, cut to ``seq_len``."""
    return training_sequence_with_weights(rng, seq_len)[0]


def training_batch(batch_size: int, rng: np.random.Generator, seq_len: int = SEQ_LEN) -> np.ndarray:
    """A ``[batch_size, seq_len]`` int64 array of training rows (every row starts with BOS)."""
    return np.stack([training_sequence(rng, seq_len) for _ in range(batch_size)])


def training_batch_with_weights(
    batch_size: int, rng: np.random.Generator, seq_len: int = SEQ_LEN, ioi_weight: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, weights)``, both ``[batch_size, seq_len]``; see :func:`training_sequence_with_weights`."""
    rows = [training_sequence_with_weights(rng, seq_len, ioi_weight) for _ in range(batch_size)]
    return np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows])


TOKEN_CLASSES.update({
    "pool": POOL_IDS,
    "names": np.array([VOCAB[w] for w in NAMES], dtype=np.int64),
    "template": np.array([VOCAB[w] for w in TEMPLATE_WORDS + PUNCTUATION], dtype=np.int64),
    "all": np.array([i for w, i in VOCAB.items() if w not in SPECIAL_TOKENS], dtype=np.int64),
})
