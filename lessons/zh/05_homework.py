# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 作业：亲手写代码，量一量模型在关注什么
#
# 这份作业参照台大《生成式 AI 导论》的 HW7（“了解 AI 在想什么”），沿用它的输入：
# 繁体字写的句子，以及在 GPU 条件允许时以 8 比特加载的 GPT-2 XL。作业分三部分：
#
# - **任务一：词元重要性。** 八道题，涉及翻译模型（第 01 课）、句子补全模型（第 02 课）、
#   BertViz 里的 BERT 编码器（第 04 课）和分类解释器（第 03 课）。
# - **任务二：聊天模型解释自己。** 聊天模型给一条影评判出正负，并说出哪些词重要；
#   你来测量它自己的答案是否真的依赖这些词。两道题。
# - **任务三：检验解释。** 像第 06 课那样做删除测试和激活修补。两道题。
#
# 每一节先在一个输入上演示一个工具，题目问的却是另一个输入、另一种方法或另一步：
# 调用要你自己写，数值也要你自己读。每道题都有一个作答单元格。在里面写好代码，
# 把 `None` 换成你的答案，然后运行：`explainlab.homework.check` 会马上告诉你对不对，
# 答错时给出提示。

# %%
import importlib.util

# 在中国大陆，Hugging Face 和 PyPI 较慢时，去掉下面两行开头的“# ”，改用镜像下载模型和软件包：
# # %env HF_ENDPOINT=https://hf-mirror.com
# # %env PIP_INDEX_URL=https://pypi.tuna.tsinghua.edu.cn/simple
if importlib.util.find_spec("explainlab") is None:  # Colab、Kaggle 或新建的环境：安装课程软件包
    # %pip install -q "explainlab @ git+https://github.com/explainlab/explainlab"

import explainlab

session = explainlab.setup()

# %% [markdown]
# 上面这一行写明了本页输出来自哪个配置：`hub` 是真实模型，`offline`
# 是课程为它们准备的小型离线替身模型。正确答案取决于模型，换了配置答案也会变。
# 所以这份笔记本里没有写任何答案：第一次检查某道题时，`check`
# 会用当前配置给你的同一个模型，自己算出标准答案。
#
# `check` 的比较规则：
#
# - **词元**按清理后的表格里显示的样子比较，不区分大小写，忽略首尾空格和 `▁`、`Ġ`
#   这类记号；如果最高分有两个词元并列，答哪个都算对；
# - **数字** 与标准答案相差不超过 0.005 就算对；
# - **名次**（得分最高的记为 1）必须完全一致。
#
# `check` 会同时用英文和中文给出结论；想只看中文，在调用时加上 `lang="zh"`。
# 字典 `results` 记下你每道题的结论，供最后汇总。老师可能会给你交上来的笔记本评分：
# 评分程序会在新的内核里从头重新运行它，并自己判定每个作答单元格里的 `answer`，
# 所以每个作答单元格里的代码都要能单独运行。

# %%
import gc

import inseq
import pandas as pd
import torch

results = {}

# %% [markdown]
# ## 任务一（a）：翻译模型
#
# 我们用**显著性**加载 `mt-zh-en` 模型（对每个生成的词元，求它的概率对每个源语言词元
# 嵌入的梯度，每个词元压成一个数，再把每一列归一化，使其和为 1），
# 然后为第 01 课的简体句子做归因。步骤分数 `probability` 会加上模型对每个生成词元的把握。

# %% tags=["check-translation"]
SENTENCE = "我喜欢机器学习和人工智能。"
TRADITIONAL = "我喜歡機器學習和人工智慧。"  # HW7 用的句子：留给你来归因

mt_model = inseq.load_model(explainlab.resolve("mt-zh-en"), "saliency", device=session.device,
                            model_kwargs={"attn_implementation": "eager"})
mt_saliency = mt_model.attribute(SENTENCE, step_scores=["probability"], show_progress=False)
mt_saliency = explainlab.clean_attribution(mt_saliency, tokenizer=mt_model.tokenizer)
print(mt_saliency.info["generated_texts"][0])

# %% [markdown]
# 热力图：每一列是一个生成的词元，每一行是一个源语言词元。

# %%
mt_saliency.show()

# %% [markdown]
# 热力图是给眼睛看的；要准确读出数值，就用 `explainlab.homework.scores_table`
# 把输出变成表格：每个源语言词元一行，每个生成的词元一列。对仅解码器模型（任务一（b）），
# 行是序列中的所有词元；某个词元出现之前生成的那些列里，它没有分数（NaN）。
# 下面以 `machine` 这一列为例，演示读表格的三种方式：

# %% tags=["reading-tables"]
mt_table = explainlab.homework.scores_table(mt_saliency)
print("one cell, row 机器 and column machine:",
      round(float(mt_table.loc["机器", "machine"]), 3))
print("the row with the highest score in the column:", mt_table["machine"].idxmax())
print("ranks in the column, 1 = highest:",
      mt_table["machine"].rank(ascending=False, method="min").astype(int).to_dict())

# %% [markdown]
# 要用**注意力**，就给 `attribute` 传入 `method="attention"`：得到的是每一步解码器交叉注意力的权重，
# 对所有层、所有头取平均，来自在完整译文上的一次前向计算（所以这个方法不提供步骤分数，见第 01 课）。
#
# ### 第 1 题
#
# HW7 问的是繁体字写的句子 `TRADITIONAL`。用显著性为它做归因。
# 模型生成 `intelligence` 那一步，哪个**源语言词元**得分最高？用字符串写出这个词元。

# %% tags=["answer-q1"]
# 你的代码：为 TRADITIONAL 做归因，清理结果，做成表格，读出那一列。
answer = None  # 一个源语言 token，字符串
results["q1"] = explainlab.homework.check("q1", answer)

# %% [markdown]
# ### 第 2 题
#
# 仍然用显著性处理 `TRADITIONAL`：模型生成 `learning` 那一步，源语言词元 `和`
# 的得分是多少？用数字作答。

# %% tags=["answer-q2"]
# 你的代码。
answer = None  # 一个数字
results["q2"] = explainlab.homework.check("q2", answer)

# %% [markdown]
# ### 第 3 题
#
# 两种方法，一个单元格。在 `TRADITIONAL` 上，模型生成 `I` 那一步：`我` 的注意力权重
# **减去**它的显著性得分，等于多少？结果为负，说明注意力给它的比显著性给的少。

# %% tags=["answer-q3"]
# 你的代码：用两种方法分别为 TRADITIONAL 做归因。
answer = None  # 一个数字：注意力 - 显著性
results["q3"] = explainlab.homework.check("q3", answer)

# %% [markdown]
# ### 第 4 题
#
# 用注意力处理 `TRADITIONAL`，模型生成 `machine` 那一步：源语言词元 `和`
# 排**第几名**？权重最大的词元记为第 1 名。

# %% tags=["answer-q4"]
# 你的代码。
answer = None  # 一个整数，1 = 权重最大
results["q4"] = explainlab.homework.check("q4", answer)

# %% [markdown]
# 如果你表格里的显著性和注意力不一致，想想两者各自量的是什么。显著性问的是：
# 源语言嵌入动一下，生成词元的概率会变多少；注意力说的是解码器从哪里读取信息，
# 而且很多头习惯把权重停放在 `</s>` 这类不代表任何词的词元上。翻译模型到此用完。

# %%
del mt_model, mt_saliency
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## 任务一（b）：用 GPT-2 补全句子
#
# HW7 用的是 GPT-2 XL：15 亿参数，以 8 比特加载（第 02 课）。
# 在有 CUDA GPU 和 bitsandbytes 包的地方（Colab 上先 `pip install bitsandbytes`），
# `explainlab.homework.completion_model` 也这样加载。其他情况下，它以全精度加载小号的 GPT-2：
# GPT-2 XL 用 32 位浮点数，再加上归因需要的梯度，所需内存超出了免费笔记本环境能提供的。
# 在离线配置下，由 GPT-2 的离线替身模型代替。它打印的那一行写明你拿到的是哪个模型、
# 怎么加载的；`check` 也在同一个模型上判定你的答案。
#
# 要解释一段由我们指定的续写，就把整段文字（提示加续写）交给 Inseq：
# 它归因的正是这几个词元（*强制解码*），而不是模型自己会生成的内容。
# 步骤分数 `probability` 告诉你模型觉得每个强制词元有多可能。下面在另一个提示上演示这个方法：

# %% tags=["check-forced"]
lm, lm_tokenizer, loaded = explainlab.homework.completion_model(device=session.device)
print(loaded)
lm_model = inseq.load_model(lm, "saliency", tokenizer=lm_tokenizer)

EXAMPLE_PROMPT = "The capital of France is"
example = lm_model.attribute(EXAMPLE_PROMPT, EXAMPLE_PROMPT + " Paris", show_progress=False,
                             step_scores=["probability"])
example = explainlab.clean_attribution(example, tokenizer=lm_tokenizer)
print("probability of the forced token:",
      example.sequence_attributions[0].step_scores["probability"].numpy().round(4))
example.show()

# %% [markdown]
# 在仅解码器模型里，每个词元都由它之前的**所有**词元来解释，
# 所以续写有好几个词元时，热力图呈阶梯状：第二个生成的词元也由第一个来解释。
#
# ### 第 5 题
#
# 这正是 HW7 的例题。用显著性为提示 “The first president of America is” 做归因，
# 强制它接上 “ George Washington”（即下面的 `PROMPT` 和 `CONTINUATION`）。
# 模型生成 `Washington` 时，`America` 的得分是多少？

# %% tags=["answer-q5"]
PROMPT = "The first president of America is"
CONTINUATION = " George Washington"
# 你的代码：用 PROMPT 和 PROMPT + CONTINUATION 做归因，清理结果，做成表格。
answer = None  # 一个数字
results["q5"] = explainlab.homework.check("q5", answer)

# %% [markdown]
# ### 第 6 题
#
# 同样的强制续写，换成**注意力**：模型生成 `George` 时，提示中哪个词元得到的权重最大？

# %% tags=["answer-q6"]
PROMPT = "The first president of America is"
CONTINUATION = " George Washington"
# 你的代码。
answer = None  # 提示中的一个 token，字符串
results["q6"] = explainlab.homework.check("q6", answer)

# %% [markdown]
# 很多仅解码器模型会把大量注意力投向序列的第一个词元，不管它写的是什么。
# 这叫*注意力汇聚*（attention sink）：某个头没什么可读时，就把权重放在那里。
# 如果你第 6 题的答案正是这样的词元，它反映的是模型内部的“管道”，
# 而不是哪个词决定了答案。

# %%
del lm_model, lm, example
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## 任务一（c）：BertViz 里的一个头
#
# 第 04 课画过一个 BERT 编码器在 “The cat sat on the mat” 上的注意力。
# 我们用 eager 注意力重新加载它（在 SDPA 下 BERT 不返回注意力权重），再画出 head view。
# 用下拉菜单选层，双击某个彩色方块就只显示那一个头；层和头都从 0 开始编号。

# %%
from bertviz import head_view
from transformers import AutoModel, AutoTokenizer

bert_path = explainlab.resolve("bertviz")
bert_tokenizer = AutoTokenizer.from_pretrained(bert_path)
bert = AutoModel.from_pretrained(bert_path, attn_implementation="eager").to(session.device)
inputs = bert_tokenizer("The cat sat on the mat", return_tensors="pt").to(session.device)
with torch.no_grad():
    attentions = bert(**inputs, output_attentions=True).attentions
tokens = bert_tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
print(f"{len(attentions)} layers, {attentions[0].shape[1]} heads, tokens: {tokens}")

# %% tags=["check-head-view"]
head_view(attentions, tokens, html_action="return")

# %% [markdown]
# `attentions[layer]` 存放一层，维度依次是
# `[batch, head, token that attends, token attended to]`（批次、头、发出注意力的词元、
# 被关注的词元）。写成表格，第 0 层的 0 号头：每一行是发出注意力的词元，
# 每一列是它关注的词元；每行之和为 1。

# %% tags=["head-table"]
pd.DataFrame(attentions[0][0, 0].float().cpu().numpy(), index=tokens, columns=tokens).round(3)

# %% [markdown]
# ### 第 7 题
#
# 在第 0 层的 2 号头里，`sat` 最关注哪个词元？

# %% tags=["answer-q7"]
# 你的代码（或者用 head view：选第 0 层，双击 2 号头，把鼠标停在 "sat" 上）。
answer = None  # 一个 token，字符串
results["q7"] = explainlab.homework.check("q7", answer)

# %% [markdown]
# 再看看这个头的其他行：它对每个词元都做同样的事吗？规则简单的头
# （比如“读前一个词元”）很好描述，但描述清楚一个头在做什么，
# 并不等于知道预测有多依赖它。

# %%
del bert, attentions
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## 任务一（d）：分类解释器
#
# `sst2` 模型把一段文字判为 NEGATIVE 或 POSITIVE。课程软件包里的
# `SequenceClassificationExplainer`（第 03 课）用积分梯度把模型的输出归因到输入词元上。
# 和显著性不同，这些归因有**正负号**：正分把结果推向我们所问的类别，负分则推离它。

# %% tags=["explainer-positive"]
from transformers import AutoModelForSequenceClassification

sst2_path = explainlab.resolve("sst2")
sst2_tokenizer = AutoTokenizer.from_pretrained(sst2_path)
sst2 = AutoModelForSequenceClassification.from_pretrained(sst2_path).to(session.device)
explainer = explainlab.explain.SequenceClassificationExplainer(sst2, sst2_tokenizer)

word_attributions = explainer("I love you, I like you", class_name="POSITIVE")
print("predicted:", explainer.predicted_class_name)
print("the explainer's classes:", list(sst2.config.id2label.values()))
print("strongest word towards POSITIVE:",
      max(word_attributions[1:-1], key=lambda pair: pair[1])[0])

# %% [markdown]
# ### 第 8 题
#
# 本课还没展示过的一列：朝 **NEGATIVE** 方向，`like` 的归因是多少？

# %% tags=["answer-q8"]
# 你的代码。
answer = None  # 一个数字
results["q8"] = explainlab.homework.check("q8", answer)

# %%
del sst2, explainer
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## 任务二：聊天模型能解释自己吗？
#
# HW7 的第二部分把一条影评交给聊天模型，问它两件事：这条影评是正面还是负面；
# 哪些词重要，用 `(word, importance)` 二元组（词，重要性）列出，
# 重要性从 −1（推向负面）到 1（推向正面）。这样的列表*看起来*像归因。它真的是吗？
# 这里只用一个模型，拿它自己的话来检验它：
#
# 1. 它套上自己的对话模板，给影评判出正负；
# 2. 它列出重要的词（它的**自我报告**）；
# 3. 我们把它**自己的**答案词元归因到影评中的各个词上；
# 4. 比较两份排序；
# 5. 从影评中删掉两份排序各自排在最前面的词，测量它答案的概率下降多少（**删除测试**）。
#
# 聊天模型是 `lm` 这个角色：在 `hub` 配置下是 Qwen3-0.6B（关闭思考模式，贪心解码），
# 离线时是它的离线替身模型。替身模型的模型卡写明了它能做什么：它是在生成的影评上训练的，
# 它的自我报告是从一份标有重要性的词表里学来的。它看似合理是构造使然，
# 而不是审视自身内部的结果。老实说，大型聊天模型的自我报告也只能这样描述。

# %% tags=["task2-load"]
from transformers import AutoModelForCausalLM

explain_self = explainlab.homework.self_explanation
REVIEW = "The acting was wonderful, but the plot was boring and the ending was a total mess."

chat_path = explainlab.resolve("lm")
chat_tokenizer = AutoTokenizer.from_pretrained(chat_path)
chat_model = AutoModelForCausalLM.from_pretrained(chat_path, dtype=session.dtype,
                                                  device_map=session.device_map)
print(explainlab.models.describe("lm"))

# %% [markdown]
# 先看判断。`classify_question` 写出用户的消息，`ask` 把它套上模型的对话模板发出去，
# 用贪心解码生成回答。`label_probabilities` 给出回答开头处每个标签第一个词元的概率；
# 概率更大的那个就是模型的答案（贪心解码写出的正是它），删除测试要盯住的也是它。

# %% tags=["task2-label"]
reply = explain_self.ask(chat_model, chat_tokenizer, explain_self.classify_question(REVIEW))
probabilities = explain_self.label_probabilities(chat_model, chat_tokenizer, REVIEW)
label = max(probabilities, key=probabilities.get)
print("the model replied:", reply)
print("its answer:", label, {name: round(p, 4) for name, p in probabilities.items()})

# %% [markdown]
# 然后是自我报告。聊天模型很少一字不差地按要求的格式回答：代码块、各式引号、
# 列表前多一句话、中文标点……`parse_word_scores` 都能处理。`self_report` 负责提问和解析；
# 如果回答里没有一个关于影评中词语的二元组，它会说明这一点，并改用一份写好的示例，
# 让任务的其余部分照样能运行。

# %% tags=["task2-self-report"]
reply, claimed, source = explain_self.self_report(chat_model, chat_tokenizer, REVIEW)
print(f"the {source}:\n{reply}")
print(f"{len(claimed)} pairs:", claimed)

# %% [markdown]
# 现在来测量。`attribute_answer` 像第 02 课那样，对模型自己的答案词元做**对比归因**：
# 被归因的量是它所选标签第一个词元的 logit 减去另一个标签第一个词元的 logit，
# 方法是在影评各词元的嵌入上做积分梯度（Captum），再按词求和。
# 无论模型选了哪个标签，符号都调整为正分推向 "Positive"，以便和自我报告比较。

# %% tags=["task2-attribute"]
measured = explain_self.attribute_answer(chat_model, chat_tokenizer, REVIEW)
pd.Series(dict(measured)).round(3).to_frame("attribution towards Positive").T

# %% [markdown]
# `compare_word_scores` 按词把两份列表对齐。**Spearman 秩相关**比较的是两者的排序而不是数值
# （归因分数和 −1 到 1 不在同一个尺度上）：顺序相同时等于 1，顺序完全相反时等于 −1，
# 毫无关系时接近 0。`rank_towards` 按各词对模型答案的支持程度给词排序，
# `top_k_overlap` 数出两份排序的前 k 个词里有几个是相同的。

# %% tags=["task2-compare"]
comparison = explainlab.homework.compare_word_scores(claimed, measured)
rho = explainlab.homework.rank_correlation(comparison["claimed"], comparison["measured"])
print(comparison.round(3).to_string())
print(f"Spearman rank correlation ({comparison['measured'].notna().sum()} words): {rho:.3f}")
claimed_ranking = explain_self.rank_towards(claimed, label)
measured_ranking = explain_self.rank_towards(measured, label)
print(f"supporting '{label}' most, self-report:", claimed_ranking[:3])
print(f"supporting '{label}' most, attribution:", measured_ranking[:3])
print("top-3 overlap:", explain_self.top_k_overlap(claimed_ranking, measured_ranking, 3))

# %% [markdown]
# 画成图，分歧一目了然。归因分数除以其中绝对值最大的那个，使两组柱子都落在 −1 到 1 之间。

# %% tags=["task2-plot"]
import matplotlib.pyplot as plt

shown = comparison.dropna()
scaled = shown["measured"] / shown["measured"].abs().max()
positions = range(len(shown))
figure, axes = plt.subplots(figsize=(7, 3.5))
axes.bar([p - 0.2 for p in positions], shown["claimed"], width=0.4, label="self-report")
axes.bar([p + 0.2 for p in positions], scaled, width=0.4, label="attribution (scaled)")
axes.set_xticks(list(positions), shown.index, rotation=45, ha="right")
axes.axhline(0, color="grey", linewidth=0.8)
axes.set_ylabel("importance towards Positive")
axes.legend()
figure.tight_layout()
plt.show()

# %% [markdown]
# 两份列表一致，还不等于忠实。删除测试直接去问模型本身：把某个解释排得最靠前的词删掉，
# 看答案的概率下降多少。哪个解释挑出的词对模型更重要，哪个解释就更忠实。
# 图中的曲线依次删掉每份排序的前 0 到 5 个词。

# %% tags=["task2-deletion"]
curves = {name: [explain_self.label_probabilities(
              chat_model, chat_tokenizer, explain_self.delete_words(REVIEW, ranking[:k])
              if k else REVIEW)[label] for k in range(6)]
          for name, ranking in (("self-report", claimed_ranking),
                                ("attribution", measured_ranking))}
for name, ranking in (("self-report", claimed_ranking), ("attribution", measured_ranking)):
    drop = explain_self.deletion_drop(chat_model, chat_tokenizer, REVIEW, ranking[:3],
                                      label=label)
    print(f"{name}: without {ranking[:3]}, P({label}) falls by {drop:.3f}")
figure, axes = plt.subplots(figsize=(5, 3))
for name, curve in curves.items():
    axes.plot(range(6), curve, marker="o", label=name)
axes.set_xlabel("top words deleted")
axes.set_ylabel(f"P({label})")
axes.legend()
figure.tight_layout()
plt.show()

# %% [markdown]
# 怎么解读这个结果，以及要注意的坑：
#
# - 秩相关高，说明自我报告**看似合理**：它和梯度所指的方向一致。只有删除测试才检验
#   它点名的词是不是答案真正依赖的词（**忠实**）；
# - 删掉词会造出模型训练时从没见过的句子，所以概率下降也反映了模型有多不喜欢残缺的文字；
#   要拿两条曲线互相比较，而不是拿它们和 0 比较；
# - 只有寥寥几个词时，一个词的位置变动就会让秩相关大幅波动。
#
# ### 第 9 题
#
# **k = 2** 的删除测试：删掉**归因**排序（`measured_ranking`）的前 2 个词，P(answer)
# 下降多少？用**百分点**作答：100 × (删除前的 P − 删除后的 P)。

# %% tags=["answer-q9"]
# 你的代码。
answer = None  # 一个数字
results["q9"] = explainlab.homework.check("q9", answer)

# %% [markdown]
# ### 第 10 题
#
# 上面的相关系数比较的是带正负号的分数。这次改为比较**大小**：在 `comparison` 中的词上，
# 自我报告的绝对值和归因的绝对值之间的 Spearman 秩相关是多少？

# %% tags=["answer-q10"]
# 你的代码。
answer = None  # 一个数字
results["q10"] = explainlab.homework.check("q10", answer)

# %% [markdown]
# ### 练习
#
# 你自己来当聊天模型：在再次查看归因*之前*，把你的猜测写进 `MY_GUESSES`
# （任何 `parse_word_scores` 能读懂的格式都行），给它们排序，再对你的前 3 个词做删除测试。
# 你比模型更忠实吗？在 `hub` 配置下，还可以换一条你自己写的影评试试。

# %% tags=["exercise-guesses"]
MY_GUESSES = "wonderful: 0.8, boring: -0.6, mess: -0.7, acting: 0.1"  # 改成你自己的猜测

mine = explain_self.rank_towards(explainlab.homework.parse_word_scores(MY_GUESSES), label)
drop = explain_self.deletion_drop(chat_model, chat_tokenizer, REVIEW, mine[:3], label=label)
print(f"my top 3: {mine[:3]}; without them P({label}) falls by {drop:.3f}")

# %% [markdown]
# ## 任务三：检验解释（第 06 课）
#
# 第 06 课不再只是读解释，而是检验解释。这里请你亲手做其中两项检验：对分类解释器给出的
# 排序做**删除测试**，以及在聊天模型上做**激活修补**。示例在任务一（d）的影评上做删除测试：
# `classifier_scorer` 给出删掉任意词元后预测类别的概率；`ranking` 给解释器的词元排序
# （积分梯度的分数有正负号，所以按带符号的分数排）；`perturbation_curves` 按这个顺序删除、
# 插入词元；`faithfulness` 把两条曲线归结成几个指标。

# %% tags=["task3-example"]
evaluate = explainlab.evaluate
sst2 = AutoModelForSequenceClassification.from_pretrained(sst2_path).to(session.device)
explainer = explainlab.explain.SequenceClassificationExplainer(sst2, sst2_tokenizer)

example = "I love you, I like you"
tokens, target, scorer = evaluate.classifier_scorer(sst2, sst2_tokenizer, example)
scores = [score for _, score in explainer(example)[1:-1]]  # 去掉 [CLS] 和 [SEP]
curves = evaluate.perturbation_curves(scorer, evaluate.ranking(scores))
print("predicted:", sst2.config.id2label[target])
print({name: round(value, 3) for name, value in evaluate.faithfulness(curves).items()})

# %% [markdown]
# ### 第 11 题
#
# 对影评 `"This movie was a complete waste of time."` 做同样的检验：解释器给出的排序，
# **AOPC** 是多少？

# %% tags=["answer-q11"]
# 你的代码。
answer = None  # 一个数字
results["q11"] = explainlab.homework.check("q11", answer)

# %% [markdown]
# 接下来是激活修补（第 06 课最后一节）。`patch_residual` 让聊天模型读第二条提示，
# 每次只在一个格子里换上某个模块在第一条提示上的隐藏状态；表格给出每个（模块，位置）
# 对应的指标。示例把 France 修补进 Japan，打印表格的各行和各列。

# %% tags=["task3-patching"]
paris, tokyo = (chat_tokenizer(word)["input_ids"][0] for word in (" Paris", " Tokyo"))
patched = evaluate.patch_residual(
    chat_model, chat_tokenizer, "The capital of France is", "The capital of Japan is",
    lambda logits: logits[:, paris] - logits[:, tokyo])
print("rows:", list(patched.index))
print("columns:", list(patched.columns))

# %% [markdown]
# ### 第 12 题
#
# 把 `"The capital of Germany is"` 修补进 `"The capital of Japan is"`，指标是
# logit(`" Berlin"`) − logit(`" Tokyo"`)。在**模块 0** 之后修补**最后一个位置**时，
# 指标是多少？

# %% tags=["answer-q12"]
# 你的代码。
answer = None  # 一个数字
results["q12"] = explainlab.homework.check("q12", answer)

# %%
del sst2, explainer
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## 你的得分
#
# 答完题后运行这个单元格，统计你答对了几道。

# %% tags=["summary"]
right = sum(results.values())
print(f"{right} of {len(results)} answers right:",
      " ".join(f"{q}{'✓' if ok else '·'}" for q, ok in results.items()))

# %%
del chat_model
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()
