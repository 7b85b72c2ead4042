"""explainlab.homework (lesson 05_homework): the answer parser, the comparison helpers, the
judges and their mistakes, and ``check`` against answers computed here, independently (the
code a learner writes), on the offline twins."""

from __future__ import annotations

import math

import pytest

from explainlab import homework
from explainlab.errors import ExplainLabError, UnknownQuestionError
from explainlab.homework import answers, questions

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
    ids = homework.list_questions()
    assert ids == [f"q{i}" for i in range(1, len(ids) + 1)] and len(ids) >= 8
    for qid in ids:
        question = homework.get_question(qid)
        assert set(question.text) == set(question.hint) == {"en", "zh"}
        assert all(set(hint) == {"en", "zh"} for hint in question.mistakes.values())
        assert question.kind in ("token", "number", "rank")
    with pytest.raises(KeyError) as caught:
        homework.check("q99", "x")
    assert isinstance(caught.value, UnknownQuestionError)
    assert isinstance(caught.value, ExplainLabError)
    assert str(caught.value) == f"Unknown question 'q99'. Questions: {', '.join(ids)}."


def test_no_answer_yet_computes_nothing(monkeypatch, capsys):
    def forbidden():
        raise AssertionError("no answer: nothing should be computed")

    monkeypatch.setitem(questions._JUDGES, "q1", forbidden)
    questions._judge.cache_clear()
    assert homework.check("q1", None) is False
    out = capsys.readouterr().out
    assert "q1: no answer yet" in out and "q1：还没有作答" in out
    assert homework.check("q4", None, lang="zh") is False
    assert capsys.readouterr().out.strip() == (
        "q4：还没有作答。把 None 换成你的答案，再运行一次这个单元格。")
    with pytest.raises(ValueError, match="Unknown language"):
        homework.check("q1", None, lang="fr")


def test_a_verdict_carries_no_expected_answer(monkeypatch):
    """What the package hands out about a question: its text, hints and a verdict; the
    expected value stays inside the judge."""
    monkeypatch.setitem(questions._JUDGES, "q2",
                        lambda: answers.number_judge(0.4321, tolerance=0.005))
    questions._judge.cache_clear()
    result = homework.verdict("q2", 0.1)
    assert vars(result) == {"question": "q2", "right": False, "reason": "wrong"}
    question = homework.get_question("q2")
    assert "0.43" not in repr(question) and not hasattr(homework, "_expected")
    assert not any(name.lower().startswith(("answer_of", "expected", "solution"))
                   for name in dir(homework))
    questions._judge.cache_clear()


# --------------------------------------------------------------------------- judges


def test_number_judge_names_the_mistake():
    import numpy as np
    import torch

    judge = answers.number_judge(0.1, tolerance=0.005, mistakes={
        "attention": 0.3, "step": [0.5, 0.7], "too_close": 0.103, "absent": None})
    assert [judge(a) for a in (0.1, "0.104", np.float32(0.099), torch.tensor(0.1))] == [
        "right"] * 4
    assert judge(0.3) == "attention" and judge(0.702) == "step" and judge(0.5) == "step"
    assert judge(0.103) == "right"  # a mistake too close to the answer is no mistake
    assert judge(0.9) == "wrong" and judge("about 0.1") == "not_number"
    assert judge(True) == "not_number" and judge(float("nan")) == "not_number"
    rank = answers.number_judge(3, tolerance=0.0, mistakes={"zero_based": 2})
    assert rank(3) == rank(3.0) == "right" and rank(2) == "zero_based" and rank(4) == "wrong"


def test_token_judge_ties_raw_tokens_and_mistakes():
    judge = answers.token_judge([("▁我", 0.1), ("机器", 0.6), ("</s>", 0.597), ("学习", 0.2)],
                                {"attention": {"▁我"}, "same": {"机器"}})
    assert [judge(a) for a in ("机器", " ▁机器 ", "'机器'", "</S>", ("机器", 0.6))] == [
        "right"] * 5
    assert judge("我") == "attention"  # the mistake, as the learner writes it
    assert judge("学习") == "wrong" and judge("machine") == "not_candidate"
    assert judge("æľºåĻ¨") == "uncleaned"  # byte-level letters left in
    assert answers.looks_uncleaned("##ing") and not answers.looks_uncleaned("机器")


def test_rank_of_counts_from_one_and_shares_ties():
    scores = [("a", 0.5), ("b", 0.2), ("c", 0.2), ("d", float("nan")), ("e", 0.1)]
    assert [answers.rank_of(scores, t) for t in "abce"] == [1, 2, 2, 4]
    with pytest.raises(LookupError, match="No token 'z'"):
        answers.rank_of(scores, "z")


def test_check_prints_the_mistake_and_the_hint_in_both_languages(monkeypatch, capsys):
    monkeypatch.setitem(questions._JUDGES, "q2", lambda: answers.number_judge(
        0.2, tolerance=0.005, mistakes={"attention": 0.6, "transposed": 0.05}))
    questions._judge.cache_clear()
    question = homework.get_question("q2")
    assert homework.check("q2", 0.6) is False
    out = capsys.readouterr().out.splitlines()
    mistake = question.mistakes["attention"]
    assert out == ["✗ q2: not quite. Hint: " + mistake["en"] + " " + question.hint["en"],
                   "✗ q2：不对。提示：" + mistake["zh"] + question.hint["zh"]]
    homework.check("q2", "lots", lang="en")
    assert "'lots' is not a number" in capsys.readouterr().out
    assert homework.check("q2", 0.2, lang="zh") is True
    assert capsys.readouterr().out == "✓ q2：答对了！\n"
    questions._judge.cache_clear()


def test_judges_are_built_once_per_profile(monkeypatch):
    built = []
    monkeypatch.setitem(questions._JUDGES, "q8", lambda: built.append(1) or (lambda a: "right"))
    questions._judge.cache_clear()
    for profile in ("offline", "offline", "hub"):
        monkeypatch.setenv("EXPLAINLAB_PROFILE", profile)
        assert homework.verdict("q8", 1.0).right
    assert len(built) == 2
    questions._judge.cache_clear()


# --------------------------------------------------------------------------- on the twins


@pytest.fixture
def offline(monkeypatch):
    """The offline profile with the shared twin cache (twins are built once)."""
    monkeypatch.setenv("EXPLAINLAB_PROFILE", "offline")
    monkeypatch.setenv("EXPLAINLAB_HOME", str(TWIN_HOME))
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import explainlab

    return explainlab.resolve


def _column(sequence, name: str) -> dict[str, float]:
    """Row token -> score in the aggregated column whose cleaned token is ``name``."""
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
    return dict(zip(rows, scores.tolist(), strict=True))


def _top(column: dict[str, float]) -> str:
    return max(column, key=column.get)


def _reason(qid: str, answer) -> str:
    return homework.verdict(qid, answer).reason


def _mistake(qid: str, answer, name: str, *, right: float | None = None) -> bool:
    """The answer is judged as the mistake ``name``, or as another mistake of the question
    whose number happens to coincide with it on this machine's twin, or (given the ``right``
    number) as right where the two numbers coincide within the tolerance: the judge cannot
    tell them apart, and then the right answer wins."""
    reason = _reason(qid, answer)
    same = right is not None and abs(answer - right) <= homework.NUMBER_TOLERANCE
    return reason == name or reason in homework.get_question(qid).mistakes or (
        same and reason == "right")


@pytest.mark.slow
def test_translator_questions_on_the_twin(offline):
    import inseq

    model = inseq.load_model(offline("mt-zh-en"), "saliency",
                             model_kwargs={"attn_implementation": "eager"})
    tables = {(text, method): model.attribute(text, method=method, show_progress=False)
              .sequence_attributions[0]
              for text in ("我喜歡機器學習和人工智慧。", "我喜欢机器学习和人工智能。")
              for method in ("saliency", "attention")}
    saliency = tables["我喜歡機器學習和人工智慧。", "saliency"]
    attention = tables["我喜歡機器學習和人工智慧。", "attention"]
    simplified = tables["我喜欢机器学习和人工智能。", "saliency"]
    assert _reason("q1", _top(_column(saliency, "intelligence"))) == "right"
    assert _mistake("q1", _top(_column(simplified, "intelligence")), "simplified") or (
        _reason("q1", _top(_column(simplified, "intelligence"))) == "right")  # same top token
    value = _column(saliency, "learning")["和"]
    assert _reason("q2", round(value, 3)) == "right" and _reason("q2", value - 1) == "wrong"
    assert _mistake("q2", _column(attention, "learning")["和"], "attention", right=value)
    assert _mistake("q2", _column(saliency, "and")["和"], "step", right=value)
    difference = _column(attention, "I")["我"] - _column(saliency, "I")["我"]
    assert _reason("q3", difference) == "right" and _mistake("q3", -difference, "sign")
    machine = _column(attention, "machine")
    rank = 1 + sum(score > machine["和"] for score in machine.values())
    assert _reason("q4", rank) == "right" and _mistake("q4", rank - 1, "zero_based")


@pytest.mark.slow
def test_completion_questions_on_the_twin(offline):
    import inseq

    model = inseq.load_model(offline("lm-gpt2"), "saliency",
                             model_kwargs={"attn_implementation": "eager"})
    prompt = "The first president of America is"
    text = prompt + " George Washington"
    saliency = model.attribute(prompt, text, show_progress=False).sequence_attributions[0]
    attention = model.attribute(prompt, text, method="attention",
                                show_progress=False).sequence_attributions[0]
    america = _column(saliency, "Washington")["America"]
    assert _reason("q5", america) == "right" and _reason("q5", america - 1) == "wrong"
    assert _mistake("q5", _column(saliency, "George")["America"], "step")
    george = _column(attention, "George")
    assert list(george) == ["The", "first", "president", "of", "America", "is"]
    assert _reason("q6", " " + _top(george).upper()) == "right"
    assert _reason("q6", "Ġ" + _top(george)) == "right"


@pytest.mark.slow
def test_bertviz_question_on_the_twin(offline):
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = offline("bertviz")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path, attn_implementation="eager")
    inputs = tokenizer("The cat sat on the mat", return_tensors="pt")
    with torch.no_grad():
        weights = model(**inputs, output_attentions=True).attentions[0][0, 2]
    tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
    sat = tokens.index("sat")
    assert _reason("q7", tokens[int(weights[sat].argmax())]) == "right"
    assert tokens[int(weights[sat].argmax())] == "cat"  # the twin's previous-token head
    assert _mistake("q7", tokens[int(weights[:, sat].argmax())], "transposed")


@pytest.mark.slow
def test_classification_question_on_the_twin(offline):
    """Integrated gradients with Captum directly (not the package's explainer)."""
    import torch
    from captum.attr import LayerIntegratedGradients
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = offline("sst2")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    ids = tokenizer("I love you, I like you", return_tensors="pt")["input_ids"]
    special = torch.tensor(tokenizer.get_special_tokens_mask(
        ids[0].tolist(), already_has_special_tokens=True), dtype=torch.bool)
    baseline = torch.where(special, ids[0], tokenizer.pad_token_id).unsqueeze(0)

    def probability(input_ids):
        return torch.softmax(model(input_ids=input_ids).logits, -1)

    lig = LayerIntegratedGradients(probability, model.get_input_embeddings())
    tokens = tokenizer.convert_ids_to_tokens(ids[0])
    like = {}
    for name in ("NEGATIVE", "POSITIVE"):
        scores = lig.attribute(ids, baselines=baseline, target=model.config.label2id[name],
                               n_steps=50).sum(-1)[0]
        like[name] = scores[tokens.index("like")] / scores.norm()
    assert _reason("q8", float(like["NEGATIVE"])) == "right"
    assert _mistake("q8", float(like["POSITIVE"]), "other_class")


@pytest.mark.slow
def test_task2_questions_on_the_twin(offline):
    """q9 and q10 from the lesson's public pieces; the Spearman correlation with SciPy."""
    from scipy.stats import spearmanr
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from explainlab.homework import self_explanation as se

    path = offline("lm")
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    before = se.label_probabilities(model, tokenizer, se.REVIEW)
    label = max(before, key=before.get)
    _, claimed, source = se.self_report(model, tokenizer, se.REVIEW)
    measured = se.attribute_answer(model, tokenizer, se.REVIEW)
    assert (label, source) == ("Negative", "model output")

    def after(ranking, k):
        deleted = se.delete_words(se.REVIEW, ranking[:k])
        return se.label_probabilities(model, tokenizer, deleted)[label]

    attributed = se.rank_towards(measured, label)
    reported = se.rank_towards(claimed, label)
    drop = before[label] - after(attributed, 2)
    assert _reason("q9", round(100 * drop, 1)) == "right"
    assert _reason("q9", 100 * drop + 5) == "wrong"
    assert _mistake("q9", 100 * after(attributed, 2), "after")
    assert _mistake("q9", drop, "probability") or _reason("q9", drop) == "right"  # drop ~ 0
    k3 = 100 * (before[label] - after(attributed, 3))
    assert _mistake("q9", k3, "k3") or _reason("q9", k3) == "right"  # the same drop
    reported_drop = 100 * (before[label] - after(reported, 2))
    assert _mistake("q9", reported_drop, "self_report") or (
        _reason("q9", reported_drop) == "right")  # the same words

    named = dict(claimed)
    words = [word for word, _ in measured if named.get(word) is not None]
    sizes = spearmanr([abs(named[w]) for w in words], [abs(dict(measured)[w]) for w in words])
    signed = spearmanr([named[w] for w in words], [dict(measured)[w] for w in words])
    assert len(words) >= 3
    assert _reason("q10", float(sizes.statistic)) == "right"
    assert _mistake("q10", float(signed.statistic), "signed") or (
        abs(signed.statistic - sizes.statistic) <= homework.NUMBER_TOLERANCE)


@pytest.mark.slow
def test_task3_questions_on_the_twin(offline):
    """q11 and q12 with the package's public pieces, as a learner writes them."""
    from transformers import (
        AutoModelForCausalLM,
        AutoModelForSequenceClassification,
        AutoTokenizer,
    )

    from explainlab import evaluate
    from explainlab.explain import SequenceClassificationExplainer

    path = offline("sst2")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    explainer = SequenceClassificationExplainer(model, tokenizer)

    def metrics(text, signed=True):
        _, _, scorer = evaluate.classifier_scorer(model, tokenizer, text)
        scores = [s for _, s in explainer(text)[1:-1]]
        return evaluate.faithfulness(evaluate.perturbation_curves(
            scorer, evaluate.ranking(scores, signed=signed)))

    review = metrics("This movie was a complete waste of time.")
    assert _reason("q11", round(review["AOPC"], 3)) == "right"
    assert _reason("q11", review["AOPC"] + 0.05) == "wrong"
    assert _mistake("q11", review["comprehensiveness"], "comprehensiveness")
    assert _mistake("q11", metrics("I love you, I like you")["AOPC"], "example")
    unsigned = metrics("This movie was a complete waste of time.", signed=False)["AOPC"]
    assert _mistake("q11", unsigned, "unsigned") or _reason("q11", unsigned) == "right"

    path = offline("lm")
    lm = AutoModelForCausalLM.from_pretrained(path).eval()
    lm_tokenizer = AutoTokenizer.from_pretrained(path)
    berlin, tokyo = (lm_tokenizer(w)["input_ids"][0] for w in (" Berlin", " Tokyo"))
    frame = evaluate.patch_residual(lm, lm_tokenizer, "The capital of Germany is",
                                    "The capital of Japan is",
                                    lambda logits: logits[:, berlin] - logits[:, tokyo])
    assert frame.attrs["clean"] > 0 > frame.attrs["corrupted"]
    assert _reason("q12", float(frame.loc["block 0", "is"])) == "right"
    assert _mistake("q12", float(frame.loc["embeddings", "is"]), "embeddings")
    assert _mistake("q12", float(frame.loc["block 0", "Japan"]), "country")
