"""The homework's questions: what each asks, its hint, and the mistakes it recognises.

Every question is answered with the learner's own code in lesson 05_homework: the lesson
shows how on another input, method or step, and the question asks for a number that is not
printed above it. ``judge(qid)`` computes the expected answer from the model of the active
profile (``_models``) and returns a judge that keeps it to itself. Introduced in lesson
05_homework.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from ..errors import UnknownQuestionError
from . import _models as models
from .answers import Judge, number_judge, rank_of, token_judge, top_tokens

NUMBER_TOLERANCE = 0.005
"""A number within this distance of the expected one is right."""


@dataclass(frozen=True)
class Question:
    """One question: its role, kind (``"token"``, ``"number"`` or ``"rank"``), its text and
    hint in both languages, and the hints for the mistakes it recognises (``mistakes``:
    name -> {language: hint})."""

    qid: str
    role: str
    kind: str
    text: dict[str, str]
    hint: dict[str, str]
    mistakes: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def tolerance(self) -> float:
        """How far a number may be from the expected one (0 for a rank)."""
        return {"number": NUMBER_TOLERANCE, "rank": 0.0}.get(self.kind, 0.0)


_QUESTIONS: dict[str, Question] = {}
_JUDGES: dict[str, Callable[[], Judge]] = {}


def _question(question: Question):
    """Register ``question``; decorates the function that builds its judge."""
    def register(build: Callable[[], Judge]) -> Callable[[], Judge]:
        _QUESTIONS[question.qid] = question
        _JUDGES[question.qid] = build
        return build
    return register


def list_questions() -> list[str]:
    """The ids of every question, in order (``q1``, ``q2``, ...). Introduced in lesson
    05_homework."""
    return sorted(_QUESTIONS, key=lambda qid: (len(qid), qid))


def get_question(qid: str) -> Question:
    """The question ``qid`` (its text and hints; never its answer).

    Raises:
        UnknownQuestionError: (a ``KeyError``) the id is unknown; the message lists the ids.
    """
    try:
        return _QUESTIONS[qid]
    except (KeyError, TypeError):
        raise UnknownQuestionError(
            f"Unknown question {qid!r}. Questions: {', '.join(list_questions())}.") from None


def judge(qid: str) -> Judge:
    """The judge of ``qid`` on the active profile's models (built once per process and
    profile)."""
    from ..notebook import check_profile

    get_question(qid)
    return _judge(qid, check_profile())


@cache
def _judge(qid: str, profile: str) -> Judge:
    return _JUDGES[qid]()


# --------------------------------------------------------------------------- shared hints

_TRADITIONAL = {"en": "Attribute the traditional sentence (TRADITIONAL), not the simplified "
                      "one the lesson shows: the tokens and the scores differ.",
                "zh": "要归因的是繁体句子（TRADITIONAL），不是课上演示的简体句子："
                      "词元和分数都不一样。"}
_STEP = {"en": "That is the score at another generated token: take the column of the token "
               "the question names.",
         "zh": "这是另一个生成词元那一步的分数：请取题目所说的那个生成词元的列。"}
_TRANSPOSED = {"en": "Row and column are swapped: the rows are the source tokens, the "
                     "columns the generated tokens (table.loc[source, generated]).",
               "zh": "行和列读反了：行是源语言词元，列是生成的词元"
                     "（table.loc[源词元, 生成词元]）。"}
_ATTENTION_FOR_SALIENCY = {"en": "That is the attention weight; the question asks for "
                                 "saliency (the default method of the Inseq model).",
                           "zh": "这是注意力权重；题目问的是显著性（saliency，"
                                 "Inseq 模型的默认方法）。"}
_SALIENCY_FOR_ATTENTION = {"en": "That is the saliency answer; the question asks about "
                                 "attention (method=\"attention\").",
                           "zh": "这是显著性的答案；题目问的是注意力（method=\"attention\"）。"}


def _hints(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh": zh}


# --------------------------------------------------------------------------- Task 1a


@_question(Question(
    "q1", "mt-zh-en", "token",
    _hints("Translator, saliency, HW7's sentence in traditional characters: which source "
           "token gets the highest score when the model generates 'intelligence'?",
           "翻译模型，显著性，HW7 的繁体句子：生成 “intelligence” 时，哪个源语言词元"
           "得分最高？"),
    _hints("Attribute TRADITIONAL with saliency, make a table with scores_table, and take "
           "the row with the largest value in the column 'intelligence' (idxmax).",
           "用显著性归因 TRADITIONAL，用 scores_table 做成表格，在 “intelligence” 这一列里"
           "取数值最大的那一行（idxmax）。"),
    {"simplified": _TRADITIONAL, "attention": _ATTENTION_FOR_SALIENCY, "step": _STEP}))
def _q1() -> Judge:
    tables = models.translator_tables()
    saliency = tables["traditional"]["saliency"]
    at = models.column_index(saliency, "intelligence")
    neighbours = [saliency.iloc[:, i] for i in (at - 1, at + 1) if 0 <= i < saliency.shape[1]]
    return token_judge(models.pairs(saliency.iloc[:, at]), {
        "simplified": top_tokens(models.pairs(
            models.column(tables["simplified"]["saliency"], "intelligence"))),
        "attention": top_tokens(models.pairs(
            models.column(tables["traditional"]["attention"], "intelligence"))),
        "step": set().union(*(top_tokens(models.pairs(c)) for c in neighbours)),
    })


@_question(Question(
    "q2", "mt-zh-en", "number",
    _hints("Translator, saliency, traditional sentence: what is the score of the source token "
           "和 when the model generates 'learning'?",
           "翻译模型，显著性，繁体句子：生成 “learning” 时，源语言词元 “和” 的得分是多少？"),
    _hints(f"Read your saliency table at row 和, column 'learning'. Any number within "
           f"±{NUMBER_TOLERANCE} counts.",
           f"在你的显著性表格里读 “和” 这一行、“learning” 这一列。与正确值相差不超过 "
           f"±{NUMBER_TOLERANCE} 都算对。"),
    {"simplified": _TRADITIONAL, "attention": _ATTENTION_FOR_SALIENCY,
     "transposed": _TRANSPOSED, "step": _STEP}))
def _q2() -> Judge:
    tables = models.translator_tables()
    saliency = tables["traditional"]["saliency"]
    row, col = models.row_index(saliency, "和"), models.column_index(saliency, "learning")
    return number_judge(saliency.iat[row, col], tolerance=NUMBER_TOLERANCE, mistakes={
        "simplified": models.cell(tables["simplified"]["saliency"], "和", "learning"),
        "attention": models.cell(tables["traditional"]["attention"], "和", "learning"),
        "transposed": (saliency.iat[col, row] if col < saliency.shape[0]
                       and row < saliency.shape[1] else None),
        "step": [saliency.iat[row, c] for c in (col - 1, col + 1) if 0 <= c < saliency.shape[1]],
    })


@_question(Question(
    "q3", "mt-zh-en", "number",
    _hints("Translator, traditional sentence, the source token 我 when the model generates "
           "'I': what is its attention weight minus its saliency score?",
           "翻译模型，繁体句子，生成 “I” 时的源语言词元 “我”：它的注意力权重减去显著性得分，"
           "等于多少？"),
    _hints("Attribute TRADITIONAL twice, with saliency and with method=\"attention\", read "
           "the same cell (row 我, column 'I') in both tables and subtract: "
           "attention − saliency.",
           "对 TRADITIONAL 归因两次：显著性一次，method=\"attention\" 一次。在两张表里读同一格"
           "（“我” 行、“I” 列），再相减：注意力 − 显著性。"),
    {"sign": _hints("The sign is the other way round: attention minus saliency, not saliency "
                    "minus attention.",
                    "正负号反了：是注意力减显著性，不是显著性减注意力。"),
     "attention": _hints("That is the attention weight alone: subtract the saliency score.",
                         "这只是注意力权重：还要减去显著性得分。"),
     "saliency": _hints("That is the saliency score alone: take the attention weight minus it.",
                        "这只是显著性得分：要用注意力权重减去它。"),
     "simplified": _TRADITIONAL}))
def _q3() -> Judge:
    tables = models.translator_tables()
    attention, saliency = (models.cell(tables["traditional"][m], "我", "I")
                           for m in ("attention", "saliency"))
    simplified = [models.cell(tables["simplified"][m], "我", "I")
                  for m in ("attention", "saliency")]
    return number_judge(attention - saliency, tolerance=NUMBER_TOLERANCE, mistakes={
        "sign": saliency - attention, "attention": attention, "saliency": saliency,
        "simplified": simplified[0] - simplified[1]})


@_question(Question(
    "q4", "mt-zh-en", "rank",
    _hints("Translator, attention, traditional sentence: when the model generates 'machine', "
           "what is the rank of the source token 和 (1 = the most weight)?",
           "翻译模型，注意力，繁体句子：生成 “machine” 时，源语言词元 “和” 排第几"
           "（权重最大的排第 1）？"),
    _hints("Rank the column 'machine' of your attention table from the largest weight down, "
           "starting at 1: rank(ascending=False, method=\"min\"), and read the row 和.",
           "把注意力表格的 “machine” 列从大到小排名，从 1 数起："
           "rank(ascending=False, method=\"min\")，再读 “和” 这一行。"),
    {"saliency": _SALIENCY_FOR_ATTENTION,
     "zero_based": _hints("Ranks here start at 1 for the largest weight, not at 0.",
                          "这里的排名从 1 开始（权重最大的是第 1），不是从 0 开始。"),
     "simplified": _TRADITIONAL}))
def _q4() -> Judge:
    tables = models.translator_tables()

    def rank(spelling: str, method: str) -> int:
        return rank_of(models.pairs(models.column(tables[spelling][method], "machine")), "和")

    right = rank("traditional", "attention")
    return number_judge(right, tolerance=0.0, mistakes={
        "saliency": rank("traditional", "saliency"), "zero_based": right - 1,
        "simplified": rank("simplified", "attention")})


# --------------------------------------------------------------------------- Task 1b


@_question(Question(
    "q5", "lm-gpt2", "number",
    _hints("HW7's example, sentence completion (GPT-2), saliency: 'The first president of "
           "America is' forced to go on with ' George Washington'. When the model generates "
           "'Washington', what is the score of 'America'?",
           "HW7 的例题，句子补全（GPT-2），显著性：“The first president of America is” "
           "强制接上 “ George Washington”。生成 “Washington” 时，“America” 的得分是多少？"),
    _hints("Attribute PROMPT and PROMPT + CONTINUATION (forced decoding) with saliency and "
           f"read row 'America', column 'Washington'. Any number within ±{NUMBER_TOLERANCE} "
           "counts.",
           "用显著性归因 PROMPT 和 PROMPT + CONTINUATION（强制解码），读 “America” 行、"
           f"“Washington” 列。与正确值相差不超过 ±{NUMBER_TOLERANCE} 都算对。"),
    {"attention": _ATTENTION_FOR_SALIENCY, "step": _hints(
        "That is the score at 'George', the first generated token: the question asks about "
        "'Washington', the second.",
        "这是第一个生成词元 “George” 那一步的分数：题目问的是第二个，“Washington”。")}))
def _q5() -> Judge:
    tables = models.completion_tables()
    return number_judge(models.cell(tables["saliency"], "America", "Washington"),
                        tolerance=NUMBER_TOLERANCE, mistakes={
                            "attention": models.cell(tables["attention"], "America",
                                                     "Washington"),
                            "step": models.cell(tables["saliency"], "America", "George")})


@_question(Question(
    "q6", "lm-gpt2", "token",
    _hints("Sentence completion (GPT-2), attention, the same forced continuation: which "
           "prompt token gets the most weight when the model generates 'George'?",
           "句子补全（GPT-2），注意力，同样的强制续写：生成 “George” 时，提示词里哪个词元"
           "得到的权重最大？"),
    _hints("Attribute with method=\"attention\" and take idxmax of the column 'George'. "
           "Decoder-only models often pour attention onto the first token whatever it says: "
           "do not assume the answer is a content word.",
           "用 method=\"attention\" 归因，取 “George” 列的 idxmax。只有解码器的模型常把注意力"
           "倒在第一个词元上，不管它是什么词：别想当然地以为答案是实词。"),
    {"saliency": _SALIENCY_FOR_ATTENTION, "step": _hints(
        "That is the answer at 'Washington': the question asks about 'George'.",
        "这是 “Washington” 那一步的答案：题目问的是 “George”。")}))
def _q6() -> Judge:
    tables = models.completion_tables()
    return token_judge(models.pairs(models.column(tables["attention"], "George")), {
        "saliency": top_tokens(models.pairs(models.column(tables["saliency"], "George"))),
        "step": top_tokens(models.pairs(models.column(tables["attention"], "Washington")))})


# --------------------------------------------------------------------------- Task 1c

BERTVIZ_LAYER, BERTVIZ_HEAD = 0, 2  # counted from 0, as BertViz's menus and colours are


@_question(Question(
    "q7", "bertviz", "token",
    _hints(f"BertViz: in layer {BERTVIZ_LAYER}, head {BERTVIZ_HEAD} (both counted from 0), "
           f"which token does 'sat' attend to most in {models.BERTVIZ_TEXT!r}?",
           f"BertViz：第 {BERTVIZ_LAYER} 层的 {BERTVIZ_HEAD} 号头（层和头都从 0 数起）里，"
           f"{models.BERTVIZ_TEXT!r} 中的 “sat” 最关注哪个词元？"),
    _hints("Take attentions[layer][0, head]: its row of 'sat' (the token that attends) "
           "holds the weights 'sat' gives; [CLS] and [SEP] are candidates too.",
           "取 attentions[layer][0, head]：“sat” 那一行（发出注意力的一方）就是它分给各词元"
           "的权重；[CLS] 和 [SEP] 也算候选。"),
    {"transposed": _hints("That is the token that attends most to 'sat' (its column); the "
                          "question asks where 'sat' itself looks (its row).",
                          "这是最关注 “sat” 的词元（“sat” 那一列）；题目问的是 “sat” 自己看"
                          "向哪里（它那一行）。"),
     "from_one": _hints("Layers and heads are counted from 0, as BertViz counts them: "
                        "attentions[0] is layer 0.",
                        "层和头都从 0 数起，和 BertViz 一样：attentions[0] 就是第 0 层。")}))
def _q7() -> Judge:
    tokens, weights = models.bertviz_attention()
    query = [t.casefold() for t in tokens].index("sat")
    head = weights[BERTVIZ_LAYER, BERTVIZ_HEAD]
    mistakes = {"transposed": top_tokens(zip(tokens, head[:, query].tolist(), strict=True))}
    if BERTVIZ_HEAD >= 1:  # the learner counted heads from 1
        before = weights[BERTVIZ_LAYER, BERTVIZ_HEAD - 1, query]
        mistakes["from_one"] = top_tokens(zip(tokens, before.tolist(), strict=True))
    return token_judge(zip(tokens, head[query].tolist(), strict=True), mistakes)


# --------------------------------------------------------------------------- Task 1d


@_question(Question(
    "q8", "sst2", "number",
    _hints(f"Classification explainer on {models.SST2_TEXT!r}: what is the attribution of "
           "'like' towards the class NEGATIVE?",
           f"分类解释器，输入 {models.SST2_TEXT!r}：“like” 对 NEGATIVE 类的归因是多少？"),
    _hints("Call the explainer with class_name=\"NEGATIVE\" and read the score of 'like' in "
           f"its word_attributions. Any number within ±{NUMBER_TOLERANCE} counts.",
           "调用解释器时传 class_name=\"NEGATIVE\"，在 word_attributions 里读 “like” 的分数。"
           f"与正确值相差不超过 ±{NUMBER_TOLERANCE} 都算对。"),
    {"other_class": _hints("That is the attribution towards POSITIVE, the class the lesson "
                           "shows; pass class_name=\"NEGATIVE\".",
                           "这是对 POSITIVE 类的归因，也就是课上演示的那一类；"
                           "请传 class_name=\"NEGATIVE\"。")}))
def _q8() -> Judge:
    by_class = models.sst2_attributions()

    def like(name: str) -> float:
        return next(s for t, s in by_class[name] if t.casefold() == "like")

    return number_judge(like("NEGATIVE"), tolerance=NUMBER_TOLERANCE,
                        mistakes={"other_class": like("POSITIVE")})


# --------------------------------------------------------------------------- Task 2


@_question(Question(
    "q9", "lm", "number",
    _hints("Task 2, the deletion test with k = 2: by how many percentage points does the "
           "probability of the chat model's answer fall when the top-2 words of the "
           "attribution ranking are deleted from the review?",
           "任务二，删除测试，k = 2：从影评里删掉归因排名前 2 的词后，聊天模型答案的概率下降了"
           "多少个百分点？"),
    _hints("Call deletion_drop with measured_ranking[:2] and label=label (it returns P before "
           "minus P after, as a probability) and multiply by 100. Any number within "
           f"±{100 * NUMBER_TOLERANCE:g} points counts.",
           "用 measured_ranking[:2] 和 label=label 调用 deletion_drop（它返回删除前的概率减去"
           "删除后的概率），再乘以 100。与正确值相差不超过 "
           f"±{100 * NUMBER_TOLERANCE:g} 个百分点都算对。"),
    {"k3": _hints("That is the drop for the top 3 words, which the lesson printed; delete only "
                  "the top 2.",
                  "这是删掉前 3 个词的下降量，课上已经打印过；这次只删前 2 个。"),
     "self_report": _hints("That is the drop for the self-report's ranking; the question asks "
                           "about the attribution's (measured_ranking).",
                           "这是自我报告排名的下降量；题目问的是归因的排名（measured_ranking）。"),
     "after": _hints("That is the probability after the deletion; the question asks for the "
                     "drop, P before minus P after.",
                     "这是删除之后的概率；题目问的是下降量：删除前的概率减去删除后的概率。"),
     "probability": _hints("That is the drop as a probability; the question asks for "
                           "percentage points: multiply it by 100.",
                           "这是以概率表示的下降量；题目要的是百分点，请乘以 100。")}))
def _q9() -> Judge:
    task = models.task2()
    drops = task["drops"]
    def points(drop: float | None) -> float | None:
        return None if drop is None else 100 * drop

    return number_judge(points(drops["attribution", 2]), tolerance=100 * NUMBER_TOLERANCE,
                        mistakes={"k3": points(drops.get(("attribution", 3))),
                                  "self_report": points(drops.get(("self-report", 2))),
                                  "after": points(task["before"] - drops["attribution", 2]),
                                  "probability": drops["attribution", 2]})


@_question(Question(
    "q10", "lm", "number",
    _hints("Task 2: what is the Spearman rank correlation between the sizes (absolute values) "
           "of the self-reported importances and of the attributions, over the words both "
           "name?",
           "任务二：自我报告的重要性与归因分数，按大小（绝对值）比较，在两边都有的词上，"
           "Spearman 秩相关系数是多少？"),
    _hints("Take the columns of comparison, their .abs(), and pass both to rank_correlation. "
           f"Any number within ±{NUMBER_TOLERANCE} counts.",
           "取 comparison 的两列，各自 .abs()，再一起传给 rank_correlation。"
           f"与正确值相差不超过 ±{NUMBER_TOLERANCE} 都算对。"),
    {"signed": _hints("That is the correlation of the signed scores, printed above; compare "
                      "their absolute values.",
                      "这是带正负号的分数的相关系数，上面已经打印过；请比较它们的绝对值。")}))
def _q10() -> Judge:
    from .word_scores import compare_word_scores, rank_correlation

    task = models.task2()
    table = compare_word_scores(task["claimed"], task["measured"])
    return number_judge(
        rank_correlation(table["claimed"].abs(), table["measured"].abs()),
        tolerance=NUMBER_TOLERANCE,
        mistakes={"signed": rank_correlation(table["claimed"], table["measured"])})


# --------------------------------------------------------------------------- Task 3


@_question(Question(
    "q11", "sst2", "number",
    _hints(f"Task 3, the deletion test of lesson 06: what is the AOPC of the "
           f"explainer's ranking (predicted class) of {models.FAITHFULNESS_TEXT!r}?",
           f"任务三，第 06 课的删除测试：解释器（针对预测类别）给 {models.FAITHFULNESS_TEXT!r} "
           "的词元排序，AOPC 是多少？"),
    _hints("As in the example: drop [CLS] and [SEP] from the explainer's pairs, rank the "
           "scores with their sign, build the curves with the scorer of this review and read "
           f"'AOPC'. Any number within ±{NUMBER_TOLERANCE} counts.",
           "照示例做：去掉解释器结果里的 [CLS] 和 [SEP]，按带符号的分数排序，用这条影评的打分函数"
           f"画曲线，再读出 'AOPC'。与正确值相差不超过 ±{NUMBER_TOLERANCE} 都算对。"),
    {"comprehensiveness": _hints(
        "That is the comprehensiveness (the fall at a few shares of the tokens); AOPC averages "
        "the fall over every step of the deletion curve.",
        "这是全面性（只看几个词元比例处的下降）；AOPC 是删除曲线每一步下降量的平均。"),
     "unsigned": _hints(
        "That ranks the tokens by absolute value; integrated gradients has a sign: rank with "
        "signed=True (the default).",
        "这是按绝对值排的序；积分梯度的分数有正负号，请用 signed=True（默认值）排序。"),
     "example": _hints(
        "That is the example review's AOPC; use the question's review.",
        "这是示例影评的 AOPC；请换成题目里的影评。")}))
def _q11() -> Judge:
    found = models.task3()["faithfulness"]
    return number_judge(found["text", True]["AOPC"], tolerance=NUMBER_TOLERANCE,
                        mistakes={"comprehensiveness": found["text", True]["comprehensiveness"],
                                  "unsigned": found["text", False]["AOPC"],
                                  "example": found["example", True]["AOPC"]})


@_question(Question(
    "q12", "lm", "number",
    _hints(f"Task 3, activation patching: patch {models.PATCH_CLEAN!r} into "
           f"{models.PATCH_CORRUPTED!r}, with the metric logit(' Berlin') − logit(' Tokyo'). "
           "What is the metric with the last position patched after block 0?",
           f"任务三，激活修补：把 {models.PATCH_CLEAN!r} 修补进 {models.PATCH_CORRUPTED!r}，"
           "指标是 logit(' Berlin') − logit(' Tokyo')。"
           "在模块 0 之后修补最后一个位置时，指标是多少？"),
    _hints("Call evaluate.patch_residual with the chat model, the two prompts in that order "
           "and the metric, then read the row 'block 0' in the last column. Any number within "
           f"±{NUMBER_TOLERANCE} counts.",
           "用聊天模型、按这个顺序的两条提示和指标调用 evaluate.patch_residual，然后读 "
           f"'block 0' 这一行的最后一列。与正确值相差不超过 ±{NUMBER_TOLERANCE} 都算对。"),
    {"embeddings": _hints(
        "That is the row 'embeddings'; the question asks for the row 'block 0'.",
        "这是 'embeddings' 那一行；题目问的是 'block 0' 那一行。"),
     "country": _hints(
        "That is the country's column; the question asks for the last position (the last "
        "column).",
        "这是国家那一列；题目问的是最后一个位置（最后一列）。")}))
def _q12() -> Judge:
    frame = models.task3()["patching"]
    country = list(frame.columns).index("Japan")
    return number_judge(float(frame.loc["block 0"].iloc[-1]), tolerance=NUMBER_TOLERANCE,
                        mistakes={"embeddings": float(frame.loc["embeddings"].iloc[-1]),
                                  "country": float(frame.loc["block 0"].iloc[country])})
