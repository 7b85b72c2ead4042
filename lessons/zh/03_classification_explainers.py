# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 解释分类模型：先手写积分梯度，再用七种解释器
#
# 分类模型读到 “I love you, I like you”，判为 POSITIVE（正面）。是哪些词让它这么判的？
# *积分梯度*（integrated gradients，IG）给每个词元（token）打一个分来回答这个问题，
# 常用的 transformers-interpret 库背后也正是这个方法。本课你将：
#
# - 亲手把积分梯度一步步算出来：先用纯 PyTorch，再用 Captum 的 `LayerIntegratedGradients`，
#   依次是基线、直线路径、黎曼和，以及完备性检验；
# - 验证课程的解释器（`explainlab.explain`：在 Captum 上重写、能在新版库上运行的
#   transformers-interpret 接口）算出来的数和你手算的完全一致；
# - 解释七类模型：单句、文本对、多标签、零样本主题、抽取式问答、命名实体和图像；
# - 认识三个坑：基线的选择、步数不够，以及把归因当成因果。

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
# 上面打印的那一行说明本页输出是用哪个配置（profile）跑出来的：`hub` 用各节提到的真实模型，
# `offline` 用课程自己训练的小“替身”模型（模型类和分词器类都与原模型相同，专门训练来做对本课的例子）。
# 这一行还列出了设备和各个库的版本。
#
# ## 情感分类模型
#
# 本课的每个模型都用同一种方式加载：按“角色”向 `explainlab.resolve` 要模型，
# 再从它返回的位置加载模型和分词器。下面两个小函数负责加载，以及在换下一个模型时把内存还回去。

# %%
import gc

import pandas as pd
import torch
from captum.attr import LayerIntegratedGradients
from transformers import (
    AutoModelForImageClassification,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
)


def load(role, auto_class=AutoModelForSequenceClassification):
    # 加载该角色的模型（评估模式，放到 session 选定的设备上）和它的分词器。
    path = explainlab.resolve(role)
    model = auto_class.from_pretrained(path).to(session.device).eval()
    return model, AutoTokenizer.from_pretrained(path)


def free_memory():
    # 回收已删除模型占用的内存（有 GPU 时也清空 GPU 缓存）。
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()

# %% [markdown]
# 角色 `sst2` 是一个做情感分类的 DistilBERT，有两个类别：NEGATIVE（负面）和 POSITIVE（正面）。
# 它对我们这句话给出的概率是：

# %% tags=["check-prediction"]
TEXT = "I love you, I like you"

model, tokenizer = load("sst2")
encoded = tokenizer(TEXT, return_tensors="pt").to(session.device)
with torch.no_grad():
    probabilities = model(**encoded).logits.softmax(-1)[0]
POSITIVE = model.config.label2id["POSITIVE"]
print({model.config.id2label[i]: round(p, 4) for i, p in enumerate(probabilities.tolist())})

# %% [markdown]
# ## 一步一步算积分梯度
#
# 记要解释的函数为 *F*：POSITIVE 的概率。模型读的不是词，而是向量：每个词元的
# *词嵌入*（word embedding），即嵌入表中的一行。IG 拿输入 *x*（这句话的词嵌入）和一个
# *基线* *x′*（一个不含任何词的输入）作比较，沿着从 *x′* 到 *x* 的直线走一遍，一路收集 *F* 的梯度。
# 对第 *i* 个坐标：
#
# IG*ᵢ* = (*xᵢ* − *x′ᵢ*) · ∫₀¹ ∂*F*(*x′* + α(*x* − *x′*)) / ∂*xᵢ* dα
#
# 把一个词元向量上所有坐标的 IG*ᵢ* 加起来，就是这个词元的分数。
#
# ### 第 1 步：基线
#
# transformers-interpret 的基线保留特殊词元 `[CLS]` 和 `[SEP]`，其余词元一律换成 `[PAD]`：
# 长度相同、却一个词也没有的“句子”。

# %% tags=["check-baseline"]
ids = encoded["input_ids"]
mask = encoded["attention_mask"]
special = torch.tensor(tokenizer.get_special_tokens_mask(ids[0].tolist(),
                                                         already_has_special_tokens=True),
                       dtype=torch.bool, device=ids.device)
baseline_ids = torch.where(special, ids, tokenizer.pad_token_id)
tokens = tokenizer.convert_ids_to_tokens(ids[0].tolist())
print(pd.DataFrame({"input": tokens,
                    "baseline": tokenizer.convert_ids_to_tokens(baseline_ids[0].tolist())}
                   ).T.to_string(header=False))

# %% [markdown]
# ### 第 2 步：直线路径
#
# 和 transformers-interpret 一样，我们对词嵌入层的输出做归因。`model.get_input_embeddings()`
# 就是这一层：它把词元 id 变成向量。模型也可以直接接收向量（`inputs_embeds=`），
# 位置嵌入由模型自己加上。这样我们就能把基线和输入之间的任意一点喂给模型：
# *x′* + α(*x* − *x′*)，α 从 0（基线）走到 1（输入）。

# %%
embeddings = model.get_input_embeddings()
with torch.no_grad():
    x = embeddings(ids)  # (1, 词元数, 隐藏层维度)
    x0 = embeddings(baseline_ids)


def positive(points):
    # 一批词嵌入序列（路径上的每个点占一行）各自的 P(POSITIVE)。
    logits = model(inputs_embeds=points, attention_mask=mask.expand(len(points), -1)).logits
    return logits.softmax(-1)[:, POSITIVE]

# %% tags=["check-path"]
alphas = torch.linspace(0, 1, 6, device=x.device)
with torch.no_grad():
    along = positive(x0 + alphas.view(-1, 1, 1) * (x - x0))
print(pd.DataFrame({"alpha": alphas.tolist(), "P(POSITIVE)": along.tolist()})
      .round(4).to_string(index=False))

# %% [markdown]
# 第一行是基线，最后一行是我们的句子。基线的概率就是模型对“一个词也没有的句子”的看法，
# 很少恰好是一半。IG 解释的是路径两端之间的*差值*，而不是概率本身。
#
# ### 第 3 步：黎曼和
#
# 积分变成平均：把 [0, 1] 等分成 `N_STEPS` 段，在每段中点求梯度，再取平均。
# 所有点作为一个批次一起送进模型。每个点的概率只取决于它自己那一行，所以对它们的*和*求梯度，
# 一次反向传播就能得到每个点各自的梯度。

# %% tags=["check-riemann"]
N_STEPS = 50
alphas = (torch.arange(N_STEPS, device=x.device) + 0.5) / N_STEPS  # 每段的中点
points = (x0 + alphas.view(-1, 1, 1) * (x - x0)).requires_grad_()
(gradients,) = torch.autograd.grad(positive(points).sum(), points)
by_hand = (gradients.mean(0) * (x - x0)[0]).sum(-1)  # 梯度平均值乘以距离，再按词元求和
print(pd.Series(by_hand.tolist(), index=tokens).round(4).to_string())

# %% [markdown]
# `[CLS]` 和 `[SEP]` 的分数恰好为零：基线在这两个位置与输入相同，距离 (*xᵢ* − *x′ᵢ*) 为零。
#
# ### 第 4 步：完备性
#
# 梯度定理保证，这些分数加起来等于 *F*(*x*) − *F*(*x′*)：输出的全部变化被分摊到各个词元上。
# 步数有限时，总和会差一点点，这个差就是*收敛误差*（convergence delta）。
# 如果它很大，说明积分没有算准，这些分数就不可信。

# %% tags=["check-completeness"]
with torch.no_grad():
    start, end = positive(torch.cat([x0, x])).tolist()
print(f"sum of the scores:       {by_hand.sum().item():.6f}")
print(f"F(input) - F(baseline):  {end - start:.6f}")
print(f"convergence delta:       {by_hand.sum().item() - (end - start):+.2e}")

# %% [markdown]
# ### 第 5 步：用 Captum 再算一遍
#
# Captum 的 `LayerIntegratedGradients(forward, layer)` 能对任意模型的任意一层完成第 2 到 4 步。
# 它先在输入和基线上各跑一次模型，记下这一层的两个输出；求梯度时再用前向钩子（forward hook）
# 把这一层的输出替换成路径上的点。我们要交给它：一个从词元 id 算出各类概率的函数、
# 目标类别 `target`，以及基线的 id。指定 `method="riemann_middle"` 时，它用的就是我们的分段中点；
# 默认则用高斯–勒让德（Gauss–Legendre）求积，取点和权重不均匀，同样的步数下积分更准。

# %% tags=["check-captum"]
def class_probabilities(input_ids, attention_mask):
    return model(input_ids=input_ids, attention_mask=attention_mask).logits.softmax(-1)


lig = LayerIntegratedGradients(class_probabilities, embeddings)
midpoints = lig.attribute(ids, baselines=baseline_ids, target=POSITIVE, n_steps=N_STEPS,
                          additional_forward_args=(mask,), method="riemann_middle")
gap = (midpoints.sum(-1)[0] - by_hand).abs().max().item()
print(f"Captum with riemann_middle vs our loop: largest difference {gap:.1e}")

attributions, delta = lig.attribute(ids, baselines=baseline_ids, target=POSITIVE,
                                    n_steps=N_STEPS, additional_forward_args=(mask,),
                                    return_convergence_delta=True)
print(f"Captum with Gauss-Legendre: convergence delta {delta.item():+.2e}")

# %% [markdown]
# ### 第 6 步：每个词一个分数
#
# `attributions` 对每个词元的每个隐藏维度都有一个值。沿隐藏维度求和，每个词元得到一个分数；
# transformers-interpret 再把这些分数缩放成单位长度，以便比较长短不同的文本。
# 正分把预测推向 POSITIVE，负分把它推离 POSITIVE。

# %%
summed = attributions.detach().sum(-1)[0]
hand_made = list(zip(tokens, (summed / summed.norm()).tolist()))
hand_made

# %% [markdown]
# ## 课程的解释器
#
# `explainlab.explain` 提供了 transformers-interpret 的各个解释器，调用方式和属性都一样，
# 算法与上面相同，并且能在新版 transformers 上运行。两行代码就能得到你刚才亲手搭出来的全部结果：

# %% tags=["check-sequence"]
explainer = explainlab.explain.SequenceClassificationExplainer(model, tokenizer)
word_attributions = explainer(TEXT)
print("predicted:", explainer.predicted_class_name)
print(word_attributions)

# %% tags=["check-hand-vs-package"]
difference = max(abs(ours - theirs)
                 for (_, ours), (_, theirs) in zip(hand_made, word_attributions))
print(f"largest difference from our hand-made scores: {difference:.1e}")
print(f"convergence delta: {explainer.convergence_delta:+.2e}")

# %% [markdown]
# `visualize()` 把分数画出来。每个词元都衬着一种颜色：绿色把预测推向被归因的类别，
# 红色把它推开，颜色越深，分数越大（鼠标悬停可以看到具体数值）。表格里还列出了预测结果、
# 被归因类别的概率、分数之和与收敛误差。在 notebook 里它会直接显示；
# `visualize("sst2.html")` 还会另存一个只需浏览器就能打开的网页。

# %% tags=["check-visualize-sequence"]
explainer.visualize()

# %% [markdown]
# `to_dataframe()` 把同一个解释变成表格，每个词元一行，方便排序、筛选或保存：

# %%
explainer.to_dataframe()

# %% [markdown]
# 解释器默认对预测出的类别做归因；用 `class_name=`（或 `index=`）可以换成别的类别。
# 在一段爱恨交织的话里，哪些词在为 NEGATIVE 说话，而模型仍然预测 POSITIVE？

# %% tags=["check-negative"]
MIXED = "I love you, I like you, I also kinda dislike you"
negative = explainer(MIXED, class_name="NEGATIVE")
print("predicted:", explainer.predicted_class_name)
print("top word for NEGATIVE:", max(negative, key=lambda pair: pair[1])[0])
explainer.visualize()

# %% [markdown]
# ## 同时读两段文本：成对解释器
#
# *交叉编码器*（cross-encoder，角色 `cross-encoder`，即 ms-marco-MiniLM-L-6-v2）把搜索查询和一段文字
# 拼成 `[CLS] 查询 [SEP] 段落 [SEP]` 一起读，只输出一个数：这段文字回答这个查询的程度。
# 给分词器两段文本，它就会拼出这样的文本对。

# %% tags=["check-pairwise"]
del explainer, model, tokenizer
free_memory()
model, tokenizer = load("cross-encoder")

QUERY = "How many people live in Berlin?"
PASSAGE = ("Berlin has a population of 3,520,031 registered inhabitants in an area of "
           "891.82 square kilometers.")
UNRELATED = "The recipe needs two eggs, a cup of milk and some flour."

pairs = tokenizer([QUERY, QUERY], [PASSAGE, UNRELATED], padding=True,
                  return_tensors="pt").to(session.device)
with torch.no_grad():
    relevance = torch.sigmoid(model(**pairs).logits[:, 0])
print(pd.Series(relevance.tolist(), index=["Berlin passage", "unrelated passage"])
      .round(4).to_string())

# %% [markdown]
# `PairwiseSequenceClassificationExplainer` 接收这两段文本。基线保留两个 `[SEP]`；
# 对只有一个输出的模型，归因解释的是它的 sigmoid，也就是上面的相关性分数：正分把分数往上推。
# 留意查询里的词在段落中的对应，以及段落里真正回答问题的词。

# %% tags=["check-visualize-pairwise"]
pairwise = explainlab.explain.PairwiseSequenceClassificationExplainer(model, tokenizer)
pairwise_attributions = pairwise(QUERY, PASSAGE)
pairwise.visualize()

# %% [markdown]
# `flip_sign=True` 会把正负号反过来：这时分数解释的是接近零的得分，也就是两段文本为什么*不*匹配。
#
# ## 一次解释多个标签：多标签解释器
#
# 角色 `emotion`（emotion-english-distilroberta-base）给七种情绪打分。
# `MultiLabelClassificationExplainer` 把每个标签单独看待（每个标签各取 sigmoid），逐一解释。
# 所有标签读的是同一个输入，所以解释器只把路径上的点送进模型一次，每个标签只需再做一次反向传播；
# transformers-interpret 则要为每个标签把整套计算从头跑一遍。

# %% tags=["check-multilabel"]
del pairwise, model, tokenizer
free_memory()
model, tokenizer = load("emotion")

REVIEW = ("There were many aspects of the film I liked, but it was frightening and gross "
          "in parts. My parents hated it.")
multilabel = explainlab.explain.MultiLabelClassificationExplainer(model, tokenizer)
by_label = multilabel(REVIEW)
print(pd.DataFrame({
    "probability": multilabel.label_probs_dict,
    "top word": {label: repr(max(scores, key=lambda pair: pair[1])[0])
                 for label, scores in by_label.items()},
}).round(4).to_string())

# %% [markdown]
# 和 transformers-interpret 一样，解释器会先在标点两侧加上空格，于是文本末尾的空格自成一个词元；
# RoBERTa 用 `Ġ` 表示词元前的空格，解释器把它去掉后，剩下的就是空词元 `''`。模型也可能倚重这类词元。
# 下面的可视化每个标签占一行。

# %% tags=["check-visualize-multilabel"]
multilabel.visualize()

# %% [markdown]
# 标签一多，`to_dataframe()` 的表就很长（每个标签的每个词元一行）；透视（pivot）一下，
# 就变成每个标签一列：

# %%
table = multilabel.to_dataframe()
table.pivot(index=["position", "token"], columns="target", values="attribution").round(2)

# %% [markdown]
# ## 零样本分类
#
# NLI 模型（角色 `nli`，即 nli-deberta-base）判断一个*前提*是否蕴含一个*假设*。
# 借助它，可以给从没训练过的标签分类：把每个候选标签填进一句假设（“this text is about technology .”），
# 哪个标签的假设最被蕴含，就选哪个。`ZeroShotClassificationExplainer` 解释每个标签的蕴含概率；
# 默认只显示原文的词元（`include_hypothesis=True` 会把假设也加上）。

# %% tags=["check-zero-shot"]
del multilabel, model, tokenizer
free_memory()
model, tokenizer = load("nli")

ARTICLE = ("Today apple released the new Macbook showing off a range of new features found "
           "in the proprietary silicon chip computer. ")
zero_shot = explainlab.explain.ZeroShotClassificationExplainer(model, tokenizer)
by_topic = zero_shot(ARTICLE, labels=["finance", "technology", "sports"],
                     hypothesis_template="this text is about {} .")
print("hypotheses:", zero_shot.hypothesis_labels)
print("predicted label:", zero_shot.predicted_label)
print({label: round(p, 4) for label, p in zero_shot.label_probs_dict.items()})

# %% tags=["check-visualize-zero-shot"]
zero_shot.visualize()

# %% [markdown]
# ## 抽取式问答
#
# 抽取式问答模型（角色 `qa`，一个在 SQuAD 上微调过的 BERT）在上下文里指出答案：
# 每个词元有一个“答案从这里开始”的分数和一个“答案在这里结束”的分数。
# `QuestionAnsweringExplainer` 解释最高的起始分数和最高的结束分数。和 transformers-interpret 一样，
# 它对整个嵌入层做归因（词、位置和句段三部分：`embedding_type=2`）。

# %% tags=["check-qa"]
del zero_shot, model, tokenizer
free_memory()
model, tokenizer = load("qa", AutoModelForQuestionAnswering)

QUESTION = "What is natural language processing ?"
CONTEXT = ("In Artificial Intelligence and machine learning, Natural Language Processing "
           "relates to the usage of machines to process and understand human language. "
           "Many researchers currently work in this space.")
qa = explainlab.explain.QuestionAnsweringExplainer(model, tokenizer)
spans = qa(QUESTION, CONTEXT)
print("answer:", qa.predicted_answer)
print({target: round(value, 3) for target, value in qa.convergence_delta.items()})

# %% [markdown]
# 第二行是收敛误差。和情感模型的比一比：最高的 logit 是对所有位置取最大值，函数有折角，
# 而且 logit 不像概率那样被压在 [0, 1] 之内，所以 50 步积得没那么准（坑 2 和练习 3 会再回到这一点）。

# %% tags=["check-visualize-qa"]
qa.visualize()

# %% [markdown]
# ## 命名实体：词元分类解释器
#
# NER 模型（角色 `ner`，即 bert-base-NER）给每个词元打标签：`B-LOC` 表示一个地名的开头，
# `I-PER` 表示人名的后续部分，`O` 表示不属于任何实体。解释器为每个打了标签的词元单独给出一份解释；
# `ignored_labels=["O"]` 跳过没有标签的词元（`ignored_indexes=` 则按位置跳过）。
# 所有位置共用一个输入，所以这里的路径同样只需过一次模型。

# %% tags=["check-ner"]
del qa, model, tokenizer
free_memory()
model, tokenizer = load("ner", AutoModelForTokenClassification)

SENTENCE = "We visited Paris last weekend, where Emmanuel Macron lives."
ner = explainlab.explain.TokenClassificationExplainer(model, tokenizer)
entities = ner(SENTENCE, ignored_labels=["O"])
for token, found in entities.items():
    top = max(found["attribution_scores"], key=lambda pair: pair[1])[0]
    print(f"{token:10s} {found['label']:6s} top word: {top}")

# %% tags=["check-visualize-ner"]
ner.visualize()

# %% [markdown]
# ## 图像
#
# `ImageClassificationExplainer` 对像素做积分梯度（基线是经过处理器归一化后全为零的输入，
# 也就是一张均匀的灰图）。默认它会对图片加噪声的多个副本取平均（*噪声隧道*，noise tunnel，
# 即 `"IGNT"`），让图看起来不那么斑驳；噪声有固定的随机种子，所以每次运行的结果都一样。
#
# 图片由课程软件包生成：噪声背景上的一个彩色图形，正是 ViT 的离线替身学会识别的那种图。
# 真正的 google/vit-base-patch16-224（配置 `hub`）认识的是 ImageNet 里 1000 类照片，而不是画出来的图形：
# 它给这张图的标签可能完全不同，这时解释告诉你的是哪些像素把它引到了那个答案。

# %%
del ner, model, tokenizer
free_memory()
vit_path = explainlab.resolve("vit")
model = AutoModelForImageClassification.from_pretrained(vit_path).to(session.device).eval()
processor = explainlab.images.image_processor(vit_path)  # 有没有 torchvision 都能用

picture = explainlab.images.make_image("circle", "red", seed=3)
picture

# %% tags=["check-image"]
image_explainer = explainlab.explain.ImageClassificationExplainer(model, processor)
pixel_attributions = image_explainer(picture)
print("predicted:", image_explainer.predicted_class_name)
print("attributions:", pixel_attributions.shape)

# %% [markdown]
# `visualize` 有四种画法：`heatmap`（正为绿、负为红的热力图）、`overlay`（把热力图叠在图片的灰度版上）、
# `masked_image` 和 `alpha_scaling`（透过归因去看图片，每次只看一种符号：`sign="positive"`
# 只留下支持该类别的像素）。`outlier_threshold` 把最大的那一小部分值截掉，免得少数几个像素把其余部分都冲淡。

# %% tags=["check-visualize-image"]
image_explainer.visualize(method="overlay", side_by_side=True, outlier_threshold=0.03)

# %%
image_explainer.visualize(method="masked_image", sign="positive", side_by_side=True,
                          outlier_threshold=0.03)

# %% [markdown]
# ## 坑 1：基线决定了问的是什么
#
# IG 回答的是“从基线到输入，变了什么？”换一个基线，就是换一个问题。回到情感模型：
# 解释器的 `ref_token_id` 就是在基线里替换掉各个词的那个词元。比较 `[PAD]`、`[MASK]` 和 `[UNK]`，
# 以及每种基线出发时的概率。

# %% tags=["check-baselines"]
del image_explainer, model, processor
free_memory()
model, tokenizer = load("sst2")
explainer = explainlab.explain.SequenceClassificationExplainer(model, tokenizer)

columns, starts = {}, {}
for reference in (tokenizer.pad_token, tokenizer.mask_token, tokenizer.unk_token):
    explainer.ref_token_id = tokenizer.convert_tokens_to_ids(reference)
    scores = explainer(TEXT, class_name="POSITIVE")
    columns[reference] = [value for _, value in scores]
    with torch.no_grad():
        start_ids = torch.where(special, ids, explainer.ref_token_id)
        starts[reference] = model(input_ids=start_ids, attention_mask=mask).logits.softmax(-1)[
            0, POSITIVE].item()
explainer.ref_token_id = tokenizer.pad_token_id  # 改回默认值
print(pd.DataFrame(columns, index=[token for token, _ in scores]).round(3).to_string())
print("P(POSITIVE) at the baseline:", {k: round(v, 4) for k, v in starts.items()})

# %% [markdown]
# 分数最高的也许还是同一个词，但其余的分数变了，出发时的概率也变了。没有哪种基线对所有模型都是“中性”的：
# 写明你用了哪种基线，并尽量选一个对你的模型来说意味着“没有信息”的基线。
#
# ## 坑 2：步数太少
#
# 收敛误差告诉你 `n_steps` 够不够。看看步数增加时它怎么变小：

# %% tags=["check-steps"]
for n_steps in (2, 5, 10, 50, 200):
    _, delta = explainer(TEXT, n_steps=n_steps, return_convergence_delta=True)
    print(f"n_steps={n_steps:3d}  convergence delta {delta:+.2e}")
explainer.n_steps = 50  # 一次调用传入的 n_steps 会沿用到后面的调用：改回来

# %% [markdown]
# 上面每张 `visualize()` 表格都有一列 *Convergence Δ*（收敛误差）：如果它和分数相比不算小
# （看看零样本和问答那两张），就把 `n_steps` 调大。
#
# 留意最后一行：和 transformers-interpret 一样，某次调用传入的 `n_steps` 和 `internal_batch_size`
# 会沿用到同一个解释器之后的调用。步数越多，耗时按比例增加（每一步都是要经过模型正向、反向各一次的一行）；
# `internal_batch_size` 把这些行分批来算，结果不变。不设置它时，解释器会自己挑选激活值能装进
# 约 1 GiB（`explainlab.explain.ACTIVATION_BUDGET`）的最大批次，所以步数越多，调用越慢，
# 内存却不会更大：BERT-large 或 ViT-B/16 用 `n_steps=200` 照样能在笔记本电脑上跑。
#
# ## 坑 3：归因不是原因
#
# IG 衡量的是输出沿嵌入空间里某一条路径如何变化，它并不告诉你删掉一个词会怎样。
# 我们真的删几个词，看看概率：

# %% tags=["check-deletion"]
variants = {"full text": TEXT, "without love": "I you, I like you",
            "without like": "I love you, I you", "without love and like": "I you, I you"}
batch = tokenizer(list(variants.values()), padding=True, return_tensors="pt").to(session.device)
with torch.no_grad():
    kept = model(**batch).logits.softmax(-1)[:, POSITIVE]
print(pd.Series(kept.tolist(), index=list(variants)).round(4).to_string())

# %% [markdown]
# 和分数对照一下：*love* 的归因最大，可删掉它之后概率几乎不动，因为 *like* 表达的是同一个意思；
# 两个都删掉，概率才明显下降。互相“撑腰”的词会分摊功劳，单看哪一个都不像是非有不可。
# 还要记住，归因描述的是模型，而不是语言：一个学会了走捷径的模型，得到的是对这条捷径忠实的解释。
#
# ## 练习
#
# **1. 你自己的影评。** 改一改 `MY_TEXT`（以及 `MY_CLASS`；保持 `None` 就解释预测出的类别），
# 然后运行。用 `offline` 配置时，请尽量写简短的英文影评：替身模型的模型卡写明了它懂哪些内容。

# %% tags=["exercise-sentence"]
MY_TEXT = "a dreadful, boring mess"  # 改我
MY_CLASS = None  # 或 "POSITIVE" / "NEGATIVE"

mine = explainer(MY_TEXT, class_name=MY_CLASS)
print("predicted:", explainer.predicted_class_name)
explainer.visualize()

# %% [markdown]
# **2. 删掉分数最高的词。** 删掉被归因类别的头号词之后，这个类别的概率会下降吗？
# 在你的影评上试一试。

# %% tags=["exercise-deletion"]
inner = mine[1:-1]  # 去掉 [CLS] 和 [SEP]
top = max(range(len(inner)), key=lambda i: inner[i][1])
shorter = tokenizer.convert_tokens_to_string([t for i, (t, _) in enumerate(inner) if i != top])
with torch.no_grad():
    before, after = model(**tokenizer([MY_TEXT, shorter], padding=True, return_tensors="pt")
                          .to(session.device)).logits.softmax(-1)[:, explainer.selected_index]
print(f"without {inner[top][0]!r}: {shorter!r}")
print(f"P({explainer.id2label[explainer.selected_index]}): {before.item():.4f} -> "
      f"{after.item():.4f}")

# %% [markdown]
# **3. 问答的步数够吗？** 把问答那一格改成 `qa(QUESTION, CONTEXT, n_steps=200)` 再运行一次。
# 收敛误差变小了吗？起始和结束的头号词有没有变？
#
# **4. 换个假设。** 在零样本那一格里试试 `hypothesis_template="This example is {}."`，
# 再试 `include_hypothesis=True`，以及你自己想的标签。假设句本身贡献了哪些词？
#
# **5. 为什么不匹配？** 用 `pairwise(QUERY, UNRELATED, flip_sign=True)` 和 `pairwise.visualize()`
# 解释那段无关的文字。
#
# ## 收尾

# %%
del explainer, model, tokenizer
free_memory()
