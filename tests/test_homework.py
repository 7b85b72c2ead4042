"""explainlab.homework (lesson 05_homework): the answer parser, the comparison helpers, and
``check`` against answers computed here, independently, on the offline twins."""

from __future__ import annotations

import math
import os

import pytest

from explainlab import homework
from explainlab.errors import ExplainLabError, UnknownQuestionError
from explainlab.homework import Expected

from conftest import TWIN_HOME

# --------------------------------------------------------------------------- parse_word_scores

FOUR = [("wonderful", 0.9), ("boring", -0.8), ("but", -0.3), ("mess", -0.9)]


@pytest.mark.parametrize("text", [
    '[("wonderful", 0.9), ("boring", -0.8), ("but", -0.3), ("mess", -0.9)]',
    '```python\n[("wonderful", 0.9), ("boring", -0.8),\n ("but", -0.3), ("mess", -0.9)]\n```',
    "Sure! Here is the list:\n```\n[('wonderful', 0.9), ('boring', -0.8), ('but', -0.3), "
    "('mess', -0.9)]\n```\nLet me know if you need more.",
    '{"wonderful": 0.9, "boring": -0.8, "but": -0.3, "mess": -0.9}',
    '[{"word": "wonderful", "importance": 0.9}, {"word": "boring", "importance": -0.8}, '
    '{"word": "but", "importance": -0.3}, {"word": "mess", "importance": -0.9}]',
    '{"result": [["wonderful", 0.9], ["boring", -0.8], ["but", -0.3], ["mess", -0.9]]}',
    "（“wonderful”，0.9）（“boring”，−0.8）（‘but’，-0.3）（「mess」，-0.9）",
    "wonderful: 0.9\nboring: -0.8\nbut: -0.3\nmess: -0.9",
    "wonderful: 0.9, boring: -0.8, but: -0.3, mess: -0.9",
    "Here are my scores:\n1. wonderful -> 0.9\n2. boring -> -0.8\n3. but => -0.3\n4. mess → -0.9",
    "- **wonderful** (0.9)\n- **boring** (-0.8)\n- *but* (-0.3)\n- mess (-0.9)",
    "| word | importance |\n|------|-----------|\n| wonderful | 0.9 |\n| boring | -0.8 |\n"
    "| but | -0.3 |\n| mess | -0.9 |",
    "<think>\nThe user wants [tuples].\n</think>\n\n(wonderful, 0.9), (boring, -0.8), "
    "(but, -0.3), (mess, -0.9)",
    "wonderful：０.９；boring：-0.8；but：-0.3；mess：-0.9。",
])
def test_parse_word_scores_reads_messy_replies(text):
    assert homework.parse_word_scores(text) == FOUR


def test_parse_word_scores_missing_numbers_quotes_and_percentages():
    assert homework.parse_word_scores('[("great", 0.5), ("dull",), "mess"]') == [
        ("great", 0.5), ("dull", None), ("mess", None)]
    assert homework.parse_word_scores("('didn't', -0.5), ('great', 90%), ('fine',)") == [
        ("didn't", -0.5), ("great", 0.9), ("fine", None)]
    assert homework.parse_word_scores("- great: 0.8\n- boring\nThe rest is neutral.") == [
        ("great", 0.8), ("boring", None)]
    assert homework.parse_word_scores("（“很好”，0.8）（“无聊”，−0.6）。") == [
        ("很好", 0.8), ("无聊", -0.6)]
    assert homework.parse_word_scores("great: 0.9.") == [("great", 0.9)]  # a full stop after


@pytest.mark.parametrize("text", ["", "I cannot rate single words, sorry.", "[1, 2, 3]"])
def test_parse_word_scores_finds_nothing_in_prose(text):
    assert homework.parse_word_scores(text) == []


def test_word_scores_joins_word_pieces_and_drops_specials():
    pairs = [("[CLS]", 0.0), ("the", 0.1), ("act", 0.2), ("##ing", 0.3), (",", -0.1),
             ("[SEP]", 0.0)]
    assert homework.word_scores(pairs) == [("the", 0.1), ("acting", pytest.approx(0.5)),
                                           (",", -0.1)]
    assert homework.word_scores([("▁The", 0.1), ("▁act", 0.2), ("ing", 0.3), ("</s>", 1)]) == [
        ("The", 0.1), ("acting", pytest.approx(0.5))]


def test_compare_word_scores_matches_words_and_averages_repeats():
    table = homework.compare_word_scores(
        [("Boring!", -0.8), ("great", 0.9), ("missing", 0.1), ("dull", None)],
        [("the", 0.0), ("boring", -0.5), ("great", 0.2), ("the", 0.4)])
    assert list(table.index) == ["Boring!", "great", "missing"]
    assert table.loc["great", "measured"] == pytest.approx(0.2)
    assert math.isnan(table.loc["missing", "measured"])
    repeated = homework.compare_word_scores([("the", 0.1)], [("the", 0.0), ("the", 0.4)])
    assert repeated.loc["the", "measured"] == pytest.approx(0.2)


def test_rank_correlation():
    assert homework.rank_correlation([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert homework.rank_correlation([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert homework.rank_correlation([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert homework.rank_correlation([1, 2, float("nan"), 3], [1, 2, 5, 3]) == pytest.approx(1)
    assert homework.rank_correlation([1, 1, 2], [1, 2, 3]) == pytest.approx(math.sqrt(3) / 2)
    assert math.isnan(homework.rank_correlation([1], [2]))
    assert math.isnan(homework.rank_correlation([1, 1], [2, 3]))


# --------------------------------------------------------------------------- the registry


def test_questions_and_unknown_id():
    assert homework.list_questions() == [f"q{i}" for i in range(1, 9)]
    for qid in homework.list_questions():
        question = homework.get_question(qid)
        assert set(question.text) == set(question.hint) == {"en", "zh"}
    with pytest.raises(KeyError) as caught:
        homework.check("q99", "x")
    assert isinstance(caught.value, UnknownQuestionError)
    assert isinstance(caught.value, ExplainLabError)
    assert str(caught.value) == ("Unknown question 'q99'. Questions: "
                                 "q1, q2, q3, q4, q5, q6, q7, q8.")


def test_no_answer_yet_computes_nothing(monkeypatch, capsys):
    def forbidden(*_):
        raise AssertionError("no answer: nothing should be computed")

    monkeypatch.setattr(homework, "_expected", forbidden)
    assert homework.check("q1", None) is False
    out = capsys.readouterr().out
    assert "q1: no answer yet" in out and "q1：还没有作答" in out
    assert homework.check("q4", None, lang="zh") is False
    assert capsys.readouterr().out.strip() == (
        "q4：还没有作答。把 None 换成你的答案，再运行一次这个单元格。")
    with pytest.raises(ValueError, match="Unknown language"):
        homework.check("q1", None, lang="fr")


# --------------------------------------------------------------------------- comparison rules


@pytest.fixture
def fixed(monkeypatch):
    """``check`` against a fixed expected answer (no model)."""
    answers = {"q1": Expected("token", (("▁我", 0.1), ("机器", 0.6), ("</s>", 0.597))),
               "q4": Expected("number", value=0.0633),
               "q7": Expected("token", (("[CLS]", 0.2), ("the", 0.1), ("cat", 0.6), ("the", 0.1)))}
    monkeypatch.setattr(homework, "_expected", lambda qid: answers[qid])
    return answers


@pytest.mark.parametrize(("qid", "answer", "right"), [
    ("q1", "机器", True), ("q1", " ▁机器 ", True), ("q1", "'机器'", True),
    ("q1", "</S>", True),  # within TIE_MARGIN of the top score
    ("q1", ("机器", 0.6), True), ("q1", "我", False), ("q1", "machine", False),
    ("q4", 0.0633, True), ("q4", 0.07, True), ("q4", "0.06", True), ("q4", 0.08, False),
    ("q4", "about 0.06", False), ("q4", True, False),
    ("q7", "CAT", True), ("q7", "Ġcat", True), ("q7", "the", False), ("q7", "[cls]", False),
])
def test_check_compares_robustly(fixed, capsys, qid, answer, right):
    assert homework.check(qid, answer, lang="en") is right
    out = capsys.readouterr().out
    assert out.startswith(f"✓ {qid}: right" if right else f"✗ {qid}: not quite. Hint:")


def test_wrong_answers_get_hints_in_both_languages(fixed, capsys):
    homework.check("q1", "我")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "✗ q1: not quite. Hint: " + homework.get_question("q1").hint["en"]
    assert out[1] == "✗ q1：不对。提示：" + homework.get_question("q1").hint["zh"]
    homework.check("q1", "machine", lang="en")
    out = capsys.readouterr().out
    assert "'machine' is not one of the tokens in question; they are: ▁我, 机器, </s>." in out
    homework.check("q7", "dog", lang="zh")
    assert "候选有：[CLS], the, cat。" in capsys.readouterr().out  # each token once
    homework.check("q4", "lots", lang="en")
    assert "'lots' is not a number" in capsys.readouterr().out


# --------------------------------------------------------------------------- on the twins


@pytest.fixture
def offline(monkeypatch):
    """The offline profile with the shared twin cache (twins are built once)."""
    monkeypatch.setenv("EXPLAINLAB_PROFILE", "offline")
    monkeypatch.setenv("EXPLAINLAB_HOME", str(TWIN_HOME))
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import explainlab

    return explainlab.resolve


def _column(sequence, name: str):
    """(row tokens, scores) of the aggregated column whose cleaned token is ``name``."""
    from explainlab import clean_tokens

    aggregated = sequence.aggregate()
    start = aggregated.attr_pos_start
    generated = clean_tokens([t.token for t in aggregated.target])
    column = generated.index(name, start) - start
    if aggregated.source_attributions is not None:
        rows = clean_tokens([t.token for t in aggregated.source])
        scores = aggregated.source_attributions[:, column]
    else:
        rows = generated[: start + column]
        scores = aggregated.target_attributions[: start + column, column]
    return rows, scores.tolist()


def _top(rows, scores):
    return rows[max(range(len(scores)), key=scores.__getitem__)]


def _others(rows, right):
    return next(r for r in rows if r != right)


@pytest.mark.slow
def test_translator_questions_on_the_twin(offline, capsys):
    import inseq

    model = inseq.load_model(offline("mt-zh-en"), "saliency",
                             model_kwargs={"attn_implementation": "eager"})
    saliency = model.attribute(homework.MT_SENTENCE, show_progress=False)
    attention = model.attribute(homework.MT_SENTENCE, method="attention", show_progress=False)
    rows, scores = _column(saliency.sequence_attributions[0], "machine")
    assert _top(rows, scores) == "机器"  # the twin's card: saliency finds the aligned word
    assert homework.check("q1", "机器") and not homework.check("q1", "学习")
    learning_rows, learning = _column(saliency.sequence_attributions[0], "learning")
    value = learning[learning_rows.index("学习")]
    assert homework.check("q2", round(value, 3)) and homework.check("q2", str(value + 0.009))
    assert not homework.check("q2", value + 0.02)
    rows, scores = _column(attention.sequence_attributions[0], "machine")
    assert homework.check("q3", _top(rows, scores))
    assert not homework.check("q3", _others(rows, _top(rows, scores)))
    out = capsys.readouterr().out
    assert out.count("right!") == 4 and out.count("not quite") == 3


@pytest.mark.slow
def test_completion_questions_on_the_twin(offline, capsys):
    import inseq

    model = inseq.load_model(offline("lm-gpt2"), "saliency",
                             model_kwargs={"attn_implementation": "eager"})
    text = homework.LM_PROMPT + homework.LM_TARGET
    saliency = model.attribute(homework.LM_PROMPT, text, show_progress=False)
    attention = model.attribute(homework.LM_PROMPT, text, method="attention",
                                show_progress=False)
    rows, scores = _column(saliency.sequence_attributions[0], "Washington")
    america = scores[rows.index("America")]
    assert homework.check("q4", america) and not homework.check("q4", america + 0.05)
    rows, scores = _column(saliency.sequence_attributions[0], "George")
    assert rows == ["The", "first", "president", "of", "America", "is"]
    assert homework.check("q5", " " + _top(rows, scores).upper())
    assert not homework.check("q5", _others(rows, _top(rows, scores)))
    rows, scores = _column(attention.sequence_attributions[0], "George")
    assert homework.check("q6", _top(rows, scores))
    out = capsys.readouterr().out
    assert out.count("right!") == out.count("答对了") == 3


@pytest.mark.slow
def test_bertviz_question_on_the_twin(offline):
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = offline("bertviz")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path, attn_implementation="eager")
    inputs = tokenizer(homework.BERTVIZ_TEXT, return_tensors="pt")
    with torch.no_grad():
        weights = model(**inputs, output_attentions=True).attentions[0][0, 2]
    tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
    top = tokens[int(weights[tokens.index("sat")].argmax())]
    assert homework.check("q7", top)
    assert not homework.check("q7", next(t for t in tokens if t not in (top, "sat")))


@pytest.mark.slow
def test_classification_question_on_the_twin(offline):
    """Integrated gradients with Captum directly (not the package's explainer)."""
    import torch
    from captum.attr import LayerIntegratedGradients
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = offline("sst2")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    ids = tokenizer(homework.SST2_TEXT, return_tensors="pt")["input_ids"]
    special = torch.tensor(tokenizer.get_special_tokens_mask(
        ids[0].tolist(), already_has_special_tokens=True), dtype=torch.bool)
    baseline = torch.where(special, ids[0], tokenizer.pad_token_id).unsqueeze(0)
    positive = model.config.label2id["POSITIVE"]

    def probability(input_ids):
        return torch.softmax(model(input_ids=input_ids).logits, -1)

    lig = LayerIntegratedGradients(probability, model.get_input_embeddings())
    scores = lig.attribute(ids, baselines=baseline, target=positive, n_steps=50).sum(-1)[0]
    tokens = tokenizer.convert_ids_to_tokens(ids[0])
    ranked = sorted((s, t) for s, t, sp in zip(scores.tolist(), tokens, special.tolist(),
                                           strict=True)
                    if not sp)
    assert homework.check("q8", ranked[-1][1])
    assert not homework.check("q8", ranked[0][1])


def test_expected_answers_follow_the_profile(monkeypatch):
    """The cache is keyed by what resolve() returns, so a profile switch recomputes."""
    seen = []

    def compute(path):
        seen.append(path)
        return Expected("token", ((os.path.basename(path), 1.0),))

    question = homework.Question("qtest", "sst2", "token", {"en": "", "zh": ""},
                                 {"en": "", "zh": ""}, compute)
    monkeypatch.setitem(homework._QUESTIONS, "qtest", question)
    monkeypatch.setattr("explainlab.models.resolve", lambda role: f"/models/{role}-a")
    assert homework.check("qtest", "sst2-a")
    assert homework.check("qtest", "sst2-a")
    monkeypatch.setattr("explainlab.models.resolve", lambda role: f"/models/{role}-b")
    assert homework.check("qtest", "sst2-b")
    assert seen == ["/models/sst2-a", "/models/sst2-b"]
