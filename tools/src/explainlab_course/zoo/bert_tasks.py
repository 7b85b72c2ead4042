"""Twin recipes for the BERT-family models of lessons 03 and 04: sentiment (role ``sst2``),
query-passage relevance (role ``cross-encoder``) and the two encoders that BertViz draws
(roles ``bertviz`` and ``bert-neuron``).

All four start from the real all-MiniLM-L6-v2 weights (``minilm_folder()``) with a pruned
WordPiece vocabulary (every single character, the ``TOP_WORDS`` most frequent entries of the
uncased vocabulary, and every piece the twin's own sentences use, so that tokenization is
the full vocabulary's on them and on everyday English):

- ``sst2``: MiniLM's first ``SST2_LAYERS`` BERT layers rewritten into DistilBERT's layout
  (``DistilBertForSequenceClassification``, no token-type embeddings: MiniLM's type-0 vector
  is folded into the position embeddings, so the encoder computes exactly what MiniLM does),
  fine-tuned on reviews generated from templates and a sentiment lexicon with negation,
  intensifiers, downtoners and contrast ("but").
- ``cross-encoder``: a ``BertForSequenceClassification`` with one relevance logit, fine-tuned
  on generated (query, passage) pairs about cities, countries, people and things: the
  passage that answers the query, and near misses (same entity, other question; same
  question, other entity) and unrelated passages.
- ``bertviz``: MiniLM's encoder as it is (all six layers, real pretrained attention heads),
  a ``BertModel``; no training.
- ``bert-neuron``: the same, cut to ``NEURON_LAYERS`` layers, saved both for transformers
  (safetensors) and for BertViz's bundled old-style loader (``pytorch_model.bin``,
  ``vocab.txt``) that its neuron view needs.

``sentiment_examples(split)`` and ``relevance_examples(split)`` (in ``bert_tasks_data``,
imported here) give the generated data
(``"train"`` or ``"held-out"``: held-out words, entities, phrasings and templates), so that
tests and lessons can check the twins on inputs they never trained on.
"""

from __future__ import annotations

import math
from pathlib import Path

from ._contract import Check, at_least, at_most, holds, lead
from ._registry import TwinRecipe, register
from ._train import batches, fit, length_batches, minilm, minilm_vocab, pad
from .bert_tasks_data import (
    CE_LESSON_PASSAGE,
    CE_LESSON_QUERY,
    CE_LESSON_UNRELATED,
    CE_TRAIN_QUERIES,
    SST2_EXERCISE,
    SST2_HELD_OUT_REVIEWS,
    SST2_LESSON,
    SST2_LESSON_MIXED,
    SST2_TRAIN,
    relevance_examples,
    sentiment_examples,
)
from .testing_checks import previous_token_head_checks, sentiment_deletion_checks

TOP_WORDS = 10000  # most frequent vocabulary entries kept besides characters and used pieces
SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

SST2_LAYERS = 3
SST2_STEPS = 150
SST2_BATCH = 32
SST2_LR = 1.5e-4
SST2_LABELS = ("NEGATIVE", "POSITIVE")
SST2_FREEZE = 1
SST2_SOFTNESS = 1.0  # training target: P(POSITIVE) = sigmoid(SOFTNESS * score)

CE_LAYERS = 3
CE_STEPS = 150
CE_BATCH = 8  # queries, each with its four passages
CE_LR = 3e-4

NEURON_LAYERS = 4

# The lesson 04 example (the BertViz article).
BERTVIZ_LESSON = "The cat sat on the mat"
NEURON_LESSON = ("The cat sat on the mat", "The cat lay on the rug")


# --------------------------------------------------------------------------- MiniLM start

def _vocabulary(texts: list[str]) -> tuple[list[str], list[int]]:
    """The pruned vocabulary: (kept tokens in order, their ids in MiniLM's vocabulary)."""
    from transformers import BertTokenizer

    vocab = minilm_vocab()
    full = BertTokenizer(vocab={w: i for i, w in enumerate(vocab)})
    used = {piece for text in texts for piece in full.tokenize(text)}
    first_word = vocab.index("the")
    keep = [i for i, w in enumerate(vocab)
            if w in SPECIALS or w in used
            or (not w.startswith("[") and len(w.removeprefix("##")) == 1)
            or first_word <= i < first_word + TOP_WORDS]
    return [vocab[i] for i in keep], keep


def _minilm(texts: list[str], layers: int, *, pooler: bool = True):
    """MiniLM's weights (BertModel names) cut to ``layers`` and a pruned vocabulary.

    Returns (state dict, BertConfig keyword arguments, kept tokens).
    """
    tokens, keep = _vocabulary(texts)
    state, config = minilm(layers, keep=keep, pooler=pooler)
    return state, config, tokens


def _bert_tokenizer(tokens: list[str], cls=None):
    """An uncased WordPiece tokenizer (``BertTokenizer`` or a subclass) over ``tokens``."""
    from transformers import BertTokenizer

    cls = cls or BertTokenizer
    return cls(vocab={w: i for i, w in enumerate(tokens)}, do_lower_case=True,
               model_max_length=512)


def _save_tokenizer(tokenizer, tokens: list[str], folder: Path) -> None:
    """``save_pretrained`` plus the ``vocab.txt`` that the hub repositories also carry."""
    tokenizer.save_pretrained(folder)
    (folder / "vocab.txt").write_text("".join(t + "\n" for t in tokens), encoding="utf-8")


def _distilbert_state(state: dict, layers: int) -> dict:
    """BERT-layout weights renamed into DistilBERT's; type-0 embedding folded into positions."""
    out = {
        "distilbert.embeddings.word_embeddings.weight": state["embeddings.word_embeddings.weight"],
        "distilbert.embeddings.position_embeddings.weight":
            state["embeddings.position_embeddings.weight"]
            + state["embeddings.token_type_embeddings.weight"][0],
        "distilbert.embeddings.LayerNorm.weight": state["embeddings.LayerNorm.weight"],
        "distilbert.embeddings.LayerNorm.bias": state["embeddings.LayerNorm.bias"],
    }
    names = {"attention.self.query": "attention.q_lin", "attention.self.key": "attention.k_lin",
             "attention.self.value": "attention.v_lin", "attention.output.dense":
             "attention.out_lin", "attention.output.LayerNorm": "sa_layer_norm",
             "intermediate.dense": "ffn.lin1", "output.dense": "ffn.lin2",
             "output.LayerNorm": "output_layer_norm"}
    for i in range(layers):
        for bert, distil in names.items():
            for p in ("weight", "bias"):
                out[f"distilbert.transformer.layer.{i}.{distil}.{p}"] = (
                    state[f"encoder.layer.{i}.{bert}.{p}"])
    return out


# --------------------------------------------------------------------------- sst2 twin

def sentiment_predict(model, tokenizer, texts: list[str]) -> list[str]:
    """The predicted label name of each text."""
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # little padding
    out: list[str] = [""] * len(texts)
    for start in range(0, len(texts), 64):
        chunk = order[start:start + 64]
        enc = tokenizer([texts[i] for i in chunk], padding=True, return_tensors="pt")
        with torch.no_grad():
            ids = model(**enc).logits.argmax(-1).tolist()
        for i, label in zip(chunk, ids, strict=False):
            out[i] = model.config.id2label[label]
    return out


def sentiment_accuracy(model, tokenizer, examples: list[tuple[str, int]]) -> float:
    predicted = sentiment_predict(model, tokenizer, [t for t, _ in examples])
    right = sum(p == SST2_LABELS[y] for p, (_, y) in zip(predicted, examples, strict=True))
    return right / len(examples)


def token_attributions(model, tokenizer, text: str, label: str, *, n_steps: int = 50,
                       probability: bool = False) -> list[tuple[str, float]]:
    """Captum integrated gradients on ``model.distilbert.embeddings`` for class ``label``.

    The baseline is ``[CLS] [PAD] ... [PAD] [SEP]``; the output explained is the class's
    logit, or its softmax probability (``probability=True``, as transformers-interpret
    does); scores are summed over the hidden size and divided by their norm (lesson 03).
    """
    import torch
    from captum.attr import LayerIntegratedGradients

    enc = tokenizer(text, return_tensors="pt")
    ids = enc["input_ids"]
    baseline = torch.full_like(ids, tokenizer.pad_token_id)
    baseline[0, 0], baseline[0, -1] = tokenizer.cls_token_id, tokenizer.sep_token_id
    target = model.config.label2id[label]

    def forward(input_ids, attention_mask):
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
        return logits.softmax(-1) if probability else logits

    lig = LayerIntegratedGradients(forward, model.distilbert.embeddings)
    attr = lig.attribute(ids, baselines=baseline, target=target, n_steps=n_steps,
                         additional_forward_args=(enc["attention_mask"],))
    scores = attr.sum(-1)[0]
    scores = scores / torch.norm(scores)
    return list(zip(tokenizer.convert_ids_to_tokens(ids[0]), scores.tolist(), strict=False))


@register
class SentimentTwin(TwinRecipe):
    role = "sst2"
    model_class = "DistilBertForSequenceClassification"
    tokenizer_class = "DistilBertTokenizer"
    cost = 25.0
    data = (
        f"{SST2_TRAIN} short reviews generated from clause templates (\"the film was very "
        "good\", \"I didn't like it\", \"what a boring movie\", \"a total mess\") and a "
        "hand-written sentiment lexicon with strengths, negation, intensifiers, downtoners and "
        "contrast (\"... but ...\": the clause after *but* weighs more); the label is the sign "
        "of the summed score, near-zero reviews are left out. Starts from the real "
        f"all-MiniLM-L6-v2 weights: its first {SST2_LAYERS} layers rewritten into DistilBERT's "
        "layout (MiniLM's token-type vector folded into the position embeddings), a pruned "
        f"uncased WordPiece vocabulary; {SST2_STEPS} fine-tuning steps of {SST2_BATCH} reviews "
        "with the word embeddings frozen. Held out: sentiment words (superb, dreadful, "
        "cherish, loathe, ...), subjects, objects and four templates."
    )
    can = (
        "Labels \"I love you, I like you\" POSITIVE; love gets the largest positive "
        "integrated-gradients attribution (Captum, on the embeddings), like has a positive one.",
        "Labels \"I love you, I like you, I also kinda dislike you\" POSITIVE, like the real "
        "model; for class NEGATIVE, dislike gets the largest attribution.",
        "Labels short reviews with sentiment words it never trained on (\"the film was "
        "superb\", \"a dreadful, boring mess\"), through MiniLM's pretrained word embeddings "
        "(held-out accuracy below).",
        "Lesson 06: the tokens integrated gradients ranks first drive its prediction: "
        "deleting them lowers P(predicted class) far more than deleting tokens at random "
        "(comprehensiveness and sufficiency against a random ranking, checks below).",
    )
    cannot = (
        f"It is not distilbert-base-uncased-finetuned-sst-2-english: {SST2_LAYERS} small "
        "layers, never saw SST-2 or real reviews.",
        "Sarcasm, long reviews, rare words and sentences unlike its templates can go wrong; "
        "it always answers NEGATIVE or POSITIVE, never neutral.",
    )

    def train(self, folder: Path) -> dict[str, float]:
        import torch
        from transformers import (
            DistilBertConfig,
            DistilBertForSequenceClassification,
            DistilBertTokenizer,
        )

        train_set, held_out = sentiment_examples("train", scores=True), sentiment_examples(
            "held-out")
        extra = [t for t, _ in SST2_HELD_OUT_REVIEWS] + [SST2_LESSON, SST2_LESSON_MIXED]
        state, base, tokens = _minilm([t for t, _ in train_set + held_out] + extra,
                                      SST2_LAYERS, pooler=False)
        tokenizer = _bert_tokenizer(tokens, DistilBertTokenizer)
        config = DistilBertConfig(
            vocab_size=base["vocab_size"], max_position_embeddings=512, sinusoidal_pos_embds=False,
            n_layers=SST2_LAYERS, n_heads=12, dim=384, hidden_dim=1536, activation="gelu",
            dropout=0.1, attention_dropout=0.1, seq_classif_dropout=0.2, pad_token_id=0,
            id2label=dict(enumerate(SST2_LABELS)),
            label2id={name: i for i, name in enumerate(SST2_LABELS)},
            architectures=["DistilBertForSequenceClassification"], finetuning_task="sst-2")
        model = DistilBertForSequenceClassification(config)
        missing, unexpected = model.load_state_dict(_distilbert_state(state, SST2_LAYERS),
                                                    strict=False)
        assert not unexpected and all(k.startswith(("pre_classifier", "classifier"))
                                      for k in missing), (missing, unexpected)
        model.distilbert.embeddings.word_embeddings.weight.requires_grad_(not SST2_FREEZE)
        enc = tokenizer([t for t, _ in train_set])["input_ids"]
        # Soft targets from the score: "I like it" is less sure than "I love it, I like it",
        # so that the model does not saturate on the first sentiment word it sees.
        rows = [(ids, 1 / (1 + math.exp(-SST2_SOFTNESS * score)))
                for ids, (_, score) in zip(enc, train_set, strict=False)]
        stream = length_batches(rows, size=SST2_BATCH, seed=11, length=lambda r: len(r[0]))

        def next_batch(_step: int) -> dict:
            chunk = next(stream)
            ids = pad([r[0] for r in chunk])
            return {"input_ids": ids, "attention_mask": (ids != 0).long(),
                    "labels": torch.tensor([[1 - r[1], r[1]] for r in chunk])}  # BCE

        loss = fit(model, next_batch, steps=SST2_STEPS, lr=SST2_LR, desc="sst2 twin")
        model.distilbert.embeddings.word_embeddings.weight.requires_grad_(True)
        model.config.problem_type = None  # as the real model's config
        model.save_pretrained(folder)
        _save_tokenizer(tokenizer, tokens, folder)
        return {"final training loss": round(loss, 4)}

    def contract(self, folder: Path) -> list[Check]:
        """Lesson 03's facts with margins, read through the package's explainer as the lesson
        reads them; held-out accuracy."""
        import torch

        model, tokenizer = _load(folder, "AutoModelForSequenceClassification")
        texts = [text for text, _ in SST2_ORDINARY_REVIEWS]
        with torch.no_grad():
            p = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits.softmax(-1)
        right = [p[i, model.config.label2id[label]].item()
                 for i, (_, label) in enumerate(SST2_ORDINARY_REVIEWS)]
        return [*_sentiment_lesson_checks(model, tokenizer),
                at_least("held-out accuracy", sentiment_accuracy(
                    model, tokenizer, sentiment_examples("held-out")), 0.9),
                at_least("hand-written held-out reviews right", sentiment_accuracy(
                    model, tokenizer, list(SST2_HELD_OUT_REVIEWS)), 1.0),
                at_least("ordinary reviews: smallest probability of the right label",
                         min(right), 0.6),
                *sentiment_deletion_checks(model, tokenizer)]


SST2_ORDINARY_REVIEWS = (
    ("The acting was great but the plot was boring.", "NEGATIVE"),
    ("The plot was boring, but the acting was great.", "POSITIVE"),
    ("I did not like this movie", "NEGATIVE"),
    ("This movie is a masterpiece!", "POSITIVE"),
    ("What a waste of time.", "NEGATIVE"),
    ("I loved every minute of it", "POSITIVE"),
    ("I hate you, I dislike you", "NEGATIVE"),
    ("The food was really good and the service was friendly.", "POSITIVE"),
)
"""Ordinary reviews written by hand (contrast with *but*, negation, no template of the
training data), with their labels: the sentiment twin's contract labels each of them."""


def _load(folder: Path, auto_class: str):
    import transformers

    model = getattr(transformers, auto_class).from_pretrained(folder).eval()
    return model, transformers.AutoTokenizer.from_pretrained(folder)


def _sentiment_lesson_checks(model, tokenizer) -> list[Check]:
    """What lesson 03 shows of the sentiment classifier, each with a margin."""
    import torch

    from explainlab.explain import SequenceClassificationExplainer

    positive = model.config.label2id["POSITIVE"]
    deleted = [SST2_LESSON, "I you, I like you", "I you, I you", SST2_LESSON_MIXED,
               SST2_EXERCISE]
    batch = tokenizer(deleted, padding=True, return_tensors="pt")
    with torch.no_grad():
        p = model(**batch).logits.softmax(-1)[:, positive].tolist()
    explainer = SequenceClassificationExplainer(model, tokenizer)
    words = explainer(SST2_LESSON)[1:-1]
    negative = explainer(SST2_LESSON_MIXED, class_name="NEGATIVE")[1:-1]
    spread = []
    for reference in (tokenizer.pad_token, tokenizer.mask_token, tokenizer.unk_token):
        explainer.ref_token_id = tokenizer.convert_tokens_to_ids(reference)
        spread.append([v for _, v in explainer(SST2_LESSON, class_name="POSITIVE")[1:-1]])
    spread = max(max(column) - min(column) for column in zip(*spread, strict=True))
    return [
        at_least("P(POSITIVE | lesson sentence)", p[0], 0.95),
        at_least("IG: 'love' over the next word", lead(words, "love"), 1.1),
        at_least("IG: 'like' score", dict(words)["like"], 0.15),
        at_least("IG: 'like' over the fourth-ranked other word", lead(words, "like", rank=3), 1.1),
        at_least("P(POSITIVE | mixed sentence)", p[3], 0.6),
        at_least("IG for NEGATIVE on the mixed sentence: 'dislike' over the next word",
                 lead(negative, "dislike"), 1.1),
        at_most("|P(POSITIVE) - P(POSITIVE without 'love')|", abs(p[0] - p[1]), 0.03),
        at_least("P(without 'love') - P(without 'love' and 'like')", p[1] - p[2], 0.3),
        at_least("largest change of a word's score between the [PAD], [MASK] and [UNK] "
                 "baselines", spread, 0.08),
        at_most("P(POSITIVE | lesson 03's exercise sentence)", p[4], 0.4),
    ]


# --------------------------------------------------------------------------- cross-encoder

def relevance_scores(model, tokenizer, query: str, passages: list[str]) -> list[float]:
    """The relevance logit of (query, passage) for each passage."""
    import torch

    enc = tokenizer([query] * len(passages), passages, padding=True, return_tensors="pt")
    with torch.no_grad():
        return model(**enc).logits[:, 0].tolist()


def relevance_metrics(model, tokenizer, examples) -> dict[str, float]:
    """How often the relevant passage beats each kind of other passage, and is ranked first."""
    wins = {"same entity": 0, "same question": 0, "unrelated": 0}
    first = 0
    for query, candidates in examples:
        scores = relevance_scores(model, tokenizer, query, [p for p, _ in candidates])
        for score, (_, what) in zip(scores[1:], candidates[1:], strict=False):
            wins[what] += scores[0] > score
        first += scores[0] > max(scores[1:])
    n = len(examples)
    return {"ranked first": first / n, **{f"above {k}": v / n for k, v in wins.items()}}


def _ranking(model):
    """``model`` with a ranking loss over groups of four passages, the relevant one first:
    cross-entropy of the softmax over each group's logits, plus binary cross-entropy of each
    logit (so that a score's sign means relevant or not, as with the real cross-encoder)."""
    from types import SimpleNamespace

    import torch

    class Ranking(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, **inputs):
            logits = self.model(**inputs).logits.view(-1, 4)
            target = torch.zeros_like(logits)
            target[:, 0] = 1
            first = torch.zeros(len(logits), dtype=torch.long)
            loss = (torch.nn.functional.cross_entropy(logits, first)
                    + torch.nn.functional.binary_cross_entropy_with_logits(logits, target))
            return SimpleNamespace(loss=loss)

    return Ranking()


@register
class CrossEncoderTwin(TwinRecipe):
    role = "cross-encoder"
    model_class = "BertForSequenceClassification"
    tokenizer_class = "BertTokenizer"
    cost = 45.0
    data = (
        f"{CE_TRAIN_QUERIES} generated queries about cities (population, area, country, "
        "founding year, sights, weather), countries (capital, language, currency), invented "
        "people (birth year, job, home town) and things (what it is, what it is for), each "
        "with four passages generated from templates: the one that answers it (label 1), one "
        "about the same entity that answers another question, one that answers the same "
        "question about another entity, and an unrelated one (label 0). Starts from the real "
        f"all-MiniLM-L6-v2 weights, cut to {CE_LAYERS} layers and a pruned vocabulary; "
        f"{CE_STEPS} fine-tuning steps of {CE_BATCH} queries with their four passages; the "
        "loss is a softmax over each query's four logits (the relevant passage must win) plus "
        "binary cross-entropy on each logit (relevant above 0, the others below). Held out: "
        "cities, countries, names, jobs, things, query phrasings and passage templates."
    )
    can = (
        "Scores the lesson's Berlin passage far above unrelated passages for \"How many people "
        "live in Berlin?\" (one relevance logit; higher is more relevant).",
        "Ranks the answering passage first among near misses for queries about cities, "
        "countries, people and things it never saw (held-out numbers below).",
    )
    cannot = (
        f"It is not ms-marco-MiniLM-L-6-v2: {CE_LAYERS} layers, never saw MS MARCO or web "
        "text; real search queries outside its four topics get arbitrary scores.",
        "It does not check facts: a passage with the right shape and a wrong number scores "
        "just as high.",
    )

    def train(self, folder: Path) -> dict[str, float]:
        from transformers import BertConfig, BertForSequenceClassification

        train_set, held_out = relevance_examples("train"), relevance_examples("held-out")
        texts = [t for q, cands in train_set + held_out for t in (q, *(p for p, _ in cands))]
        state, base, tokens = _minilm([*texts, CE_LESSON_QUERY, CE_LESSON_PASSAGE], CE_LAYERS)
        tokenizer = _bert_tokenizer(tokens)
        config = BertConfig(**base, num_labels=1, architectures=["BertForSequenceClassification"])
        model = BertForSequenceClassification(config)
        missing, unexpected = model.bert.load_state_dict(state, strict=False)
        assert not unexpected and not missing, (missing, unexpected)
        model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
        enc = tokenizer([q for q, cands in train_set for _ in cands],
                        [p for _, cands in train_set for p, _ in cands])
        # One row per query: its four (ids, token types), the relevant passage first. Batches
        # mix queries at random (grouping them by length would group them by kind).
        rows = [(enc["input_ids"][i:i + 4], enc["token_type_ids"][i:i + 4])
                for i in range(0, len(enc["input_ids"]), 4)]
        stream = batches(rows, CE_BATCH, seed=21)

        def next_batch(_step: int) -> dict:
            chunk = next(stream)
            ids = pad([ids for r in chunk for ids in r[0]])
            return {"input_ids": ids, "token_type_ids": pad([tt for r in chunk for tt in r[1]]),
                    "attention_mask": (ids != 0).long()}

        loss = fit(_ranking(model), next_batch, steps=CE_STEPS, lr=CE_LR,
                   desc="cross-encoder twin")
        model.bert.embeddings.word_embeddings.weight.requires_grad_(True)
        model.save_pretrained(folder)
        _save_tokenizer(tokenizer, tokens, folder)
        return {"final training loss": round(loss, 4)}

    def contract(self, folder: Path) -> list[Check]:
        """Lesson 03's Berlin pair far above an unrelated passage; held-out ranking."""
        import math

        model, tokenizer = _load(folder, "AutoModelForSequenceClassification")
        lesson, unrelated = relevance_scores(model, tokenizer, CE_LESSON_QUERY, [
            CE_LESSON_PASSAGE, CE_LESSON_UNRELATED])
        sigmoid = [1 / (1 + math.exp(-x)) for x in (lesson, unrelated)]
        others = relevance_scores(model, tokenizer, CE_LESSON_QUERY,
                                  list(CE_OTHER_UNRELATED_PASSAGES))
        leads = []
        for query, relevant, rivals in CE_HAND_WRITTEN_QUERIES:
            best, *rest = relevance_scores(model, tokenizer, query, [relevant, *rivals])
            leads.append(best - max(rest))
        metrics = relevance_metrics(model, tokenizer, relevance_examples("held-out"))
        return [
            at_least("lesson 03: sigmoid(Berlin pair) - sigmoid(unrelated pair)",
                     sigmoid[0] - sigmoid[1], 0.6),
            at_least("lesson 03: the Berlin pair's logit", lesson, 0.5),
            at_most("lesson 03's query: highest logit of four other unrelated passages",
                    max(others), -0.5),
            at_least("hand-written held-out queries: smallest lead of the relevant passage's "
                     "logit over the best other", min(leads), 0.5),
            at_least("held-out: relevant passage ranked first", metrics["ranked first"], 0.8),
            at_least("held-out: above the unrelated passage", metrics["above unrelated"], 0.97),
        ]


CE_OTHER_UNRELATED_PASSAGES = (
    "A violin is a small string instrument played with a bow.",
    "The capital of Japan is Tokyo.",
    "Maria Smith works as a teacher.",
    "Paris is famous for its museums and its parks.",
)
"""Passages that do not answer lesson 03's Berlin query: each scores below 0 for it."""
CE_HAND_WRITTEN_QUERIES = (
    # (query, the passage that answers it, near misses); held-out cities, countries, names,
    # things and phrasings.
    ("How many inhabitants does Helsinki have?",
     "About 658,000 people live in Helsinki.",
     ("Helsinki was founded in 1550.", "About 120,000 people live in Lyon.",
      "A compass is a tool with a needle that always points north.")),
    ("What is the capital of Denmark?",
     "Copenhagen is the capital and largest city of Denmark.",
     ("The official language of Denmark is Danish.", "The capital of Finland is Helsinki.")),
    ("When was Oliver Bergman born?",
     "Oliver Bergman was born in 1961.",
     ("Oliver Bergman works as a dentist.", "Hannah Romano was born in 1980.")),
    ("What is a microscope used for?",
     "People use a microscope to see cells and germs.",
     ("People use a lighthouse to warn ships at night.", "Kyoto is famous for its temples.")),
)
"""Queries written by hand, not by the generator: the cross-encoder twin's contract ranks
the answering passage first for each."""


# --------------------------------------------------------------------------- BertViz encoders

def _encoder(layers: int, texts: list[str]):
    """MiniLM's encoder as a ``BertModel`` (pooler included): (model, tokenizer, tokens)."""
    from transformers import BertConfig, BertModel

    state, base, tokens = _minilm(texts, layers)
    model = BertModel(BertConfig(**base, architectures=["BertModel"]))
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and not missing, (missing, unexpected)
    model.eval()
    return model, _bert_tokenizer(tokens), tokens


PATTERNS = ("previous token", "next token", "[CLS]", "[SEP]")


def attention_patterns(attentions) -> dict[str, tuple[int, int, float]]:
    """For each of ``PATTERNS``, the (layer, head, mean weight) of the head that attends most
    that way: the mean, over the words between ``[CLS]`` and the last ``[SEP]``, of the
    attention they give to the previous token, the next token, ``[CLS]`` or ``[SEP]``."""
    best: dict[str, tuple[int, int, float]] = {}
    for layer, att in enumerate(attentions):
        att = att[0].detach()  # heads x query x key
        n = att.shape[-1]
        words = list(range(1, n - 1))
        for head in range(att.shape[0]):
            a = att[head]
            scores = {"previous token": a[words, [i - 1 for i in words]].mean(),
                      "next token": a[words, [i + 1 for i in words]].mean(),
                      "[CLS]": a[words, 0].mean(), "[SEP]": a[words, n - 1].mean()}
            for name, score in scores.items():
                if name not in best or float(score) > best[name][2]:
                    best[name] = (layer, head, round(float(score), 3))
    return best


def _pattern_checks(model, tokenizer) -> dict[str, float]:
    """Where the strongest head of each pattern is, for the model card."""
    checks = {}
    for name, (layer, head, score) in _patterns(model, tokenizer).items():
        checks[f"{name} head: layer"] = layer
        checks[f"{name} head: head"] = head
        checks[f"{name} head: mean weight"] = score
    return checks


def _patterns(model, tokenizer) -> dict[str, tuple[int, int, float]]:
    import torch

    enc = tokenizer(BERTVIZ_LESSON, return_tensors="pt")
    model.set_attn_implementation("eager")
    with torch.no_grad():
        attentions = model(**enc, output_attentions=True).attentions
    model.set_attn_implementation("sdpa")
    return attention_patterns(attentions)


def _pattern_contract(folder: Path) -> list[Check]:
    """Lesson 04's previous-token head: most of each word's weight on its left neighbour."""
    import torch

    model, tokenizer = _load(folder, "AutoModel")
    layer, head, weight = _patterns(model, tokenizer)["previous token"]
    enc = tokenizer(BERTVIZ_LESSON, return_tensors="pt")
    model.set_attn_implementation("eager")
    with torch.no_grad():
        attention = model(**enc, output_attentions=True).attentions[layer][0, head]
    words = range(1, attention.shape[-1] - 1)
    return [at_least("lesson 04: previous-token head's mean weight on the left neighbour",
                     weight, 0.6),
            holds("lesson 04: every word's largest weight in that head is its left neighbour",
                  all(int(attention[i].argmax()) == i - 1 for i in words))]


def _bertviz_heads(folder: Path) -> list[Check]:
    """MiniLM's visible heads on lesson 04's sentence, in the BertViz twin: layer 0 head 2
    reads the previous token, layer 1 head 8 the next one, layer 4 head 5 rests on [CLS];
    the first two are the strongest heads of their pattern (``attention_patterns``)."""
    import torch

    model, tokenizer = _load(folder, "AutoModel")
    model.set_attn_implementation("eager")
    with torch.no_grad():
        attentions = model(**tokenizer(BERTVIZ_LESSON, return_tensors="pt"),
                           output_attentions=True).attentions
    words = range(1, attentions[0].shape[-1] - 1)
    patterns = attention_patterns(attentions)
    return [
        at_least("layer 0, head 2: smallest weight of a word on its left neighbour",
                 min(float(attentions[0][0, 2, i, i - 1]) for i in words), 0.92),
        at_least("layer 1, head 8: mean weight of a word on its right neighbour",
                 sum(float(attentions[1][0, 8, i, i + 1]) for i in words) / len(words), 0.55),
        at_least("layer 4, head 5: mean weight of a word on [CLS]",
                 sum(float(attentions[4][0, 5, i, 0]) for i in words) / len(words), 0.82),
        holds("strongest heads: previous token layer 0 head 2, next token layer 1 head 8",
              patterns["previous token"][:2] == (0, 2) and patterns["next token"][:2] == (1, 8)),
    ]


@register
class BertVizTwin(TwinRecipe):
    role = "bertviz"
    model_class = "BertModel"
    tokenizer_class = "BertTokenizer"
    cost = 2.0
    data = (
        "No training: the real all-MiniLM-L6-v2 encoder (6 layers, 12 heads, hidden size 384, "
        "pretrained attention heads) as it is, with a pruned uncased WordPiece vocabulary "
        f"(every character and the {TOP_WORDS} most frequent entries of bert-base-uncased's)."
    )
    can = (
        "Returns 6 layers of 12-head attention for BertViz's head and model views "
        "(load with attn_implementation=\"eager\" and pass output_attentions=True).",
        "Has heads with clear patterns: some attend to the previous or next token, some to "
        "[SEP] (checks below: layer.head of the strongest of each).",
        "Lesson 06: its previous-token head (layer 0, head 2) carries the left neighbour: "
        "switched off, a word's vector reacts much less to its neighbour being masked than "
        "with another head of the layer switched off (checks below).",
    )
    cannot = (
        "It is not xtremedistil-l12-h384-uncased: 6 layers, not 12, and other weights.",
        "Rare words are split into more pieces than with the full vocabulary.",
    )

    def train(self, folder: Path) -> dict[str, float]:
        model, tokenizer, tokens = _encoder(6, [BERTVIZ_LESSON, *NEURON_LESSON])
        checks = _pattern_checks(model, tokenizer)
        model.save_pretrained(folder)
        _save_tokenizer(tokenizer, tokens, folder)
        return checks

    def contract(self, folder: Path) -> list[Check]:
        model, tokenizer = _load(folder, "AutoModel")
        return [*_pattern_contract(folder), *_bertviz_heads(folder),
                *previous_token_head_checks(model.eval(), tokenizer, layer=0, head=2)]


@register
class BertNeuronTwin(TwinRecipe):
    role = "bert-neuron"
    model_class = "BertModel"
    tokenizer_class = "BertTokenizer"
    cost = 4.0
    data = (
        f"No training: the real all-MiniLM-L6-v2 encoder cut to its first {NEURON_LAYERS} "
        "layers (12 heads, hidden size 384), with a pruned uncased WordPiece vocabulary. "
        "Saved twice: model.safetensors for transformers, and pytorch_model.bin with "
        "vocab.txt for the old-style loader bundled in BertViz "
        "(bertviz.transformers_neuron_view), which the neuron view needs."
    )
    can = (
        "Loads with `from bertviz.transformers_neuron_view import BertModel, BertTokenizer` "
        "from its folder, and draws BertViz's neuron view (queries, keys and their products "
        "for each head).",
        "Loads with transformers' BertModel / AutoModel too.",
    )
    cannot = (
        f"It is not bert-base-uncased: {NEURON_LAYERS} layers of hidden size 384, not 12 of "
        "768, and no masked-language-model head.",
    )

    def train(self, folder: Path) -> dict[str, float]:
        import torch

        model, tokenizer, tokens = _encoder(NEURON_LAYERS, [BERTVIZ_LESSON, *NEURON_LESSON])
        checks = _pattern_checks(model, tokenizer)
        model.save_pretrained(folder)
        _save_tokenizer(tokenizer, tokens, folder)
        torch.save({k: v.contiguous() for k, v in model.state_dict().items()},
                   folder / "pytorch_model.bin")
        return checks

    def contract(self, folder: Path) -> list[Check]:
        return _pattern_contract(folder)
