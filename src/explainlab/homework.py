"""Homework in the style of NTU HW7: questions checked on the spot, with a hint when wrong.

Lesson 05_homework asks questions about token importance (saliency and attention on the
translator and on a sentence-completion model), about a classification explainer and
about BertViz attention. The learner answers each in a cell and calls
``check("q1", answer)``. The expected answer is never written down anywhere: it is
recomputed, the first time it is needed, from the model that the active profile gives
for the question's role (``explainlab.resolve(role)``), and cached for the rest of the
process. So the same checks hold on the real models (profile ``hub``) and on the
offline twins.

Task 2 of HW7 (asking a chat model for ``(word, importance)`` pairs and comparing them
with real attributions) uses ``parse_word_scores``, ``word_scores``,
``compare_word_scores`` and ``rank_correlation``.

Introduced in lesson 05_homework.
"""

from __future__ import annotations

import ast
import gc
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from .errors import UnknownQuestionError
from .tokens import clean_tokens

# The lesson's inputs (lesson 05_homework states them in its prose and code).
MT_SENTENCE = "我喜欢机器学习和人工智能。"
LM_PROMPT = "The first president of America is"
LM_TARGET = " George Washington"
SST2_TEXT = "I love you, I like you"
SST2_CLASS = "POSITIVE"
BERTVIZ_TEXT = "The cat sat on the mat"
BERTVIZ_LAYER = 0  # counted from 0, as BertViz's layer menu does
BERTVIZ_HEAD = 2  # counted from 0, as BertViz's head colours do

NUMBER_TOLERANCE = 0.01
"""A number within this distance of the expected one is right (the heatmaps show 3 decimals)."""
TIE_MARGIN = 0.005
"""In "which token" questions, every token within this distance of the top score is right."""

LANGS = ("en", "zh")

# --------------------------------------------------------------------------- normalising


def normalize_token(text: Any) -> str:
    """An answer or a token as compared: readable (``clean_tokens``), trimmed, case-folded.

    ``"▁机器"``, ``"机器"``, ``" 机器 "`` and ``"'机器'"`` all become ``"机器"``;
    ``"ĠAmerica"`` and ``"america"`` become ``"america"``; ``"[CLS]"`` becomes ``"[cls]"``.
    """
    if isinstance(text, (tuple, list)) and text:  # a (token, score) pair: its token
        text = text[0]
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    raw = raw.strip("\"'`“”‘’「」")
    if not raw:
        return ""
    return clean_tokens([raw])[0].strip().casefold()


def _number(value: Any) -> float | None:
    """A float from an int, a float, a NumPy/PyTorch scalar or a numeric string; else None."""
    if isinstance(value, bool):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError, RuntimeError):
            return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace("−", "-")
        try:
            return float(text)
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------- expected answers


@dataclass(frozen=True)
class Expected:
    """What a question expects, as computed from the model of the active profile.

    ``scores`` (token questions): every candidate token, as shown, with its score.
    ``value`` (number questions): the number.
    """

    kind: str
    scores: tuple[tuple[str, float], ...] = ()
    value: float | None = None

    def accepted(self) -> set[str]:
        """Normalised tokens counted right: the top one and those within ``TIE_MARGIN``."""
        if not self.scores:
            return set()
        best = max(score for _, score in self.scores)
        return {normalize_token(t) for t, s in self.scores if s >= best - TIE_MARGIN}

    def answer(self) -> str | float:
        """One right answer (the top token, or the number)."""
        if self.kind == "number":
            return self.value
        return max(self.scores, key=lambda pair: pair[1])[0]


def _device() -> str:
    from .notebook import pick_device

    return pick_device()


def _free() -> None:
    gc.collect()
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _frame(sequence) -> Any:
    """An Inseq sequence attribution as a DataFrame: a row per token, a column per generated one.

    Encoder-decoder: rows are the source tokens. Decoder-only: rows are every token of
    the sequence (prompt and generated); a token gets NaN where it was not yet there.
    Scores are those of ``aggregate()``, which ``show()`` draws.
    """
    import pandas as pd

    aggregated = sequence.aggregate()
    start, end = aggregated.attr_pos_start, aggregated.attr_pos_end
    columns = [t.token for t in aggregated.target[start:end]]
    if aggregated.source_attributions is not None:
        rows = [t.token for t in aggregated.source]
        data = aggregated.source_attributions
    else:
        rows = [t.token for t in aggregated.target]
        data = aggregated.target_attributions
    return pd.DataFrame(data.float().cpu().numpy()[: len(rows), : len(columns)],
                        index=rows, columns=columns)


def _attribute_tables(path: str, text: str, forced: str | None) -> dict[str, Any]:
    """Saliency and attention tables of one text, as lessons 01, 02 and 05 compute them."""
    import inseq

    from .tokens import clean_attribution

    model = inseq.load_model(path, "saliency", device=_device(),
                             model_kwargs={"attn_implementation": "eager"})
    try:
        args = (text,) if forced is None else (text, forced)
        saliency = model.attribute(*args, step_scores=["probability"], show_progress=False)
        attention = model.attribute(*args, method="attention", show_progress=False)
        return {name: _frame(clean_attribution(output, model.tokenizer).sequence_attributions[0])
                for name, output in (("saliency", saliency), ("attention", attention))}
    finally:
        del model
        _free()


@cache
def _mt_tables(path: str) -> dict[str, Any]:
    return _attribute_tables(path, MT_SENTENCE, None)


@cache
def _lm_tables(path: str) -> dict[str, Any]:
    return _attribute_tables(path, LM_PROMPT, LM_PROMPT + LM_TARGET)


@cache
def _sst2_pairs(path: str) -> tuple[tuple[str, float], ...]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from .explain import SequenceClassificationExplainer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).to(_device())
    try:
        explainer = SequenceClassificationExplainer(model, tokenizer)
        return tuple((t, float(s)) for t, s in explainer(SST2_TEXT, class_name=SST2_CLASS))
    finally:
        del model
        _free()


@cache
def _bertviz_row(path: str) -> tuple[tuple[str, float], ...]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path, attn_implementation="eager").to(_device())
    try:
        inputs = tokenizer(BERTVIZ_TEXT, return_tensors="pt").to(model.device)
        with torch.no_grad():
            attentions = model(**inputs, output_attentions=True).attentions
        tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
        weights = attentions[BERTVIZ_LAYER][0, BERTVIZ_HEAD]
        query = [normalize_token(t) for t in tokens].index("sat")
        return tuple(zip(tokens, weights[query].float().cpu().tolist(), strict=True))
    finally:
        del model
        _free()


def _column(table, name: str):
    wanted = normalize_token(name)
    for column in table.columns:
        if normalize_token(column) == wanted:
            return table[column]
    raise LookupError(f"The model did not generate {name!r}; its tokens are: "
                      f"{', '.join(map(str, table.columns))}.")


def _cell(table, row: str, column: str) -> float:
    values = _column(table, column)
    wanted = normalize_token(row)
    for token, value in values.items():
        if normalize_token(token) == wanted and not math.isnan(value):
            return float(value)
    raise LookupError(f"No token {row!r} before {column!r}; the tokens are: "
                      f"{', '.join(map(str, values.dropna().index))}.")


def _candidates(values) -> tuple[tuple[str, float], ...]:
    return tuple((str(t), float(v)) for t, v in values.items() if not math.isnan(v))


def _specials_out(pairs: Iterable[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    return tuple((t, s) for t, s in pairs if t not in ("[CLS]", "[SEP]", "<s>", "</s>", "[PAD]"))


# --------------------------------------------------------------------------- the questions


@dataclass(frozen=True)
class Question:
    """One homework question: its role, its kind, its text and hint in both languages.

    ``compute(path)`` returns the ``Expected`` answer from the model at ``path``.
    """

    qid: str
    role: str
    kind: str  # "token" or "number"
    text: dict[str, str]
    hint: dict[str, str]
    compute: Callable[[str], Expected]


_QUESTIONS: dict[str, Question] = {}


def register_question(question: Question) -> Question:
    """Add a question to the registry under ``question.qid``."""
    if question.kind not in ("token", "number"):
        raise ValueError(f"Question kind must be 'token' or 'number', not {question.kind!r}.")
    _QUESTIONS[question.qid] = question
    return question


def list_questions() -> list[str]:
    """The ids of every question, in order (``q1``, ``q2``, ...)."""
    return sorted(_QUESTIONS, key=lambda qid: (len(qid), qid))


def get_question(qid: str) -> Question:
    """The question ``qid``.

    Raises:
        UnknownQuestionError: (a ``KeyError``) the id is unknown; the message lists the ids.
    """
    try:
        return _QUESTIONS[qid]
    except (KeyError, TypeError):
        raise UnknownQuestionError(
            f"Unknown question {qid!r}. Questions: {', '.join(list_questions())}.") from None


def _token_question(qid, role, text, hint, candidates: Callable[[str], Iterable]) -> None:
    register_question(Question(qid, role, "token", text, hint,
                               lambda path: Expected("token", tuple(candidates(path)))))


def _number_question(qid, role, text, hint, value: Callable[[str], float]) -> None:
    register_question(Question(qid, role, "number", text, hint,
                               lambda path: Expected("number", value=float(value(path)))))


_token_question(
    "q1", "mt-zh-en",
    {"en": "Saliency, translator: which source token gets the highest score when the model "
           "generates 'machine'?",
     "zh": "显著性（saliency），翻译模型：生成 “machine” 时，哪个源语言 token 得分最高？"},
    {"en": "Find the column 'machine' in the saliency heatmap and read it from top to "
           "bottom: the answer is the row with the largest number. Write the token as the "
           "heatmap shows it.",
     "zh": "在显著性热力图中找到 “machine” 这一列，从上往下看，数值最大的那一行就是答案。"
           "照热力图上显示的样子写出这个 token。"},
    lambda path: _candidates(_column(_mt_tables(path)["saliency"], "machine")))

_number_question(
    "q2", "mt-zh-en",
    {"en": "Saliency, translator: what is the score of the source token 学习 when the model "
           "generates 'learning'?",
     "zh": "显著性，翻译模型：生成 “learning” 时，源语言 token “学习” 的得分是多少？"},
    {"en": "Read the saliency table at row 学习, column 'learning' (not the other way "
           f"round). Any number within ±{NUMBER_TOLERANCE} counts.",
     "zh": f"在显著性表格中读 “学习” 这一行、“learning” 这一列的数（别读反了）。"
           f"与正确值相差不超过 ±{NUMBER_TOLERANCE} 都算对。"},
    lambda path: _cell(_mt_tables(path)["saliency"], "学习", "learning"))

_token_question(
    "q3", "mt-zh-en",
    {"en": "Attention, translator: which source token gets the most attention (averaged over "
           "layers and heads) when the model generates 'machine'? Does it agree with q1?",
     "zh": "注意力（attention），翻译模型：生成 “machine” 时，哪个源语言 token 得到的注意力"
           "（对各层各头取平均）最多？和第 1 题一致吗？"},
    {"en": "Use the attention heatmap, not the saliency one. Special tokens such as </s> are "
           "candidates too: attention often parks there.",
     "zh": "看注意力热力图，不是显著性热力图。</s> 这样的特殊 token 也算候选："
           "注意力常常停在那里。"},
    lambda path: _candidates(_column(_mt_tables(path)["attention"], "machine")))

_number_question(
    "q4", "lm-gpt2",
    {"en": "Saliency, sentence completion: 'The first president of America is' -> "
           "' George Washington'. When the model generates 'Washington', what is the score "
           "of 'America'?",
     "zh": "显著性，句子补全：“The first president of America is” → “ George Washington”。"
           "生成 “Washington” 时，“America” 的得分是多少？"},
    {"en": "Take the column 'Washington' (the second generated token), row 'America'. "
           f"Any number within ±{NUMBER_TOLERANCE} counts.",
     "zh": "取 “Washington” 这一列（生成的第二个 token）、“America” 这一行。"
           f"与正确值相差不超过 ±{NUMBER_TOLERANCE} 都算对。"},
    lambda path: _cell(_lm_tables(path)["saliency"], "America", "Washington"))

_token_question(
    "q5", "lm-gpt2",
    {"en": "Saliency, sentence completion: which prompt token gets the highest score when the "
           "model generates 'George'?",
     "zh": "显著性，句子补全：生成 “George” 时，提示词里哪个 token 得分最高？"},
    {"en": "Take the column 'George' (the first generated token) of the saliency table and "
           "pick the row with the largest number. Write the word without its leading space.",
     "zh": "在显著性表格里取 “George” 这一列（生成的第一个 token），找数值最大的那一行。"
           "写单词本身，不带前面的空格。"},
    lambda path: _candidates(_column(_lm_tables(path)["saliency"], "George")))

_token_question(
    "q6", "lm-gpt2",
    {"en": "Attention, sentence completion: which prompt token gets the most attention when "
           "the model generates 'George'?",
     "zh": "注意力，句子补全：生成 “George” 时，提示词里哪个 token 得到的注意力最多？"},
    {"en": "Use the attention table this time. Decoder-only models often pour attention onto "
           "the first token whatever it says: do not assume the answer is a content word.",
     "zh": "这次看注意力表格。只有解码器的模型常把注意力倒在第一个 token 上，"
           "不管它是什么词：别想当然地以为答案是实词。"},
    lambda path: _candidates(_column(_lm_tables(path)["attention"], "George")))

_token_question(
    "q7", "bertviz",
    {"en": f"BertViz: in layer {BERTVIZ_LAYER}, head {BERTVIZ_HEAD} (both counted from 0), "
           f"which token does 'sat' attend to most in {BERTVIZ_TEXT!r}?",
     "zh": f"BertViz：在第 {BERTVIZ_LAYER} 层、第 {BERTVIZ_HEAD} 个头（都从 0 数起），"
           f"{BERTVIZ_TEXT!r} 中的 “sat” 最关注哪个 token？"},
    {"en": "Read the row of 'sat' (the token that attends) in that head's matrix, or hover "
           "over 'sat' on the left of the head view with only that head selected. [CLS] "
           "and [SEP] are candidates too. Layers and heads are counted from 0.",
     "zh": "在这个头的矩阵里读 “sat” 那一行（发出注意力的一方），或者在 head view 里只选这个头，"
           "把鼠标停在左侧的 “sat” 上。[CLS] 和 [SEP] 也算候选。层和头都从 0 数起。"},
    lambda path: _bertviz_row(path))

_token_question(
    "q8", "sst2",
    {"en": f"Classification explainer: for {SST2_TEXT!r} and the class {SST2_CLASS}, which "
           "word gets the highest attribution?",
     "zh": f"分类解释器：对 {SST2_TEXT!r} 和类别 {SST2_CLASS}，哪个词的归因最高？"},
    {"en": "Sort the explainer's word_attributions by score, highest first; [CLS] and [SEP] "
           "do not count. Attributions have a sign: the highest is the most positive, not "
           "the largest in size.",
     "zh": "把解释器的 word_attributions 按分数从高到低排，[CLS] 和 [SEP] 不算。"
           "归因有正负：最高指最大的正值，不是绝对值最大。"},
    lambda path: _specials_out(_sst2_pairs(path)))


@cache
def _expected_for(qid: str, path: str) -> Expected:
    return get_question(qid).compute(path)


def _expected(qid: str) -> Expected:
    """The expected answer of ``qid`` on the active profile (computed once per process)."""
    from .models import resolve

    question = get_question(qid)
    return _expected_for(qid, resolve(question.role))


# --------------------------------------------------------------------------- check


_MESSAGES = {
    "none": {"en": "{q}: no answer yet. Replace None with your answer and run the cell again.",
             "zh": "{q}：还没有作答。把 None 换成你的答案，再运行一次这个单元格。"},
    "right": {"en": "✓ {q}: right!", "zh": "✓ {q}：答对了！"},
    "wrong": {"en": "✗ {q}: not quite. Hint: {hint}", "zh": "✗ {q}：不对。提示：{hint}"},
    "not_number": {"en": "{answer!r} is not a number: answer with a number such as 0.25.",
                   "zh": "{answer!r} 不是数字：请用数字作答，例如 0.25。"},
    "not_candidate": {"en": "{answer!r} is not one of the tokens in question; they are: "
                            "{tokens}.",
                      "zh": "{answer!r} 不在候选 token 之中；候选有：{tokens}。"},
}


_SPACE = {"en": " ", "zh": ""}  # between sentences


def _say(key: str, lang: str | None, **values: Any) -> str:
    langs = LANGS if lang is None else (lang,)
    return "\n".join(_MESSAGES[key][code].format(**values) for code in langs)


def _is_right(question: Question, expected: Expected, answer: Any) -> tuple[bool, str | None]:
    """(right?, a remark for a wrong answer's hint or None)."""
    if question.kind == "number":
        value = _number(answer)
        if value is None:
            return False, "not_number"
        return abs(value - expected.value) <= NUMBER_TOLERANCE + 1e-9, None
    given = normalize_token(answer)
    if given in expected.accepted():
        return True, None
    if given not in {normalize_token(t) for t, _ in expected.scores}:
        return False, "not_candidate"
    return False, None


def check(question: str, answer: Any, *, lang: str | None = None) -> bool:
    """Check a homework answer and print whether it is right, with a hint when it is not.

    The expected answer is computed from the model of the active profile
    (``explainlab.resolve(role)``) the first time a question needs it, and cached for the
    process. Tokens are compared as ``normalize_token`` makes them (readable, trimmed,
    case-insensitive; every token within ``TIE_MARGIN`` of the top score counts),
    numbers within ``NUMBER_TOLERANCE``. Introduced in lesson 05_homework.

    Args:
        question: a question id, e.g. ``"q1"`` (see ``list_questions()``).
        answer: the learner's answer; ``None`` means "not answered yet": a reminder is
            printed, nothing is computed, and the notebook goes on.
        lang: ``"en"`` or ``"zh"`` for messages in one language; ``None`` (default) prints
            both, so the same call serves the English and the Chinese lesson.

    Returns:
        True if the answer is right, False otherwise (or when there is no answer yet).

    Raises:
        UnknownQuestionError: (a ``KeyError``) ``question`` is not a question id.
        ValueError: ``lang`` is neither ``"en"``, ``"zh"`` nor ``None``.
    """
    entry = get_question(question)
    if lang is not None and lang not in LANGS:
        raise ValueError(f"Unknown language {lang!r}: use 'en', 'zh' or None (both).")
    if answer is None:
        print(_say("none", lang, q=entry.qid))
        return False
    expected = _expected(entry.qid)
    right, remark = _is_right(entry, expected, answer)
    if right:
        print(_say("right", lang, q=entry.qid))
        return True
    langs = LANGS if lang is None else (lang,)
    lines = []
    for code in langs:
        hint = entry.hint[code]
        if remark == "not_number":
            hint = _MESSAGES[remark][code].format(answer=answer) + _SPACE[code] + hint
        elif remark == "not_candidate":
            tokens = ", ".join(dict.fromkeys(str(t) for t, _ in expected.scores))
            hint = (_MESSAGES[remark][code].format(answer=answer, tokens=tokens) + _SPACE[code]
                    + hint)
        lines.append(_MESSAGES["wrong"][code].format(q=entry.qid, hint=hint))
    print("\n".join(lines))
    return False


# --------------------------------------------------------------------------- HW7 task 2

_PUNCTUATION = str.maketrans({
    "“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "「": '"', "」": '"', "『": '"',
    "』": '"', "《": '"', "》": '"', "【": "[", "】": "]", "〔": "(", "〕": ")", "、": ",",
    "。": ".", "−": "-", "–": "-", "—": "-", "→": ":", "⇒": ":",
})
_NUMBER = re.compile(r"(?<![\w.])([+-]?)(\d+(?:\.\d+)?|\.\d+)(%?)(?!\w)(?!\.\d)")
_BULLET = re.compile(r"^\s*(?:[-*•+]|\d{1,3}[.)])\s+")
_QUOTES = "\"'`*_ "
_STRUCTURE_START = re.compile(r"[\[{]")
_MAX_STARTS = 20  # brackets tried as the start (and as the end) of a structure
_WORD_KEYS = ("word", "token", "term", "w", "text", "词", "单词")
_SCORE_KEYS = ("importance", "score", "weight", "value", "attribution", "重要性", "分数")
_SEPARATORS = " \t:=,;-|\"'`*_()[]{}"


def _normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).translate(_PUNCTUATION)
    text = text.replace("=>", ":").replace("->", ":")
    text = re.sub(r"<think>.*?</think>", "", text, flags=re.DOTALL)  # Qwen3's reasoning
    # Code fences (``` or ~~~, with or without a language): keep what is inside.
    return re.sub(r"^\s*(```|~~~)[^\n]*$", "", text, flags=re.MULTILINE)


def _to_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    found = _NUMBER.search(str(value))
    if not found:
        return None
    sign, digits, percent = found.groups()
    number = float(sign + digits)
    return number / 100 if percent else number


def _clean_word(word: Any) -> str:
    return str(word).strip().strip(_SEPARATORS).strip()


def _from_structure(data: Any) -> list[tuple[str, float | None]]:
    """Pairs from a parsed JSON / Python value: dict, list of pairs, list of dicts."""
    pairs: list[tuple[str, float | None]] = []
    if isinstance(data, dict):
        word_key = next((k for k in data if str(k).casefold() in _WORD_KEYS), None)
        if word_key is not None:  # one {"word": ..., "importance": ...} record
            score_key = next((k for k in data if str(k).casefold() in _SCORE_KEYS), None)
            return [(_clean_word(data[word_key]),
                     _to_number(data[score_key]) if score_key is not None else None)]
        if len(data) == 1 and isinstance(next(iter(data.values())), (list, tuple, dict)):
            return _from_structure(next(iter(data.values())))  # {"result": [...]}
        return [(_clean_word(k), _to_number(v)) for k, v in data.items()]
    if isinstance(data, (list, tuple)):
        if len(data) == 2 and isinstance(data[0], str) and not isinstance(data[1], (list, tuple,
                                                                                     dict)):
            return [(_clean_word(data[0]), _to_number(data[1]))]  # a single pair
        for item in data:
            if isinstance(item, dict):
                pairs += _from_structure(item)
            elif isinstance(item, (list, tuple)) and item:
                pairs.append((_clean_word(item[0]),
                              _to_number(item[1]) if len(item) > 1 else None))
            elif isinstance(item, str):
                pairs.append((_clean_word(item), None))
    return [(w, s) for w, s in pairs if w]


def _try_structure(text: str) -> list[tuple[str, float | None]]:
    """The first ``[...]`` or ``{...}`` that parses as JSON or a Python literal with pairs."""
    for start in list(_STRUCTURE_START.finditer(text))[:_MAX_STARTS]:
        begin = start.start()
        closing = "]" if text[begin] == "[" else "}"
        ends = [i for i, char in enumerate(text) if char == closing and i > begin]
        for end in reversed(ends[-_MAX_STARTS:]):  # the longest candidates first
            chunk = text[begin: end + 1]
            for loader in (json.loads, ast.literal_eval):
                try:
                    pairs = _from_structure(loader(chunk))
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    continue
                if pairs:
                    return pairs
    return []


def _has_letter(word: str) -> bool:
    return bool(re.search(r"[^\W\d_]", word))


def _split_pair(chunk: str) -> tuple[str, float | None] | None:
    """``word <sep> number`` (the last number) or a lone quoted/short word."""
    numbers = list(_NUMBER.finditer(chunk))
    if numbers:
        last = numbers[-1]
        word = _clean_word(chunk[: last.start()])
        if not _has_letter(word):
            word = _clean_word(chunk[last.end():])  # "0.8: great"
        sign, digits, percent = last.groups()
        score = float(sign + digits) / (100 if percent else 1)
        return (word, score) if _has_letter(word) else None
    word = _clean_word(chunk)
    if _has_letter(word) and len(word.split()) <= 3:
        return word, None
    return None


def _from_lines(text: str) -> list[tuple[str, float | None]]:
    pairs: list[tuple[str, float | None]] = []
    groups = re.findall(r"\(([^()\n]*)\)", text)
    tuple_like = [g for g in groups if re.search(r"[,:]", g) or _NUMBER.search(g)
                  or re.fullmatch(r"\s*[\"'][^\"']+[\"']\s*", g)]
    if tuple_like:
        for group in tuple_like:
            pair = _split_pair(group)
            if pair:
                pairs.append(pair)
        if pairs:
            return pairs
    for line in text.splitlines():
        line = line.strip()
        if not line or re.fullmatch(r"[|:\-\s]+", line) or line.endswith(":"):
            continue
        if line.count("|") >= 2:  # a Markdown table row
            cells = [c.strip() for c in line.strip("|").split("|")]
            word = next((c for c in cells if c and _NUMBER.fullmatch(c.strip()) is None), None)
            score = next((_to_number(c) for c in cells if _NUMBER.fullmatch(c.strip())), None)
            if word and score is not None:
                pairs.append((_clean_word(word), score))
            continue
        bullet = bool(_BULLET.match(line))
        line = _BULLET.sub("", line)
        inline = list(re.finditer(r"([^\s:=,;]+(?:\s+[^\s:=,;]+){0,2})\s*[:=]\s*([+-]?(?:\d+(?:"
                                  r"\.\d+)?|\.\d+))", line))
        if len(inline) >= 2:  # great: 0.9, boring: -0.8
            pairs += [(_clean_word(m.group(1)), float(m.group(2))) for m in inline
                      if _clean_word(m.group(1))]
            continue
        pair = _split_pair(line)
        quoted = bool(re.match(r"\s*[\"']", line))
        if pair and (pair[1] is not None or bullet or quoted):
            pairs.append(pair)
    return pairs


def parse_word_scores(text: str) -> list[tuple[str, float | None]]:
    """``(word, importance)`` pairs from a chat model's free-form answer (HW7 task 2).

    Tolerates what chat models write: Markdown code fences, a Python list of tuples, JSON
    (a dict, a list of pairs, a list of ``{"word": ..., "importance": ...}``), one pair per
    line (``great: 0.9``, ``- "great" (0.9)``, ``1. great -> 0.9``), Markdown tables, curly
    and Chinese quotes and punctuation (``（“很好”，0.8）``), the Unicode minus, and
    percentages. A pair whose number is missing gets ``None``. Prose lines without a
    number are skipped. Introduced in lesson 05_homework.

    Returns:
        The pairs in the order written (duplicates kept); ``[]`` if none was found.
    """
    text = _normalise_text(text)
    return _try_structure(text) or _from_lines(text)


_SPECIAL_TOKENS = {"[CLS]", "[SEP]", "[PAD]", "<s>", "</s>", "<pad>", "<unk>", "[UNK]"}


def word_scores(token_scores: Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    """Merge sub-word tokens into words, adding their scores; special tokens are dropped.

    WordPiece continuations (``##ing``) join the word before them; a SentencePiece
    ``▁`` or byte-level ``Ġ`` starts a new word. Use it on an explainer's
    ``word_attributions``. Introduced in lesson 05_homework.
    """
    pairs = [(str(t), float(s)) for t, s in token_scores if str(t) not in _SPECIAL_TOKENS]
    marked = any(t.startswith(("▁", "Ġ")) for t, _ in pairs[1:])
    words: list[list] = []
    for token, score in pairs:
        continues = words and (token.startswith("##") or
                               (marked and not token.startswith(("▁", "Ġ"))
                                and re.match(r"\w", clean_tokens([token])[0] or "")))
        text = clean_tokens([token])[0]
        if continues:
            words[-1][0] += text
            words[-1][1] += score
        else:
            words.append([text, score])
    return [(w, s) for w, s in words]


def _word_key(word: str) -> str:
    return re.sub(r"[^\w']+", "", unicodedata.normalize("NFKC", word).casefold())


def compare_word_scores(claimed: Iterable[tuple[str, float | None]],
                        measured: Iterable[tuple[str, float]]):
    """Line a chat model's claimed importances up with measured attributions, by word.

    Args:
        claimed: ``(word, importance)`` pairs, e.g. from ``parse_word_scores``; pairs
            without a number are left out.
        measured: ``(word, attribution)`` pairs, e.g. ``word_scores(explainer(...))``.

    Returns:
        A DataFrame with a row per claimed word (in the claimed order; a repeated word
        once, with the mean of its scores) and the columns ``claimed`` and ``measured``;
        ``measured`` is NaN for a word that is not in the text. Words are matched
        case-insensitively, without punctuation. Introduced in lesson 05_homework.
    """
    import pandas as pd

    def means(pairs):
        sums: dict[str, list[float]] = {}
        shown: dict[str, str] = {}
        for word, score in pairs:
            key = _word_key(word)
            if not key or score is None or (isinstance(score, float) and math.isnan(score)):
                continue
            sums.setdefault(key, []).append(float(score))
            shown.setdefault(key, _clean_word(word))
        return {k: sum(v) / len(v) for k, v in sums.items()}, shown

    claimed_scores, shown = means(claimed)
    measured_scores, _ = means(measured)
    keys = list(claimed_scores)
    return pd.DataFrame({"claimed": [claimed_scores[k] for k in keys],
                         "measured": [measured_scores.get(k, math.nan) for k in keys]},
                        index=pd.Index([shown[k] for k in keys], name="word"))


def rank_correlation(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation of two sequences (ties get their average rank).

    Pairs where either value is NaN are left out. Returns NaN with fewer than two pairs
    or when one side is constant. Introduced in lesson 05_homework.
    """
    import pandas as pd

    frame = pd.DataFrame({"x": list(x), "y": list(y)}, dtype=float).dropna()
    if len(frame) < 2:
        return math.nan
    ranks = frame.rank(method="average")
    if ranks["x"].nunique() < 2 or ranks["y"].nunique() < 2:
        return math.nan
    return float(ranks["x"].corr(ranks["y"]))


__all__ = [
    "Expected",
    "Question",
    "check",
    "compare_word_scores",
    "get_question",
    "list_questions",
    "normalize_token",
    "parse_word_scores",
    "rank_correlation",
    "register_question",
    "word_scores",
]
