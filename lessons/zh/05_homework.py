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
# 繁体字写的句子，以及在 GPU 条件允许时以 8 比特加载的 GPT-2 XL。作业分两部分：
#
# - **任务一：token 重要性。** 八道题，涉及翻译模型（第 01 课）、句子补全模型（第 02 课）、
#   BertViz 里的 BERT 编码器（第 04 课）和分类解释器（第 03 课）。
# - **任务二：让聊天模型解释自己。** 请聊天模型指出一条影评里哪些词重要，
#   再拿真正的归因方法来对照。
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
# - **token** 按清理后的表格里显示的样子比较，不区分大小写，忽略首尾空格和 `▁`、`Ġ`
#   这类记号；如果最高分有两个 token 并列，答哪个都算对；
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
# 我们用**显著性**加载 `mt-zh-en` 模型（对每个生成的 token，求它的概率对每个源语言 token
# 嵌入的梯度，每个 token 压成一个数，再把每一列归一化，使其和为 1），
# 然后为第 01 课的简体句子做归因。步骤分数 `probability` 会加上模型对每个生成 token 的把握。

# %% tags=["check-translation"]
SENTENCE = "我喜欢机器学习和人工智能。"
TRADITIONAL = "我喜歡機器學習和人工智慧。"  # HW7 用的句子：留给你来归因

mt_model = inseq.load_model(explainlab.resolve("mt-zh-en"), "saliency", device=session.device,
                            model_kwargs={"attn_implementation": "eager"})
mt_saliency = mt_model.attribute(SENTENCE, step_scores=["probability"], show_progress=False)
mt_saliency = explainlab.clean_attribution(mt_saliency, tokenizer=mt_model.tokenizer)
print(mt_saliency.info["generated_texts"][0])

# %% [markdown]
# 热力图：每一列是一个生成的 token，每一行是一个源语言 token。

# %%
mt_saliency.show()

# %% [markdown]
# 热力图是给眼睛看的；要准确读出数值，就用 `explainlab.homework.scores_table`
# 把输出变成表格：每个源语言 token 一行，每个生成的 token 一列。对仅解码器模型（任务一（b）），
# 行是序列中的所有 token；某个 token 出现之前生成的那些列里，它没有分数（NaN）。
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
# 模型生成 `intelligence` 那一步，哪个**源语言 token** 得分最高？用字符串写出这个 token。

# %% tags=["answer-q1"]
# 你的代码：为 TRADITIONAL 做归因，清理结果，做成表格，读出那一列。
answer = None  # 一个源语言 token，字符串
results["q1"] = explainlab.homework.check("q1", answer)

# %% [markdown]
# ### 第 2 题
#
# 仍然用显著性处理 `TRADITIONAL`：模型生成 `learning` 那一步，源语言 token `和`
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
# 用注意力处理 `TRADITIONAL`，模型生成 `machine` 那一步：源语言 token `和`
# 排**第几名**？权重最大的 token 记为第 1 名。

# %% tags=["answer-q4"]
# 你的代码。
answer = None  # 一个整数，1 = 权重最大
results["q4"] = explainlab.homework.check("q4", answer)

# %% [markdown]
# 如果你表格里的显著性和注意力不一致，想想两者各自量的是什么。显著性问的是：
# 源语言嵌入动一下，生成 token 的概率会变多少；注意力说的是解码器从哪里读取信息，
# 而且很多头习惯把权重停放在 `</s>` 这类不代表任何词的 token 上。翻译模型到此用完。

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
# 它归因的正是这几个 token（*强制解码*），而不是模型自己会生成的内容。
# 步骤分数 `probability` 告诉你模型觉得每个强制 token 有多可能。下面在另一个提示上演示这个方法：

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
# 在仅解码器模型里，每个 token 都由它之前的**所有** token 来解释，
# 所以续写有好几个 token 时，热力图呈阶梯状：第二个生成的 token 也由第一个来解释。
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
# 同样的强制续写，换成**注意力**：模型生成 `George` 时，提示中哪个 token 得到的权重最大？

# %% tags=["answer-q6"]
PROMPT = "The first president of America is"
CONTINUATION = " George Washington"
# 你的代码。
answer = None  # 提示中的一个 token，字符串
results["q6"] = explainlab.homework.check("q6", answer)

# %% [markdown]
# 很多仅解码器模型会把大量注意力投向序列的第一个 token，不管它写的是什么。
# 这叫*注意力汇聚*（attention sink）：某个头没什么可读时，就把权重放在那里。
# 如果你第 6 题的答案正是这样的 token，它反映的是模型内部的“管道”，
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
# `[batch, head, token that attends, token attended to]`（批次、头、发出注意力的 token、
# 被关注的 token）。写成表格，第 0 层的 0 号头：每一行是发出注意力的 token，
# 每一列是它关注的 token；每行之和为 1。

# %% tags=["head-table"]
pd.DataFrame(attentions[0][0, 0].float().cpu().numpy(), index=tokens, columns=tokens).round(3)

# %% [markdown]
# ### 第 7 题
#
# 在第 0 层的 2 号头里，`sat` 最关注哪个 token？

# %% tags=["answer-q7"]
# 你的代码（或者用 head view：选第 0 层，双击 2 号头，把鼠标停在 "sat" 上）。
answer = None  # 一个 token，字符串
results["q7"] = explainlab.homework.check("q7", answer)

# %% [markdown]
# 再看看这个头的其他行：它对每个 token 都做同样的事吗？规则简单的头
# （比如“读前一个 token”）很好描述，但描述清楚一个头在做什么，
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
# `SequenceClassificationExplainer`（第 03 课）用积分梯度把模型的输出归因到输入 token 上。
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

# %% [markdown]
# ## 任务二：聊天模型能解释自己吗？
#
# HW7 的第二部分就一条影评问聊天模型两件事：（a）这条影评是正面还是负面，为什么；
# （b）列出 `(词, 重要性)` 二元组，重要性从 −1（推向负面）到 1（推向正面）。
# 这样的列表*看起来*像归因，但模型只是写出了“解释通常长什么样”。
# 它忠实于分类器真正的判断过程吗？我们拿 `sst2` 分类器在同一条影评上的积分梯度来对照。

# %%
REVIEW = "The acting was wonderful, but the plot was boring and the ending was a total mess."

QUESTION_A = (f"Movie review: {REVIEW}\n\nIs this review positive or negative? "
              "Answer with one word, then explain your answer in one sentence.")
QUESTION_B = (f"Movie review: {REVIEW}\n\nFor each word of the review that matters for "
              "its sentiment, give a (word, importance) tuple, where importance is a "
              "number from -1 (strongly negative) to 1 (strongly positive). "
              "Answer only with a Python list of tuples.")

# %% [markdown]
# 在 `hub` 配置下，`lm` 角色是 Qwen3-0.6B，一个真正的聊天模型：下一个单元格向它提出这两个问题
# （贪心解码，关闭 Qwen3 的思考模式，见第 02 课）。它的离线替身只认得几条事实和几句问候，
# 做不出这样的解释，所以在离线配置下，单元格会说明这一点，改用一段手写的**示例**回答，
# 演示对照是怎么算的。输出里会标明你看到的是模型输出还是示例。

# %%
EXAMPLE_REPLY = """```python
[("acting", 0.2), ("wonderful", 0.9), ("but", -0.3), ("plot", -0.1),
 ("boring", -0.8), ("ending", -0.2), ("total", -0.4), ("mess", -0.9)]
```"""

# %% tags=["task2-ask"]
if session.profile == "hub":
    from transformers import AutoModelForCausalLM

    chat_path = explainlab.resolve("lm")
    chat_tokenizer = AutoTokenizer.from_pretrained(chat_path)
    chat_model = AutoModelForCausalLM.from_pretrained(
        chat_path, dtype=session.dtype, device_map=session.device_map)

    def ask(question, max_new_tokens=200):
        # 一轮对话，贪心解码，不要 Qwen3 的思考段落。
        prompt = chat_tokenizer.apply_chat_template(
            [{"role": "user", "content": question}], tokenize=False,
            add_generation_prompt=True, enable_thinking=False)
        tokens_in = chat_tokenizer(prompt, return_tensors="pt").to(chat_model.device)
        with torch.no_grad():
            output = chat_model.generate(**tokens_in, max_new_tokens=max_new_tokens,
                                         do_sample=False)
        return chat_tokenizer.decode(output[0, tokens_in["input_ids"].shape[1]:],
                                     skip_special_tokens=True)

    print("(a) model output:\n" + ask(QUESTION_A))
    reply, source = ask(QUESTION_B), "model output"
    del chat_model
    gc.collect()
else:
    print(f"The {session.profile} twin of the chat model cannot explain a review: it only "
          "knows a few facts and greetings. Below, a hand-written example answer stands in "
          "for its reply to question (b).")
    reply, source = EXAMPLE_REPLY, "example"
print(f"(b) {source}:\n{reply}")

# %% [markdown]
# 聊天模型很少一字不差地按要求的格式回答：代码块、各式引号、列表前多一句话、
# 中文标点、某一项缺了数字……`parse_word_scores` 都能处理；缺数字的项记为 `None`。

# %% tags=["task2-parse"]
claimed = explainlab.homework.parse_word_scores(reply)
if not claimed:
    print(f"No (word, importance) pairs found in the {source}; using the example instead.")
    source = "example"
    claimed = explainlab.homework.parse_word_scores(EXAMPLE_REPLY)
print(f"{len(claimed)} pairs parsed from the {source}:", claimed)

# %% [markdown]
# 真正的归因：在这条影评上运行解释器，方向取 POSITIVE，这样正负号的含义和聊天模型的列表一致。
# `word_scores` 把词片（`##ing`）拼回完整的词，并去掉 `[CLS]` 和 `[SEP]`。

# %%
measured = explainlab.homework.word_scores(explainer(REVIEW, class_name="POSITIVE"))
print("the classifier predicts:", explainer.predicted_class_name)
print([(word, round(score, 3)) for word, score in measured])

# %% [markdown]
# `compare_word_scores` 按词把两份列表对齐。**Spearman 秩相关**比较的是两者的排序而不是数值：
# 解释器的分数和聊天模型的 −1 到 1 不在同一个尺度上。两边把词排成同样的顺序时它等于 1，
# 顺序完全相反时等于 −1，毫无关系时接近 0。聊天模型提到、但影评里没有的词记为 NaN，不参与计算。

# %% tags=["task2-compare"]
comparison = explainlab.homework.compare_word_scores(claimed, measured)
rho = explainlab.homework.rank_correlation(comparison["claimed"], comparison["measured"])
print(comparison.round(3).to_string())
print(f"Spearman rank correlation ({source}, {comparison['measured'].notna().sum()} words): "
      f"{rho:.3f}")

# %% [markdown]
# 画成图，分歧一目了然。实测归因除以其中绝对值最大的那个，使两组柱子都落在 −1 到 1 之间。

# %% tags=["task2-plot"]
import matplotlib.pyplot as plt

shown = comparison.dropna()
scaled = shown["measured"] / shown["measured"].abs().max()
positions = range(len(shown))
figure, axes = plt.subplots(figsize=(7, 3.5))
axes.bar([p - 0.2 for p in positions], shown["claimed"], width=0.4, label=f"chat model ({source})")
axes.bar([p + 0.2 for p in positions], scaled, width=0.4, label="integrated gradients (scaled)")
axes.set_xticks(list(positions), shown.index, rotation=45, ha="right")
axes.axhline(0, color="grey", linewidth=0.8)
axes.set_ylabel("importance towards POSITIVE")
axes.legend()
figure.tight_layout()
plt.show()

# %% [markdown]
# 怎么解读这个结果，以及要注意的坑：
#
# - 相关性高，只说明聊天模型的列表**看起来合理**（plausible），不说明它**忠实**（faithful）：
#   聊天模型描述的是另一个模型（它自己，或者什么都不是），
#   一份通顺的词表完全可以不看任何模型内部就写出来；
# - 两边回答的是不同的问题：积分梯度量的是从基线出发、什么改变了这个分类器的 POSITIVE 概率；
#   聊天模型猜的是读者会觉得哪些词重要；
# - 只有寥寥几个词时，一个词的位置变动就会让秩相关大幅波动。
#
# ### 练习
#
# 你自己来当聊天模型：在再次查看实测归因*之前*，把你的猜测写进 `MY_GUESSES`
# （任何 `parse_word_scores` 能读懂的格式都行），算出你的秩相关。
# 在 `hub` 配置下，还可以在 `REVIEW` 里换一条影评，把任务二重新跑一遍。

# %% tags=["exercise-guesses"]
MY_GUESSES = "wonderful: 0.8, boring: -0.6, mess: -0.7, acting: 0.1"  # 改成你自己的猜测

mine = explainlab.homework.compare_word_scores(
    explainlab.homework.parse_word_scores(MY_GUESSES), measured)
print(mine.round(3).to_string())
print("my rank correlation:",
      round(explainlab.homework.rank_correlation(mine["claimed"], mine["measured"]), 3))

# %% [markdown]
# ## 你的得分
#
# 答完题后运行这个单元格，统计你答对了几道。

# %% tags=["summary"]
right = sum(results.values())
print(f"{right} of {len(results)} answers right:",
      " ".join(f"{q}{'✓' if ok else '·'}" for q, ok in results.items()))

# %%
del sst2, explainer
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()
