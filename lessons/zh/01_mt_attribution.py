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
# # 翻译模型看了哪些词？机器翻译的特征归因
#
# 翻译模型把“我喜欢机器学习和人工智能。”译成英文时，是一个词元（token）一个词元地往外生成的。
# *特征归因*（feature attribution）要回答的是：每生成一个英文词元，各个中文词元分别出了多少力？
# 答案是一张“源词元 × 目标词元”的分数表，本课会把它当表格读，也当热力图读。
#
# 本课用 [Inseq](https://inseq.org) 完成以下几件事：
#
# - 用四种方法给一句中译英做归因：显著性（saliency）、注意力（attention）、积分梯度
#   （integrated gradients）和输入 × 梯度（input × gradient）；
# - 读出模型每一步的把握有多大（*步骤分数*，step score），并弄清 Inseq 为什么不肯给注意力方法算它；
# - 把 SentencePiece 词元整理成好读的样子，对比简体和繁体输入；
# - 拿一份标准词对齐（gold alignment）给每种方法打分；
# - 认识三个坑：梯度饱和、把注意力当解释，以及积分梯度的基线。

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
# 上面打印的那一行说明了本页输出是用哪个配置（profile）跑出来的：`hub` 用的是真正的
# Helsinki-NLP/opus-mt-zh-en，`offline` 用的是课程自己训练的小“替身”模型（模型类和分词器类都与原模型相同，
# 专门训练来翻译本课的句子）。这一行还列出了设备和各个库的版本。注意 `setup()` 必须在 Inseq
# 画图之前运行：在 IPython 9 上，Inseq 的 `show()` 依赖的一个导入已经失效，`setup()` 会把它补上。
#
# ## 翻译模型
#
# 课程里从不直接写模型名，而是按“角色”要模型：`explainlab.resolve` 会根据当前配置，
# 返回 Hub 上的模型 id 或者本地文件夹。我们打印的是这个角色代表哪个模型
# （`explainlab.models.describe`），而不是那个文件夹：它的路径只在运行课程的那台机器上才有意义。

# %%
import gc

import inseq
import pandas as pd
import torch

MODEL = explainlab.resolve("mt-zh-en")  # 交给 from_pretrained 加载的东西：Hub 模型 id 或文件夹
print(explainlab.models.describe("mt-zh-en"))

# %% [markdown]
# `inseq.load_model` 把一个 🤗 transformers 模型和一种归因方法包在一起，这里先用 `saliency`。
# 之后每次调用 `attribute` 都可以用 `method=...` 换成别的方法，所以整节课只需加载一次模型。
#
# 参数 `attn_implementation="eager"` 是为后面的注意力方法准备的。transformers 默认用 PyTorch
# 的融合算子（SDPA）计算注意力，它根本不会把注意力矩阵存下来，自然也就交不出来。
# “eager” 实现会老老实实地算出 softmax 权重，需要时就能返回。译文本身不受影响。

# %%
model = inseq.load_model(MODEL, "saliency", device=session.device,
                         model_kwargs={"attn_implementation": "eager"})
SPECIAL = set(model.tokenizer.all_special_tokens)
print(type(model.model).__name__, type(model.tokenizer).__name__, sorted(SPECIAL))

# %% [markdown]
# ## 显著性：对下一个词元求梯度
#
# Inseq 先把句子翻译出来，再按生成顺序一步步重放。在第 *t* 步，它取模型给所选词元的概率
# `p(y_t | x, y_<t)`，对每个源词元的嵌入向量求梯度。梯度大，说明稍微改动这个词元的嵌入，
# 概率就会变化很多。每个词元的梯度是一个向量，Inseq 取它的范数，压成一个数。
#
# 下面把简体和繁体两种写法放在一起归因，并要求计算步骤分数 `probability`，也就是模型在每一步的把握。

# %%
SIMPLIFIED = "我喜欢机器学习和人工智能。"
TRADITIONAL = "我喜歡機器學習和人工智慧。"

# %% tags=["check-translation"]
saliency = model.attribute([SIMPLIFIED, TRADITIONAL], step_scores=["probability"],
                           show_progress=False)
for source, target in zip(saliency.info["input_texts"], saliency.info["generated_texts"]):
    print(f"{source} -> {target}")

# %% [markdown]
# ## 让词元好读一些
#
# 模型看到的不是词，而是 SentencePiece 词元。先看看它们的原样：

# %%
sentence = saliency.sequence_attributions[0]
print("source:", [token.token for token in sentence.source])
print("target:", [token.token for token in sentence.target])

# %% [markdown]
# `▁` 表示这个词元是一个新词的开头（代表它前面的空格）。`</s>` 是序列结束符；目标序列以 `<pad>`
# 开头，因为 Marian 的解码器总是从这个词元开始翻译。它是输入而不是输出，所以热力图里没有它的那一列。
#
# `explainlab.clean_attribution` 会返回一份词元已整理好的副本。它不会合并或删掉任何词元，
# 所以分数的位置保持不变。

# %%
saliency = explainlab.clean_attribution(saliency, tokenizer=model.tokenizer)
sentence = saliency.sequence_attributions[0]
print("source:", [token.token for token in sentence.source])
print("target:", [token.token for token in sentence.target])

# %% [markdown]
# ## 读热力图
#
# `show()` 为每个输入句子画一张热力图。每一**列**是一个生成步骤，列标题是这一步生成的词元；
# 每一**行**是一个源词元。Inseq 对每一列做了归一化，所以一个格子表示这一步的归因里有多大比例
# 落在这个源词元上。最下面多出来的一行是步骤分数：生成该词元的概率。

# %% tags=["check-heatmap"]
saliency.show()

# %% [markdown]
# 从上往下读一列：模型写出 `machine` 的时候，哪个中文词元最亮？再对比两张图：繁体字经由
# 不同的词元，得到了同样的译文。
#
# ## 把分数做成表格
#
# 同样的数字放进 pandas 的 DataFrame，排序和比较都更方便。`aggregate()` 做的就是 `show()`
# 用的那套归约，剩下的只是贴标签。

# %%
def scores_table(sequence):
    # 一句话的分数：每个源词元一行，每个生成的词元一列
    aggregated = sequence.aggregate()
    targets = aggregated.target[aggregated.attr_pos_start:aggregated.attr_pos_end]
    return pd.DataFrame(aggregated.source_attributions.float().numpy(),
                        index=[token.token for token in aggregated.source],
                        columns=[token.token for token in targets])


table = scores_table(saliency.sequence_attributions[0])
table.round(3)

# %% [markdown]
# 每个目标词元得分最高的源词元，以及模型在这一步的把握：

# %% tags=["check-top"]
summary = pd.DataFrame({
    "top source token": table.idxmax(),
    "probability": saliency.sequence_attributions[0].step_scores["probability"].numpy(),
})
print(summary.round(4).to_string())

# %% [markdown]
# ## 注意力，以及它为什么没有步骤分数
#
# `attention` 方法读取的是解码器*交叉注意力*的权重：每一步解码器分别看了每个源词元多少。
# 如果用它的时候也要步骤分数，Inseq 会直接拒绝：

# %% tags=["check-attention-refusal"]
try:
    model.attribute(SIMPLIFIED, method="attention", step_scores=["probability"],
                    show_progress=False)
except ValueError as error:
    print("Inseq refuses:", error)

# %% [markdown]
# 梯度类方法是一步一步走完整个译文的：每一步 Inseq 都在已生成的前缀上运行一次模型，
# 算出目标概率，再反向传播。步骤分数就是在这个循环里顺手算出来的，几乎不花额外代价。
# 注意力则是一种“最终步”（final-step）方法：Inseq 只在完整译文上把模型**运行一次**，
# 再从这一次前向计算里切出每一步的权重。既然没有逐步循环，也就没有地方去算概率；
# 与其悄悄地什么都不返回，Inseq 选择直接报错。
#
# 报错信息里已经给出了办法：`method="dummy"` 只跑逐步循环、只算步骤分数，不做任何归因。

# %%
probe = model.attribute(SIMPLIFIED, method="dummy", step_scores=["probability"],
                        show_progress=False)
print(probe.sequence_attributions[0].step_scores["probability"].numpy().round(4))

# %% [markdown]
# 现在来算注意力本身，不带步骤分数。对编码器-解码器模型，Inseq 的最终步方法只能一句一句地算
# （放在一个批次里只会换来一条警告），所以我们把两句分开归因，再把结果合并成一个输出。

# %%
attention = inseq.merge_attributions(
    [model.attribute(text, method="attention", show_progress=False)
     for text in (SIMPLIFIED, TRADITIONAL)])
attention = explainlab.clean_attribution(attention, tokenizer=model.tokenizer)
print("source x target x layer x head:",
      tuple(attention.sequence_attributions[0].source_attributions.shape))

# %% [markdown]
# 每一层、每一个注意力头都有自己的一套权重。画热力图和做表格时，Inseq 会对所有头和所有层取平均；
# 平均之后每一列的和仍然是 1，和注意力权重本身一样。

# %%
attention.sequence_attributions[0].show()

# %% [markdown]
# ## 积分梯度与输入 × 梯度
#
# 显著性只问“在输入这一点上，输出对它有多敏感”。下面两种方法会再用输入本身给敏感度加权：
#
# - **输入 × 梯度**：把梯度和词元的嵌入向量逐元素相乘；
# - **积分梯度**（IG）：从一个*基线*嵌入出发，沿直线分 `n_steps` 步走到真实的嵌入，
#   一路上对梯度取平均，再乘以走过的距离。在 Inseq 做归约和归一化之前，一步里所有归因的总和
#   等于目标概率从基线到真实输入的变化量（*完备性*）。Inseq 默认的基线把每个源词元都换成
#   `<unk>`，只保留 `</s>` 不变。

# %%
integrated = model.attribute([SIMPLIFIED, TRADITIONAL], method="integrated_gradients",
                             step_scores=["probability"], n_steps=50, internal_batch_size=100,
                             show_progress=False)
integrated = explainlab.clean_attribution(integrated, tokenizer=model.tokenizer)
integrated.sequence_attributions[0].show()

# %%
input_x_gradient = model.attribute([SIMPLIFIED, TRADITIONAL], method="input_x_gradient",
                                   step_scores=["probability"], show_progress=False)
input_x_gradient = explainlab.clean_attribution(input_x_gradient, tokenizer=model.tokenizer)
input_x_gradient.sequence_attributions[0].show()

# %% [markdown]
# 把四种方法摆在一起：每个目标词元得分最高的源词元。

# %% tags=["check-methods"]
outputs = {"saliency": saliency, "attention": attention,
           "integrated_gradients": integrated, "input_x_gradient": input_x_gradient}
tops = pd.DataFrame({name: scores_table(output.sequence_attributions[0]).idxmax()
                     for name, output in outputs.items()})
print(tops.to_string())

# %% [markdown]
# ## 简体与繁体
#
# 简体的“机器学习”和繁体的“機器學習”是同样的词，只是字形不同。分词器看到的是两串不同的字符，
# 模型得自己把它们对应到同样的英文上。那么归因在两种字形下都会落到对应的词上吗？

# %% tags=["check-traditional"]
print(pd.DataFrame({
    "simplified": scores_table(saliency.sequence_attributions[0]).idxmax(),
    "traditional": scores_table(saliency.sequence_attributions[1]).idxmax(),
}).to_string())

# %% [markdown]
# ## 与标准词对齐比较
#
# 哪个英文词翻译的是哪个中文词，懂两种语言的人可以直接写下来。下面就是本课句子的*标准词对齐*，
# 简体、繁体各一份：

# %%
GOLD = pd.DataFrame(
    [("我", "我", "I"), ("喜欢", "喜歡", "like"), ("机器", "機器", "machine"),
     ("学习", "學習", "learning"), ("和", "和", "and"), ("人工", "人工", "artificial"),
     ("智能", "智慧", "intelligence"), ("。", "。", ".")],
    columns=["simplified", "traditional", "English"])
GOLD

# %% [markdown]
# 对齐是按“词”而不是按“词元”写的，因为不同分词器切分的方式不一样：替身模型把“我”和“喜欢”
# 切成两个词元，opus-mt-zh-en 却把“我喜欢”整个当成一个词元。只要一个词元和一个词在字符上有重叠，
# 我们就把它们连起来，所以单个词元“我喜欢”会同时连到 *I* 和 *like*。下面几个辅助函数先找出每个
# 词元在原文中占哪些字符，再把标准对齐里的词对变成表格行与列之间的连线。

# %%
def token_spans(tokens, text):
    # 每个词元在文本中的 (起点, 终点)，从左往右查找；找不到就是 None
    spans, cursor = [], 0
    for token in tokens:
        start = -1 if token in SPECIAL else text.find(token, cursor)
        spans.append(None if start < 0 else (start, start + len(token)))
        cursor = cursor if start < 0 else start + len(token)
    return spans


# %%
def tokens_of(word, spans, text):
    # 与这个词（取它在文本中第一次出现的位置）有重叠的词元下标
    start = text.find(word)
    end = start + len(word)
    return [k for k, span in enumerate(spans)
            if start >= 0 and span and span[0] < end and start < span[1]]

# %%
def gold_links(table, source_text, target_text, pairs):
    # 由（中文词, 英文词）对得到分数表上的标准连线 (行, 列)
    rows = token_spans(table.index, source_text)
    columns = token_spans(table.columns, target_text)
    return {(i, j) for zh, en in pairs
            for i in tokens_of(zh, rows, source_text)
            for j in tokens_of(en, columns, target_text)}


# %%
def named(links, table):
    # 把连线写成 (源词元, 目标词元)，按目标顺序排列
    ordered = sorted(links, key=lambda link: (link[1], link[0]))
    return [(table.index[i], table.columns[j]) for i, j in ordered]

# %% [markdown]
# 落在这个模型译文词元上的标准连线：

# %% tags=["check-gold"]
translation = saliency.info["generated_texts"][0]
gold = gold_links(table, SIMPLIFIED, translation, zip(GOLD["simplified"], GOLD["English"]))
print(named(gold, table))

# %% [markdown]
# 把每个生成的词元连到它得分最高的源词元上，就得到了一种方法*预测*的对齐。特殊词元（`</s>`）
# 两边都不参与：它们不对应任何词。**对齐错误率**（alignment error rate，AER，Och 和 Ney 2003）
# 比较预测的连线集合 *A* 和标准连线集合 *G*：
#
# AER = 1 − 2·|A ∩ G| / (|A| + |G|)
#
# 0 表示预测的每条连线都在标准答案里，标准答案的每条连线也都被预测到了；1 表示两者毫无重合。
# 越低越好。这两步在这里是手写的；第 06 课直接从课程软件包里取用它们和上面的 `gold_links`
# （`explainlab.evaluate.argmax_links`、`alignment_error_rate`、`gold_links`）。

# %%
def argmax_links(table, *, skip_sources=SPECIAL):
    # 每个生成的（非特殊）词元连到得分最高的源词元
    rows = [i for i, token in enumerate(table.index) if token not in skip_sources]
    return {(max(rows, key=lambda i: table.iat[i, j]), j)
            for j, token in enumerate(table.columns) if token not in SPECIAL}


# %%
def aer(predicted, gold):
    # 只有“确定”连线时的对齐错误率
    return 1 - 2 * len(predicted & gold) / (len(predicted) + len(gold))

# %% tags=["check-aer"]
rows = {}
for name, output in outputs.items():
    for k, script in enumerate(["simplified", "traditional"]):
        scores = scores_table(output.sequence_attributions[k])
        pairs = zip(GOLD[script], GOLD["English"])
        gold_k = gold_links(scores, output.info["input_texts"][k],
                            output.info["generated_texts"][k], pairs)
        rows.setdefault(name, {})[f"AER {script}"] = aer(argmax_links(scores), gold_k)
aer_table = pd.DataFrame(rows).T
print(aer_table.round(3).to_string())

# %% [markdown]
# 在当前配置的模型上，哪种方法还原对齐还原得最好？取最大值只保留了每一列的第一名，
# 所以别忘了回头再看看热力图：第一名可能只是险胜，也可能遥遥领先。
#
# ## 坑一：梯度会饱和
#
# 显著性求导的对象是一个*概率*。模型对某个词元很有把握时，概率停在 softmax 平坦的顶部，
# 那里的导数 *p(1 − p)* 接近于零：输入其实照样重要，梯度却变得很小。Inseq 按列归一化后，
# 这一点就看不出来了。所以下面直接看每一步梯度的原始大小，旁边放上概率，再放上对 *logit*
# （softmax 之前的分数）求的梯度——后者不会饱和。

# %% tags=["check-saturation"]
logit_saliency = model.attribute(SIMPLIFIED, attributed_fn="logit", show_progress=False)
raw = saliency.sequence_attributions[0]
print(pd.DataFrame({
    "probability": raw.step_scores["probability"].numpy(),
    "gradient size (probability)": raw.source_attributions.norm(dim=(0, 2)).numpy(),
    "gradient size (logit)":
        logit_saliency.sequence_attributions[0].source_attributions.norm(dim=(0, 2)).numpy(),
}, index=table.columns).round(4).to_string())

# %% [markdown]
# 找出概率最接近 1 的那几步：它们对概率的梯度通常是表里最小的一批，对 logit 的梯度却并不小。
# 一个饱和步骤的热力图，是用一堆又小又嘈杂的数字归一化出来的。积分梯度正是为此设计的：
# 它沿着一条从远离饱和区的地方出发的路径，对梯度取平均。
#
# ## 坑二：注意力不等于解释
#
# 注意力权重说明的是一个头从哪里*读取*信息，而不是读到的东西对输出影响有多大；何况上面的热力图
# 还把可能意见不一的各个头平均到了一起。下面列出生成 `machine` 那一步，每一层的每个头最关注的源词元：

# %% tags=["heads-machine"]
heads = attention.sequence_attributions[0].source_attributions  # 源 × 目标 × 层 × 头
column = list(scores_table(attention.sequence_attributions[0]).columns).index("machine")
sources = [token.token for token in attention.sequence_attributions[0].source]
favourite = heads[:, column].argmax(dim=0)  # 层 × 头
pd.DataFrame([[sources[i] for i in layer] for layer in favourite.tolist()],
             index=[f"layer {n}" for n in range(favourite.shape[0])],
             columns=[f"head {n}" for n in range(favourite.shape[1])])

# %% [markdown]
# 把权重停放在 `</s>` 或标点上的头很常见：它们只是在用一个“什么都不做”的位置，并不是说这个词
# 是 `</s>` 产生的。把注意力当作观察模型内部“管道”的窗口；至于哪个输入重要，要用真正度量
# 它对输出影响的方法来验证。
#
# ## 坑三：基线决定了积分梯度能看见什么
#
# 积分梯度归因的是从基线到输入的变化。如果某个词元的基线就是它自己，那么无论它起什么作用，
# 得到的归因都是零。Inseq 默认的基线保留了 `</s>`，所以 `</s>` 从构造上就分不到归因。
# 加上 `include_eos_baseline=True`，基线里的 `</s>` 也会被换成 `<unk>`：

# %% tags=["check-baseline"]
eos_replaced = model.attribute(SIMPLIFIED, method="integrated_gradients", n_steps=50,
                               include_eos_baseline=True, show_progress=False)
eos_replaced = explainlab.clean_attribution(eos_replaced, tokenizer=model.tokenizer)
print(pd.DataFrame({
    "</s> kept (default)": scores_table(integrated.sequence_attributions[0]).loc["</s>"],
    "</s> replaced": scores_table(eos_replaced.sequence_attributions[0]).loc["</s>"],
}).round(3).to_string())

# %% [markdown]
# 同一个模型、同一个输入，关于 `</s>` 却得出了不同的结论，其他行也可能跟着变。换成别的基线
# （全零嵌入、填充词元、随机嵌入），又会得到别的答案。所以一定要说明用的是哪种基线，
# 并尽量选一个对你的模型来说真正代表“没有信息”的基线。
#
# ## 练习
#
# **1. 换一个句子。** 修改 `MY_SENTENCE` 后运行这个单元：每个英文词分别来自哪个源词元？
# 用 `offline` 配置时，请只用替身模型那份小词表里的词（模型卡片里写明了它能处理什么），
# 比如“她很讨厌编程。”或“我们也研究深度学习。”；用 `hub` 配置时随便写。

# %% tags=["exercise-sentence"]
MY_SENTENCE = "她很讨厌编程。"  # 改这里

mine = explainlab.clean_attribution(model.attribute(MY_SENTENCE, show_progress=False),
                                    tokenizer=model.tokenizer)
print(mine.info["generated_texts"][0])
print(scores_table(mine.sequence_attributions[0]).idxmax().to_string())

# %% [markdown]
# **2. 允许注意力选 `</s>`。** 上面算 AER 时，目标词元一律不许连到 `</s>`。把 `SKIP` 设成空集合
# 放开这个限制，再把注意力的 AER 和表里的比一比。坑二里的哪些头能解释这个差别？

# %% tags=["exercise-special"]
SKIP = SPECIAL  # 改这里：试试 set()

scores = scores_table(attention.sequence_attributions[0])
gold = gold_links(scores, SIMPLIFIED, attention.info["generated_texts"][0],
                  zip(GOLD["simplified"], GOLD["English"]))
print("attention AER:", round(aer(argmax_links(scores, skip_sources=SKIP), gold), 3))
print(named(argmax_links(scores, skip_sources=SKIP), scores))

# %% [markdown]
# **3. 积分梯度多走几步。** 把积分梯度那个单元格里的 `n_steps` 改成 10 和 200 各跑一次，
# 热力图里哪些格子变了？保留 `internal_batch_size=100`：Captum 每次最多让 100 行（句子 × 步）
# 经过模型，所以 200 步的耗时是 50 步的四倍，内存却不会更多。
#
# ## 收尾
#
# 释放模型，给下一课要加载的模型腾出内存。

# %%
del model, saliency, attention, integrated, input_x_gradient, eos_replaced, probe, mine
del logit_saliency, outputs
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()
