"""Twin recipe for the translator: ``mt-zh-en``, the stand-in for Helsinki-NLP/opus-mt-zh-en.

The twin is a small ``MarianMTModel`` with a ``MarianTokenizer`` laid out like the real
model's folder: a SentencePiece model per language (``source.spm``, ``target.spm``, both
trained here with the ``sentencepiece`` package) and one shared ``vocab.json``. Its
parallel corpus is generated from a bilingual lexicon (each Chinese word in simplified and
traditional characters) and a few sentence templates: subject + (adverb) + verb + one or two
objects, two clauses joined by 但是 ("but"), and yes/no questions with 吗. Every lexicon
word is a whole SentencePiece piece, so that the attributions in lesson 01 line up with
words (``机器`` -> ``machine``). Lesson 01 (MT attribution) and lesson 04 (BertViz
cross-attention) use the twin.
"""

from __future__ import annotations

import random
from pathlib import Path

from ._contract import Check, at_least, at_most, holds
from ._registry import TwinRecipe, register
from ._train import batches, fit, padded

# ---------------------------------------------------------------------------------------------
# The lexicon. Chinese words are written with "|" between the SentencePiece pieces we want
# (the delimiter never reaches the model: it only tells the SentencePiece trainer where a
# piece may end). Each entry: simplified, traditional, English.

# Subjects: simplified, traditional, English, takes the third-person singular verb.
_SUBJECTS = (
    ("我", "我", "I", False),
    ("你", "你", "you", False),
    ("他", "他", "he", True),
    ("她", "她", "she", True),
    ("我们", "我們", "we", False),
    ("他们", "他們", "they", False),
    ("老师", "老師", "the teacher", True),
    ("学生|们", "學生|們", "the students", False),
    ("我|的|朋友", "我|的|朋友", "my friend", True),
    ("我|妈妈", "我|媽媽", "my mother", True),
    ("工程师", "工程師", "the engineer", True),
    ("科学家", "科學家", "the scientist", True),
)
# Verbs: simplified, traditional, English base form, third-person singular.
_VERBS = (
    ("喜欢", "喜歡", "like", "likes"),
    ("爱", "愛", "love", "loves"),
    ("讨厌", "討厭", "hate", "hates"),
    ("需要", "需要", "need", "needs"),
    ("研究", "研究", "study", "studies"),
    ("理解", "理解", "understand", "understands"),
    ("教", "教", "teach", "teaches"),
)
# Verbs that take the degree adverbs 很 ("really") and 非常 ("... very much").
_DEGREE_VERBS = frozenset({"like", "love", "hate", "need"})
_OBJECTS = (
    ("机器|学习", "機器|學習", "machine learning"),
    ("人工|智能", "人工|智慧", "artificial intelligence"),
    ("深度|学习", "深度|學習", "deep learning"),
    ("机器|翻译", "機器|翻譯", "machine translation"),
    ("自然|语言|处理", "自然|語言|處理", "natural language processing"),
    ("计算机|科学", "計算機|科學", "computer science"),
    ("神经|网络", "神經|網路", "neural networks"),
    ("人工|神经|网络", "人工|神經|網路", "artificial neural networks"),
    ("机器|智能", "機器|智慧", "machine intelligence"),
    ("智能", "智慧", "intelligence"),
    ("强化|学习", "強化|學習", "reinforcement learning"),
    ("数学", "數學", "mathematics"),
    ("物理", "物理", "physics"),
    ("历史", "歷史", "history"),
    ("音乐", "音樂", "music"),
    ("艺术", "藝術", "art"),
    ("中文", "中文", "Chinese"),
    ("英文", "英文", "English"),
    ("数据", "數據", "data"),
    ("统计", "統計", "statistics"),
    ("编程", "編程", "programming"),
    ("咖啡", "咖啡", "coffee"),
    ("茶", "茶", "tea"),
    ("猫", "貓", "cats"),
    ("狗", "狗", "dogs"),
    ("电脑", "電腦", "computers"),
    ("书", "書", "books"),
)
# Adverbs before the verb: (simplified, traditional) -> how the English clause changes.
_ADVERBS = {"": ("", ""), "really": ("很", "很"), "also": ("也", "也"),
            "very much": ("非常", "非常"), "not": ("不", "不")}
_AND = ("和", "和")
_BUT = ("但是", "但是")
_QUESTION = ("吗", "嗎")

LESSON_SENTENCES = ("我喜欢机器学习和人工智能。", "我喜歡機器學習和人工智慧。")
LESSON_TRANSLATION = "I like machine learning and artificial intelligence."

GOLD_ALIGNMENT: list[tuple[str, str]] = [
    ("▁我", "▁I"),
    ("喜欢", "▁like"),
    ("机器", "▁machine"),
    ("学习", "▁learning"),
    ("和", "▁and"),
    ("人工", "▁artificial"),
    ("智能", "▁intelligence"),
    ("。", "."),
]
"""The gold word alignment of the lesson sentence ``我喜欢机器学习和人工智能。``.

(source piece, target piece) pairs, spelled as the twin's tokenizer spells them: source
pieces as ``tokenizer.tokenize(LESSON_SENTENCES[0])`` gives them, target pieces as
``tokenizer.convert_ids_to_tokens(tokenizer(text_target=LESSON_TRANSLATION)["input_ids"])``
gives them (both as Inseq shows them, ``▁`` included). Each word is aligned one to one with
its translation, the final ``。`` with ``.``; ``</s>`` (and the ``<pad>`` that starts the
target) are left unaligned. Lesson 01 scores each attribution method's argmax alignment
against it (alignment error rate). These are the twin's pieces: the real opus-mt-zh-en cuts
the source differently (its first piece is ``▁我喜欢``), so scoring it needs its own pairs.
"""

EXERCISE_SENTENCE = ("她很讨厌编程。", "She really hates programming.")
"""Lesson 01's exercise sentence, made of a held-out (verb, object) pair, and its translation."""
EXERCISE_ALIGNMENT = {"▁She": "▁她", "▁really": "很", "▁hates": "讨厌", "▁programming": "编程",
                      ".": "。"}
HELD_OUT_EXAMPLES = {
    EXERCISE_SENTENCE[0]: EXERCISE_SENTENCE[1],
    "我們喜歡物理，但是他們不理解藝術。": "We like physics, but they do not understand art.",
    "科学家研究强化学习吗？": "Does the scientist study reinforcement learning?",
    "我的朋友不理解英文。": "My friend does not understand English.",
    "老师也教机器翻译和音乐。": "The teacher also teaches machine translation and music.",
}
"""Sentences made of held-out (verb, object) pairs, with their translations."""

# The (verb, object) pairs never seen together in training: the held-out combinations.
_HELD_OUT_SHARE = 0.15
_KEEP_IN_TRAINING = {("like", "machine learning"), ("like", "artificial intelligence")}


def _capitalise(text: str) -> str:
    return text[0].upper() + text[1:]


def _clause(subject, adverb, verb, objects, script, *, initial: bool, question: bool = False):
    """One clause: (Chinese with piece delimiters, English)."""
    zh_subject, zh_verb = _SUBJECTS[subject][script], _VERBS[verb][script]
    zh_objects = f"|{_AND[script]}|".join(_OBJECTS[o][script] for o in objects)
    zh_adverb = _ADVERBS[adverb][script]
    zh = "|".join(part for part in (zh_subject, zh_adverb, zh_verb, zh_objects) if part)
    en_subject, third = _SUBJECTS[subject][2], _SUBJECTS[subject][3]
    base, singular = _VERBS[verb][2], _VERBS[verb][3]
    en_objects = " and ".join(_OBJECTS[o][2] for o in objects)
    if question:
        words = ["does" if third else "do", en_subject]
        words += [adverb, base] if adverb in ("really", "also") else [base]
        words.append(en_objects)
    else:
        words = [en_subject]
        if adverb == "not":
            words += ["does not" if third else "do not", base]
        elif adverb in ("really", "also"):
            words += [adverb, singular if third else base]
        else:
            words.append(singular if third else base)
        words.append(en_objects)
    if adverb == "very much":
        words.append("very much")
    en = " ".join(words)
    return zh, (_capitalise(en) if initial else en)


def _render(sentence, script: int) -> tuple[str, str]:
    """A sentence structure in one script (0 simplified, 1 traditional): (zh|pieces, en)."""
    kind, clauses = sentence
    if kind == "question":
        zh, en = _clause(*clauses[0], script, initial=True, question=True)
        return f"{zh}|{_QUESTION[script]}|？", f"{en}?"
    zh, en = _clause(*clauses[0], script, initial=True)
    if kind == "but":
        zh2, en2 = _clause(*clauses[1], script, initial=False)
        zh, en = f"{zh}|，|{_BUT[script]}|{zh2}", f"{en}, but {en2}"
    return f"{zh}|。", f"{en}."


def _random_clause(rng: random.Random, *, question: bool = False):
    verb = rng.randrange(len(_VERBS))
    adverbs = ["", "", "", "also", "not"]
    if _VERBS[verb][2] in _DEGREE_VERBS:
        adverbs += ["really", "very much"]
    if question:
        adverbs.remove("not")
    objects = rng.sample(range(len(_OBJECTS)), 2 if rng.random() < 0.5 else 1)
    return rng.randrange(len(_SUBJECTS)), rng.choice(adverbs), verb, tuple(objects)


def _random_sentence(rng: random.Random):
    draw = rng.random()
    if draw < 0.55:
        return "plain", (_random_clause(rng),)
    if draw < 0.8:
        return "but", (_random_clause(rng), _random_clause(rng))
    return "question", (_random_clause(rng, question=True),)


def _pairs(sentence) -> set[tuple[str, str]]:
    """The (verb, object) pairs of a sentence structure, in English."""
    return {(_VERBS[clause[2]][2], _OBJECTS[o][2]) for clause in sentence[1] for o in clause[3]}


def held_out_pairs() -> set[tuple[str, str]]:
    """The (verb, object) combinations that never occur together in the training corpus."""
    rng = random.Random(11)
    pairs = sorted((v[2], o[2]) for v in _VERBS for o in _OBJECTS)
    pairs = [p for p in pairs if p not in _KEEP_IN_TRAINING]
    return set(rng.sample(pairs, round(_HELD_OUT_SHARE * len(pairs))))


def make_corpus(n_train: int = 24000, n_held_out: int = 400, seed: int = 0):
    """(train, held_out): lists of (zh with piece delimiters, en).

    Held-out sentences each contain at least one held-out (verb, object) pair; training
    sentences contain none. Scripts are drawn per sentence (half traditional).
    """
    rng = random.Random(seed)
    held = held_out_pairs()
    train: list[tuple[str, str]] = []
    test: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(train) < n_train or len(test) < n_held_out:
        sentence = _random_sentence(rng)
        pair = _render(sentence, rng.randrange(2))
        if _pairs(sentence) & held:
            if len(test) < n_held_out and pair[0] not in seen:
                test.append(pair)
                seen.add(pair[0])
        elif len(train) < n_train:
            train.append(pair)
    return train, test


def plain(zh: str) -> str:
    """A generated Chinese sentence without its piece delimiters."""
    return zh.replace("|", "")


# ---------------------------------------------------------------------------------------------
# Tokenizer: two SentencePiece models and the shared vocabulary, as opus-mt folders have.


def _train_spm(lines: list[str], words: list[list[str]], *, vocab_size: int,
               delimiter: str | None = None) -> bytes:
    """A unigram SentencePiece model trained on ``lines``, seeded with whole ``words``.

    ``words`` are the lines cut into the pieces we want, spelled as the model sees them
    (``▁`` for a preceding space, and the first word of a line carries it too). The trainer
    starts its EM from these words and their counts instead of searching for frequent
    substrings (a search that cannot see word ends in Chinese), so every lexicon word
    becomes one piece; single characters stay in the vocabulary as a fall-back. With a
    ``delimiter``, the lines are the pre-segmented Chinese lines, and no piece crosses it.
    """
    import collections
    import io
    import tempfile
    import unicodedata

    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2  # protobuf: a dependency of inseq

    counts = collections.Counter(unicodedata.normalize("NFKC", w) for row in words for w in row)
    options = dict(model_type="unigram", vocab_size=vocab_size, character_coverage=1.0,
                   hard_vocab_limit=False, num_threads=1, minloglevel=2,
                   unk_id=0, bos_id=-1, eos_id=1, pad_id=-1)
    if delimiter:
        options["pretokenization_delimiter"] = delimiter
    out = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        seeds = Path(tmp) / "seeds.tsv"
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        seeds.write_text("".join(f"{w}\t{c}\n" for w, c in ranked), encoding="utf-8")
        spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=out,
                                       seed_sentencepieces_file=str(seeds), **options)
    # The model records its training options, the seed file's temporary path among them:
    # drop that path, so that two builds write identical files.
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(out.getvalue())
    proto.trainer_spec.ClearField("seed_sentencepieces_file")
    return proto.SerializeToString()


def _zh_words(line: str) -> list[str]:
    words = line.split("|")
    return ["▁" + words[0], *words[1:]]


def _en_words(line: str) -> list[str]:
    out = []
    for word in line.split(" "):
        stripped = word.rstrip(".,?")
        out += ["▁" + stripped, *word[len(stripped):]]
    return out


def _build_tokenizer(folder: Path, train: list[tuple[str, str]]):
    import json

    import sentencepiece as spm
    from transformers import MarianTokenizer

    zh_lines = sorted({zh for zh, _ in train})
    en_lines = sorted({en for _, en in train})
    source = _train_spm(zh_lines, [_zh_words(line) for line in zh_lines], vocab_size=320,
                        delimiter="|")
    target = _train_spm(en_lines, [_en_words(line) for line in en_lines], vocab_size=160)
    (folder / "source.spm").write_bytes(source)
    (folder / "target.spm").write_bytes(target)
    vocab = {"</s>": 0, "<unk>": 1}
    for proto in (source, target):
        sp = spm.SentencePieceProcessor(model_proto=proto)
        for i in range(sp.get_piece_size()):
            if not (sp.is_control(i) or sp.is_unknown(i)):
                vocab.setdefault(sp.id_to_piece(i), len(vocab))
    vocab["<pad>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=2),
                                       encoding="utf-8")
    return MarianTokenizer(
        str(folder / "source.spm"), str(folder / "target.spm"), str(folder / "vocab.json"),
        source_lang="zh", target_lang="en", model_max_length=512, separate_vocabs=False)


def _encoder(tokenizer):
    """Fast id encoders for source and target (the same ids as the tokenizer gives)."""
    vocab, unk, eos = tokenizer.encoder, tokenizer.encoder["<unk>"], tokenizer.eos_token_id

    def source(text: str) -> list[int]:
        return [vocab.get(p, unk) for p in tokenizer.spm_source.encode(text, out_type=str)] + [eos]

    def target(text: str) -> list[int]:
        return [vocab.get(p, unk) for p in tokenizer.spm_target.encode(text, out_type=str)] + [eos]

    return source, target


def translate(model, tokenizer, texts: list[str], *, size: int = 200) -> list[str]:
    """Translations of ``texts`` with the model's own generation config, in batches."""
    import torch

    out: list[str] = []
    for start in range(0, len(texts), size):
        enc = tokenizer(texts[start:start + size], return_tensors="pt", padding=True)
        with torch.no_grad():
            generated = model.generate(**enc)
        out += tokenizer.batch_decode(generated, skip_special_tokens=True)
    return out


def inseq_saliency(folder: Path, texts: list[str], *, attributed_fn: str = "probability"):
    """Inseq's ``saliency`` on ``texts`` (one batch, as lesson 01 runs it), per text: the
    source pieces, the generated pieces, each step's probability, the scores (generated x
    source: the gradient's L2 norm over the hidden size) and the gradient's size at each step
    (its norm over all source embeddings: lesson 01's saturation table). ``attributed_fn``:
    the gradient of each step's ``"probability"`` or of its ``"logit"``."""
    import inseq

    model = inseq.load_model(str(folder), "saliency")
    out = model.attribute(texts, step_scores=["probability"], attributed_fn=attributed_fn,
                          show_progress=False)
    rows = []
    for attribution in out.sequence_attributions:
        raw = attribution.source_attributions  # source x generated x hidden size
        rows.append(([t.token for t in attribution.source],
                     [t.token for t in attribution.target][1:],  # [0]: the start <pad>
                     attribution.step_scores["probability"].tolist(),
                     raw.norm(dim=-1).T, raw.norm(dim=(0, 2)).tolist()))
    return rows


def _over_third_smallest(sizes: list[float], step: int) -> float:
    """``sizes[step]`` over the third smallest of the other steps' (below 1: among the three
    smallest; lesson 01's saturation table)."""
    return sizes[step] / sorted(v for i, v in enumerate(sizes) if i != step)[2]


def _alignment_lead(source: list[str], target: list[str], scores, gold: dict[str, str]) -> float:
    """The smallest lead of a gold source piece over the best other source piece (a ratio of
    saliency scores; ``</s>`` left out, as lesson 01 leaves it out) over ``gold``'s target
    pieces. Above 1: every one of them has its gold source piece as saliency argmax."""
    leads = []
    for piece, row in zip(target, scores, strict=True):
        if piece in gold:
            right = source.index(gold[piece])
            others = [v for i, v in enumerate(row.tolist()) if i != right and source[i] != "</s>"]
            leads.append(row[right].item() / max(others))
    return min(leads) if len(leads) == len(gold) else 0.0  # 0: a gold target is missing


def _scale_folded(model):
    """The same translator with ``scale_embedding`` folded into its weights.

    Trained like opus-mt (input embeddings times sqrt(d_model), shared with the output
    layer), saved with the input embeddings already scaled, ``scale_embedding`` off and no
    table shared: the same function. Transformers 5's Marian decoder scales the input
    embeddings it is given, and Inseq 0.7 passes them already scaled, so with the scale on,
    Inseq attributes a forward pass other than the one that translated (lesson 01). The
    encoder, the decoder and the output layer each keep a table of their own, as
    ``share_encoder_decoder_embeddings=False`` declares: transformers 5.0 ties the tables
    whenever they are declared shared, and warns when the checkpoint has them apart.
    """
    import copy

    import torch
    from transformers import MarianMTModel

    config = copy.deepcopy(model.config)
    config.scale_embedding, config.tie_word_embeddings = False, False
    config.share_encoder_decoder_embeddings = False
    config.decoder_vocab_size = config.vocab_size
    folded = MarianMTModel(config)
    state = {k: v for k, v in model.state_dict().items() if k != "model.shared.weight"}
    folded.load_state_dict(state)
    scaled = model.get_input_embeddings().weight * model.model.encoder.embed_scale
    with torch.no_grad():
        folded.lm_head.weight.copy_(model.lm_head.weight)
        for table in (folded.model.encoder.embed_tokens, folded.model.decoder.embed_tokens):
            table.weight.copy_(scaled)
    folded.generation_config = model.generation_config
    return folded.eval()


# ---------------------------------------------------------------------------------------------
# The recipe.

# Model and training size (opus-mt-zh-en: d_model 512, 6 + 6 layers, 8 heads, ffn 2048).
_SIZE = {"d_model": 128, "layers": 2, "heads": 4, "ffn": 256, "batch": 64, "steps": 300,
         "lr": 3e-3}


@register
class TranslationTwin(TwinRecipe):
    role = "mt-zh-en"
    model_class = "MarianMTModel"
    tokenizer_class = "MarianTokenizer"
    cost = 35.0
    data = (
        "A parallel corpus generated from a bilingual lexicon of 12 subjects, 7 verbs and 27 "
        "objects (AI and school subjects, drinks, pets, books), each Chinese word in simplified "
        "and traditional characters, and templates: subject + adverb (很 'really', 也 'also', "
        "非常 '... very much', 不 'do not') + verb + one or two objects joined by 和 'and'; two "
        "such clauses joined by 但是 'but'; yes/no questions with 吗. 24,000 training pairs "
        "(21,657 distinct Chinese sentences), half of them in traditional characters; the "
        "lesson sentences themselves are not among them. 28 of the 189 (verb, object) "
        "combinations never occur in training; the 400 held-out test sentences each contain "
        "at least one of them."
    )
    can = (
        "Translate the lesson sentences 我喜欢机器学习和人工智能。 and 我喜歡機器學習和人工智慧。 "
        "into 'I like machine learning and artificial intelligence.'",
        "Translate new combinations of its lexicon's words in its sentence patterns, in "
        "simplified or traditional characters, including verb-object pairs never seen in "
        "training (see the held-out check below).",
        "Show word alignment in its attributions: its SentencePiece pieces are whole words "
        "(▁我, 喜欢, 机器, 学习, 人工, 智能), and saliency puts the most weight on the aligned "
        "source word for the content words of the lesson sentence.",
    )
    cannot = (
        "Translate arbitrary Chinese: words outside its lexicon become <unk> or nonsense, and "
        "sentence patterns outside its templates (tenses, measure words, relative clauses, "
        "long texts) are not handled.",
        "Match opus-mt-zh-en's segmentation or scores: the real model keeps ▁我喜欢 as one "
        "piece and was trained on millions of real sentence pairs.",
        "Translate English into Chinese, or any other language pair.",
        "Share its config's embedding layout with opus-mt-zh-en: it was trained with "
        "scale_embedding on and tied output weights, then saved with the scale folded into the "
        "input embeddings (scale_embedding off, output layer untied), the same function. With "
        "the scale on, Inseq 0.7 on transformers 5 scales the decoder's input embeddings twice "
        "and attributes another forward pass than the one that translated; the real model is "
        "affected, the twin is not.",
    )

    def train(self, folder: Path) -> dict[str, float]:
        from transformers import GenerationConfig, MarianConfig, MarianMTModel

        train, held_out = make_corpus()
        tokenizer = _build_tokenizer(folder, train)
        pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
        config = MarianConfig(
            vocab_size=len(tokenizer.encoder), decoder_vocab_size=len(tokenizer.encoder),
            d_model=_SIZE["d_model"], encoder_layers=_SIZE["layers"],
            decoder_layers=_SIZE["layers"], encoder_attention_heads=_SIZE["heads"],
            decoder_attention_heads=_SIZE["heads"], encoder_ffn_dim=_SIZE["ffn"],
            decoder_ffn_dim=_SIZE["ffn"],
            max_position_embeddings=512, activation_function="swish", scale_embedding=True,
            dropout=0.1, attention_dropout=0.0, activation_dropout=0.0,
            pad_token_id=pad, eos_token_id=eos, bos_token_id=eos, forced_eos_token_id=eos,
            decoder_start_token_id=pad, share_encoder_decoder_embeddings=True,
            tie_word_embeddings=True, architectures=["MarianMTModel"],
        )
        model = MarianMTModel(config)
        encode_source, encode_target = _encoder(tokenizer)
        rows = [(encode_source(plain(zh)), encode_target(en)) for zh, en in train]
        stream = batches(rows, _SIZE["batch"], seed=5)

        def next_batch(_):
            chunk = next(stream)
            ids, mask = padded([c[0] for c in chunk], pad)
            labels, label_mask = padded([c[1] for c in chunk], pad)
            labels[label_mask == 0] = -100
            return {"input_ids": ids, "attention_mask": mask, "labels": labels}

        loss = fit(model, next_batch, steps=_SIZE["steps"], lr=_SIZE["lr"], desc="mt-zh-en")
        model = _scale_folded(model)
        model.generation_config = GenerationConfig(
            bos_token_id=eos, eos_token_id=eos, forced_eos_token_id=eos, pad_token_id=pad,
            decoder_start_token_id=pad, bad_words_ids=[[pad]], max_length=64, num_beams=4,
            renormalize_logits=True)
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)

        return {"final training loss": round(loss, 4)}

    def contract(self, folder: Path) -> list[Check]:
        """Lesson 01's facts: both lesson sentences and the exercise translated exactly, their
        saliency on the gold source words with a lead, the least confident step with the
        largest gradient; and held-out combinations translated."""
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        model = AutoModelForSeq2SeqLM.from_pretrained(folder).eval()
        tokenizer = AutoTokenizer.from_pretrained(folder)
        lesson = translate(model, tokenizer, list(LESSON_SENTENCES))
        _, held_out = make_corpus()
        predicted = translate(model, tokenizer, [plain(zh) for zh, _ in held_out])
        exact = sum(p == en for p, (_, en) in zip(predicted, held_out, strict=True))
        examples = translate(model, tokenizer, list(HELD_OUT_EXAMPLES))
        gold = {t: s for s, t in GOLD_ALIGNMENT}
        simplified, traditional = inseq_saliency(folder, list(LESSON_SENTENCES))
        gold_traditional = {t: traditional[0][simplified[0].index(s)] for t, s in gold.items()}
        (exercise,) = inseq_saliency(folder, [EXERCISE_SENTENCE[0]])
        (logit,) = inseq_saliency(folder, [LESSON_SENTENCES[0]], attributed_fn="logit")
        surest = simplified[2].index(max(simplified[2]))
        return [
            holds("lesson sentences translated exactly, both scripts",
                  lesson == [LESSON_TRANSLATION] * 2),
            at_least("held-out combinations: exact-match accuracy", exact / len(held_out), 0.97),
            holds("held-out example sentences (lesson 01's exercise among them) translated "
                  "exactly", examples == list(HELD_OUT_EXAMPLES.values())),
            at_least("Inseq saliency: lead of the gold source word, simplified lesson sentence",
                     _alignment_lead(*simplified[:2], simplified[3], gold), 1.15),
            at_least("Inseq saliency: lead of the gold source word, traditional lesson sentence",
                     _alignment_lead(*traditional[:2], traditional[3], gold_traditional), 1.15),
            at_least("Inseq saliency: lead of the gold source word, exercise sentence",
                     _alignment_lead(*exercise[:2], exercise[3], EXERCISE_ALIGNMENT), 1.15),
            at_most("most confident step: probability-gradient size / the third smallest "
                    "other", _over_third_smallest(simplified[4], surest), 0.8),
            at_least("most confident step: logit-gradient size / the third smallest other",
                     _over_third_smallest(logit[4], surest), 1.1),
        ]
