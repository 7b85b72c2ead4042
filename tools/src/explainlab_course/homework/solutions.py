"""The reference solutions of lesson 05_homework: the code a learner would write in each
answer cell, the same in both languages but for its comment.

Each solution uses only what the lesson's own cells define (never another answer cell), so
that a notebook graded with one answer cell left blank loses that question only.
"""

from __future__ import annotations

SOLUTIONS: dict[str, tuple[dict[str, str], str]] = {
    "q1": ({"en": "Attribute the traditional sentence and read the column 'intelligence'.",
            "zh": "为繁体句子做归因，读 “intelligence” 这一列。"},
           """traditional = mt_model.attribute(TRADITIONAL, show_progress=False)
traditional = explainlab.clean_attribution(traditional, tokenizer=mt_model.tokenizer)
answer = explainlab.homework.scores_table(traditional)["intelligence"].idxmax()"""),
    "q2": ({"en": "The cell at row 和, column 'learning' of the saliency table.",
            "zh": "显著性表格里 “和” 行、“learning” 列的那一格。"},
           """traditional = mt_model.attribute(TRADITIONAL, show_progress=False)
traditional = explainlab.clean_attribution(traditional, tokenizer=mt_model.tokenizer)
answer = explainlab.homework.scores_table(traditional).loc["和", "learning"]"""),
    "q3": ({"en": "One table per method, the same cell in both, attention minus saliency.",
            "zh": "每种方法一张表，两张表里读同一格，注意力减显著性。"},
           """tables = {}
for method in ("saliency", "attention"):
    output = mt_model.attribute(TRADITIONAL, method=method, show_progress=False)
    output = explainlab.clean_attribution(output, tokenizer=mt_model.tokenizer)
    tables[method] = explainlab.homework.scores_table(output)
answer = tables["attention"].loc["我", "I"] - tables["saliency"].loc["我", "I"]"""),
    "q4": ({"en": "Rank the column 'machine' of the attention table, 1 = the most weight.",
            "zh": "给注意力表格的 “machine” 列排名，权重最大的是第 1。"},
           """output = mt_model.attribute(TRADITIONAL, method="attention", show_progress=False)
output = explainlab.clean_attribution(output, tokenizer=mt_model.tokenizer)
ranks = explainlab.homework.scores_table(output)["machine"].rank(ascending=False, method="min")
answer = int(ranks["和"])"""),
    "q5": ({"en": "Forced decoding: the prompt, then the prompt with its continuation.",
            "zh": "强制解码：先给提示词，再给提示词加续写。"},
           """output = lm_model.attribute(PROMPT, PROMPT + CONTINUATION, show_progress=False)
output = explainlab.clean_attribution(output, tokenizer=lm_tokenizer)
answer = explainlab.homework.scores_table(output).loc["America", "Washington"]"""),
    "q6": ({"en": "The same forced continuation, under attention.",
            "zh": "同样的强制续写，换成注意力。"},
           """output = lm_model.attribute(PROMPT, PROMPT + CONTINUATION, method="attention",
                            show_progress=False)
output = explainlab.clean_attribution(output, tokenizer=lm_tokenizer)
answer = explainlab.homework.scores_table(output)["George"].idxmax()"""),
    "q7": ({"en": "Layer 0, head 2, the row of 'sat' (the token that attends).",
            "zh": "第 0 层第 2 个头，“sat” 那一行（发出注意力的一方）。"},
           """row = attentions[0][0, 2][tokens.index("sat")]
answer = tokens[int(row.argmax())]"""),
    "q8": ({"en": "The explainer, asked about NEGATIVE this time.",
            "zh": "这次让解释器针对 NEGATIVE 类。"},
           """answer = dict(explainer("I love you, I like you", class_name="NEGATIVE"))["like"]"""),
    "q9": ({"en": "The deletion test on the attribution's top 2 words.",
            "zh": "对归因排名前 2 的词做删除测试。"},
           """answer = 100 * explain_self.deletion_drop(chat_model, chat_tokenizer, REVIEW,
                                          measured_ranking[:2], label=label)"""),
    "q10": ({"en": "Spearman on the absolute values of both columns.",
             "zh": "对两列的绝对值求 Spearman 秩相关。"},
            """answer = explainlab.homework.rank_correlation(comparison["claimed"].abs(),
                                               comparison["measured"].abs())"""),
    "q11": ({"en": "The example's deletion test, on the question's review; read AOPC.",
             "zh": "把示例的删除测试用在题目的影评上，读出 AOPC。"},
            """review = "This movie was a complete waste of time."
_, _, review_scorer = evaluate.classifier_scorer(sst2, sst2_tokenizer, review)
review_scores = [score for _, score in explainer(review)[1:-1]]
review_curves = evaluate.perturbation_curves(review_scorer, evaluate.ranking(review_scores))
answer = evaluate.faithfulness(review_curves)["AOPC"]"""),
    "q12": ({"en": "Germany into Japan; the row 'block 0', the last column.",
             "zh": "把 Germany 修补进 Japan；读 'block 0' 那一行的最后一列。"},
            """berlin, tokyo = (chat_tokenizer(w)["input_ids"][0] for w in (" Berlin", " Tokyo"))
germany = evaluate.patch_residual(
    chat_model, chat_tokenizer, "The capital of Germany is", "The capital of Japan is",
    lambda logits: logits[:, berlin] - logits[:, tokyo])
answer = float(germany.loc["block 0"].iloc[-1])"""),
}
