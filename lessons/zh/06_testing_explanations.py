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
# # 解释说的是真话吗？
#
# 第 01–04 课算过显著性、积分梯度、输入×梯度和注意力，也用过分类模型的各种解释器，
# 还不止一次提醒过：一张图可以看起来没错，实际上却不对。本课不再只是提醒，而是动手测量。
# 在你已经熟悉的这些模型上，你将：
#
# - 把解释排在最前面的词元删掉，看预测怎样随之下降（**忠实度**：删除曲线和插入曲线、
#   ERASER 的全面性和充分性，以及 AOPC），对象既有情感分类模型，也有翻译模型；
# - 拿同样的图去和人确知正确的答案比较（**标准答案**，ground truth）：第 01 课的标准对齐，
#   以及每张图片里的物体；
# - 关掉第 04 课找到的“前一个词元”头，看它实际搬运了什么；再把注意力展开（attention rollout）
#   和基于扰动的排序放在一起比较（**对注意力做因果检验**）；
# - 把模型读 “France” 时的一个隐藏状态移植到读 “Japan” 的那次运行里，找出答案在哪里翻转
#   （**激活修补**，activation patching）；
# - 把模型一层一层地破坏掉，再用打乱的标签训练它，检查这些图能不能察觉（**合理性检验**）；
# - 用 Captum 的**不忠实度**和**敏感度**给梯度方法打分，这两个指标给输入加一点扰动，
#   而不是删掉词元。
#
# 归因方法和最后这两个指标来自 Captum 和 Inseq；做检验所需而它们没有的部分（按排名删除
# 词元、各项指标、注意力展开、用打乱的标签微调、激活修补）都在 `explainlab.evaluate` 里。

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
# 上面打印的这一行写明了配置（`hub`：真实模型；`offline`：课程自带的小型离线替身模型）、
# 设备和各个库的版本。下文的每个数字都由代码算出，所以会随配置而变：具体数值请看表格，
# 不要看正文。
#
# ## 忠实度：删掉解释所指的东西
#
# 解释会给输入的词元排出名次。如果这个排名忠实于模型，那么排在前面的词元，就是预测所依赖的
# 词元。所以，从最重要的开始依次把它们删掉，看预测类别的概率怎么变：
#
# - **删除曲线**依次删掉排名前 1 个、前 2 个……词元；排名越忠实，曲线降得越快
#   （曲线下的面积越小）；
# - **插入曲线**从空输入出发，只把排名靠前的词元放回去；排名越忠实，曲线升得越快
#   （面积越大）。
#
# DeYoung 等人（2020）提出的 ERASER 在几个词元比例上（这里取 10 %、20 %、30 %、50 %）
# 对曲线做汇总。**全面性**是删掉排名靠前的这部分词元后概率下降了多少（越高越好）；
# **充分性**是*只*保留这部分词元时概率下降了多少（越低越好）。Samek 等人（2017）提出的
# **AOPC** 则对删除曲线每一步的下降取平均。和 ERASER 一样，被删掉的词元直接从文本里去掉，
# 这样就不必去挑一个“中性”的替换词元。
#
# 我们先从第 03 课的情感分类模型和几条影评开始。

# %% tags=["sst2-load"]
import gc

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from captum.attr import FeatureAblation, LayerGradientXActivation, LayerIntegratedGradients
from transformers import AutoModelForSequenceClassification, AutoTokenizer

evaluate = explainlab.evaluate


def free_memory():
    # 回收已删除模型占用的内存（有 GPU 时也清空 GPU 缓存）。
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


sst2_path = explainlab.resolve("sst2")
tokenizer = AutoTokenizer.from_pretrained(sst2_path)
model = AutoModelForSequenceClassification.from_pretrained(
    sst2_path, attn_implementation="eager").to(session.device).eval()
REVIEWS = ["I love you, I like you",
           "The acting was wonderful, but the plot was boring.",
           "This movie was a complete waste of time.",
           "A warm and funny film with a great cast."]

# %% [markdown]
# 给一条影评的词元排名，有六种办法，都针对预测出的类别：
#
# - **显著性**：每个词元嵌入处梯度的大小（不带符号）；
# - 以 `[PAD]` 为基线的**积分梯度**（IG），以及**输入×梯度**，两者都沿嵌入维度求和
#   （带符号）；
# - **注意力**：最后一层里 `[CLS]` 分给各个词元的权重，对所有头取平均；以及 Abnar 和
#   Zuidema（2020）提出的**注意力展开**：把每一层的注意力（加上残差连接）连乘起来，
#   追踪信息从输入一路向上的流向（两者都不带符号）；
# - **遮挡**（occlusion）：Captum 的 `FeatureAblation` 每次把一个词元换成 `[PAD]`，
#   记下概率下降了多少；
# - 再加一个**随机**排名，这是每种方法都必须超过的底线。

# %% tags=["sst2-methods"]
def token_maps(model, tokenizer, text):
    # 每种方法给每个词元一个分数（不含特殊词元），再加上被打分的类别。
    ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
    special = torch.tensor(tokenizer.get_special_tokens_mask(
        ids[0].tolist(), already_has_special_tokens=True), device=ids.device).bool()
    baseline = torch.where(special, ids, tokenizer.pad_token_id)
    with torch.no_grad():
        out = model(input_ids=ids, output_attentions=True)
    target = int(out.logits.argmax())

    def probability(input_ids):
        return model(input_ids=input_ids).logits.softmax(-1)

    embeddings = model.get_input_embeddings()
    gradient = LayerGradientXActivation(probability, embeddings, multiply_by_inputs=False)
    grad = gradient.attribute(ids, target=target)[0]
    times = LayerGradientXActivation(probability, embeddings).attribute(ids, target=target)[0]
    ig = LayerIntegratedGradients(probability, embeddings).attribute(
        ids, baselines=baseline, target=target, n_steps=32)[0]
    occlusion = FeatureAblation(probability).attribute(ids, baselines=baseline, target=target)
    maps = {"saliency": grad.norm(dim=-1), "integrated gradients": ig.sum(-1),
            "input × gradient": times.sum(-1),
            "attention": out.attentions[-1][0].mean(0)[0],
            "attention rollout": evaluate.attention_rollout(out.attentions)[0],
            "occlusion": occlusion[0]}
    keep = ~special.cpu()
    return {name: values.detach().float().cpu()[keep] for name, values in maps.items()}, target


maps, target = token_maps(model, tokenizer, REVIEWS[1])
tokens = tokenizer.tokenize(REVIEWS[1])
print("predicted:", model.config.id2label[target])
pd.DataFrame({name: values.numpy() for name, values in maps.items()}, index=tokens).round(3).T

# %% [markdown]
# 现在开始检验。`evaluate.classifier_scorer` 返回一个函数，它给出删掉任意一组词元之后
# 预测类别的概率；`evaluate.ranking` 给词元排序（不带符号的方法按绝对值排）；
# `evaluate.perturbation_curves` 按这个顺序删除和插入；`evaluate.faithfulness` 对曲线做汇总。
# 随机排名在每条影评上抽五次，再取平均。

# %% tags=["sst2-faithfulness"]
UNSIGNED = {"saliency", "attention", "attention rollout"}
generator = np.random.default_rng(0)


def curves_of(scorer, scores, name):
    # 一种排名的删除曲线和插入曲线（"random" 则取五个随机排名的平均）。
    if name == "random":
        orders = [list(generator.permutation(len(scores))) for _ in range(5)]
    else:
        orders = [evaluate.ranking(scores.tolist(), signed=name not in UNSIGNED)]
    runs = [evaluate.perturbation_curves(scorer, order) for order in orders]
    return {kind: list(np.mean([run[kind] for run in runs], axis=0)) for kind in runs[0]}


sst2_curves, sst2_rows = {}, {}
for text in REVIEWS:
    maps, _ = token_maps(model, tokenizer, text)
    _, _, scorer = evaluate.classifier_scorer(model, tokenizer, text)
    for name in [*maps, "random"]:
        curves = curves_of(scorer, maps.get(name, maps["saliency"]), name)
        sst2_curves.setdefault(name, []).append(curves)
        sst2_rows.setdefault(name, []).append(evaluate.faithfulness(curves))
sst2_table = pd.DataFrame({name: pd.DataFrame(rows).mean() for name, rows in
                           sst2_rows.items()}).T
print(sst2_table.round(3).to_string())

# %% [markdown]
# 一列一列地读这张表：忠实的方法全面性和 AOPC 高、充分性低，删除曲线的 AUC 小、
# 插入曲线的 AUC 大。每种方法都应该胜过随机那一行；胜不过的，*对这个模型*来说就和瞎猜
# 差不多。下面的曲线把同一件事画成了图（各条影评长短不一，所以横轴是删除或插入的词元
# 所占的比例）。

# %% tags=["sst2-curves"]
def plot_curves(all_curves, title):
    grid = np.linspace(0, 1, 11)
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    for name, runs in all_curves.items():
        for axis, kind in zip(axes, ("deletion", "insertion"), strict=True):
            resampled = [np.interp(grid, np.linspace(0, 1, len(r[kind])), r[kind]) for r in runs]
            axis.plot(grid, np.mean(resampled, axis=0), marker="o", markersize=3, label=name)
    for axis, kind in zip(axes, ("deletion", "insertion"), strict=True):
        axis.set_title(f"{title}: {kind}")
        axis.set_xlabel(f"share of tokens {'removed' if kind == 'deletion' else 'inserted'}")
    axes[0].set_ylabel("probability of the prediction")
    axes[1].legend(fontsize=8)
    figure.tight_layout()
    plt.show()


plot_curves(sst2_curves, "sentiment")

# %% [markdown]
# ## 翻译模型的忠实度
#
# 同样的检验也适用于译文里生成的每一个词元。Inseq 为每个生成的词元给出一列源词元分数；
# 对每一列，我们按它的顺序删除源词元，观察*这个*生成词元的概率，它前面的词元则强制给定
# （和第 01 课一样）。方法是 Inseq 的显著性、积分梯度、输入×梯度、注意力和遮挡；
# 表格对所有生成的词元取平均。

# %% tags=["mt-attribute"]
import inseq

del model
free_memory()
SIMPLIFIED = "我喜欢机器学习和人工智能。"
METHODS = ("saliency", "integrated_gradients", "input_x_gradient", "attention", "occlusion")
mt_path = explainlab.resolve("mt-zh-en")
translator = inseq.load_model(mt_path, "saliency", device=session.device,
                              model_kwargs={"attn_implementation": "eager"})
outputs = {method: translator.attribute(SIMPLIFIED, method=method, show_progress=False)
           for method in METHODS}
tables = {method: explainlab.homework.scores_table(explainlab.clean_attribution(output))
          for method, output in outputs.items()}
tables["integrated_gradients"].round(2)

# %% tags=["mt-faithfulness"]
mt_model, mt_tokenizer = translator.model, translator.tokenizer
generated = [t.id for t in outputs["saliency"].sequence_attributions[0].target][1:]
steps = [k for k, token in enumerate(tables["saliency"].columns)
         if token not in mt_tokenizer.all_special_tokens]
mt_curves, mt_rows = {}, {}
for method, table in {**tables, "random": tables["saliency"]}.items():
    for step in steps:
        _, scorer = evaluate.translation_scorer(mt_model, mt_tokenizer, SIMPLIFIED, generated,
                                                step=step)
        column = table.iloc[:-1, step]  # 源词元，不含 </s>
        curves = curves_of(scorer, torch.tensor(column.to_numpy()), method)
        mt_curves.setdefault(method, []).append(curves)
        mt_rows.setdefault(method, []).append(evaluate.faithfulness(curves))
mt_table = pd.DataFrame({m: pd.DataFrame(rows).mean() for m, rows in mt_rows.items()}).T
print(mt_table.round(3).to_string())

# %% tags=["mt-curves"]
plot_curves(mt_curves, "translation")

# %% [markdown]
# ## 标准答案：人知道什么是对的
#
# 忠实度问的是模型，标准答案问的是人。第 01 课写下了哪个英文词翻译的是哪个中文词，
# 并用**对齐错误率**（AER）给每种方法打分：每个生成词元得分最高的源词元都是标准对齐里的
# 那个时为 0，一个都不是时为 1。当时手写的辅助函数，现在都收进了 `explainlab.evaluate`。
# 这里把 AER 和全面性并排放在一起，用的是同一批图。

# %% tags=["mt-aer"]
GOLD = [("我", "I"), ("喜欢", "like"), ("机器", "machine"), ("学习", "learning"),
        ("和", "and"), ("人工", "artificial"), ("智能", "intelligence"), ("。", ".")]
specials = mt_tokenizer.all_special_tokens
translation = outputs["saliency"].info["generated_texts"][0]
aer = {}
for method, table in tables.items():
    gold = evaluate.gold_links(table, SIMPLIFIED, translation, GOLD, specials=specials)
    links = evaluate.argmax_links(table, specials=specials,
                                  signed=method not in ("saliency", "attention"))
    aer[method] = evaluate.alignment_error_rate(links, gold)
print(pd.DataFrame({"AER (lower is better)": aer,
                    "comprehensiveness": mt_table["comprehensiveness"][list(aer)]})
      .round(3).to_string())

# %% [markdown]
# 这两列不一定一致；不一致时，是因为它们回答的是不同的问题。AER 问的是：图指向的词，
# 是不是懂双语的读者会指出的那个词？全面性问的是：模型的输出是否依赖图指出的那些词？
# 翻译模型生成某个词元时，可能倚重的是相邻的词或标点（全面性好，AER 差）；注意力也可能
# 指向了正确的词，而那个词并没有撑起这次预测（AER 好，全面性差）。
#
# 第二种标准答案是视觉上的。第 03 课的图片是课程软件包画出来的，所以它确切地知道哪些像素
# 属于物体：`make_image_and_mask` 在返回图片的同时返回这个掩码。每张归因图有两个分数：
# 正值总量中落在物体上的比例，以及 Zhang 等人（2018）的**指向游戏**（pointing game）：
# 归因图中数值最高的那一个像素，是否落在物体上？

# %% tags=["vit-maps"]
from captum.attr import InputXGradient, IntegratedGradients, Occlusion, Saliency
from transformers import AutoModelForImageClassification

del translator, mt_model
free_memory()
vit_path = explainlab.resolve("vit")
vit = AutoModelForImageClassification.from_pretrained(
    vit_path, attn_implementation="eager").to(session.device).eval()
processor = explainlab.images.image_processor(vit_path)


def image_maps(picture):
    # 每种方法为预测类别给出一张图，缩放到图片的大小（224 x 224）。
    pixels = processor(picture, return_tensors="pt")["pixel_values"].to(vit.device)
    pixels.requires_grad_()  # Captum 的梯度方法要对像素求导
    with torch.no_grad():
        out = vit(pixel_values=pixels, output_attentions=True)
    target = int(out.logits.argmax())

    def forward(x):
        return vit(pixel_values=x).logits.softmax(-1)

    side = vit.config.image_size // 7
    window = (3, side, side)  # 把图片分成 7 x 7 的方格，逐格遮挡
    maps = {"saliency": Saliency(forward).attribute(pixels, target=target).abs(),
            # 每次 4 行，让 ViT-B 的激活值装得进笔记本电脑的内存
            "integrated gradients": IntegratedGradients(forward).attribute(
                pixels, target=target, n_steps=16, internal_batch_size=4),
            "input × gradient": InputXGradient(forward).attribute(pixels, target=target),
            "occlusion": Occlusion(forward).attribute(
                pixels, target=target, sliding_window_shapes=window, strides=window,
                perturbations_per_eval=16)}
    maps = {name: values.sum(1, keepdim=True) for name, values in maps.items()}
    grid = vit.config.image_size // vit.config.patch_size
    rollout = evaluate.attention_rollout(out.attentions)[0, 1:]  # [CLS] 那一行，只取图块
    maps["attention rollout"] = rollout.reshape(1, 1, grid, grid)
    return ({name: torch.nn.functional.interpolate(
                values.detach().float().cpu(), size=picture.size[::-1], mode="nearest")[0, 0]
             for name, values in maps.items()},
            vit.config.id2label[target])

# %% tags=["vit-ground-truth"]
PICTURES = [("circle", "red"), ("square", "blue"), ("triangle", "green"), ("cross", "red")]
scores, examples = {}, {}
for shape, colour in PICTURES:
    picture, mask = explainlab.images.make_image_and_mask(shape, colour, seed=3)
    maps, predicted = image_maps(picture)
    examples[f"{colour} {shape}"] = (picture, mask, maps, predicted)
    for name, values in maps.items():
        scores.setdefault(name, []).append(
            {"mass on the object": evaluate.mass_inside(values, mask),
             "pointing game": float(evaluate.pointing_game(values, mask))})
print("object share of the picture:", round(float(np.mean(
    [e[1].mean() for e in examples.values()])), 3))
vit_table = pd.DataFrame({m: pd.DataFrame(rows).mean() for m, rows in scores.items()}).T
print(vit_table.round(3).to_string())

# %% [markdown]
# 如果一张归因图把它的总量随机撒开，落在物体上的比例大约等于物体在图片中所占的比例
# （打印在表格上方）：这就是第一列的底线。下面把图片和各张归因图并排画出来，并勾出物体的轮廓：

# %% tags=["vit-plot"]
picture, mask, maps, predicted = examples["red circle"]
figure, axes = plt.subplots(1, len(maps) + 1, figsize=(15, 3))
axes[0].imshow(picture)
axes[0].set_title(f"predicted: {predicted}", fontsize=9)
for axis, (name, values) in zip(axes[1:], maps.items(), strict=True):
    axis.imshow(values.clamp(min=0), cmap="viridis")
    axis.contour(mask, levels=[0.5], colors="white", linewidths=0.8)
    axis.set_title(name, fontsize=9)
for axis in axes:
    axis.axis("off")
figure.tight_layout()
plt.show()

# %% [markdown]
# ## 从因果上检验注意力
#
# 第 04 课在 `bertviz` 模型里找到了一个**“前一个词元”头**：每个词几乎把全部权重都给了
# 它前面的那个词。但权重不等于作用。那就来检验这个头到底搬运了什么：把每个词左边的邻居
# 换成 `[MASK]`，测量这个词自己的向量（在这个头所在层的输出处）变了多少
# （`evaluate.neighbour_effect`）。然后关掉这个头
# （即消融：`evaluate.ablated_heads` 把它的输出置零），再测一次。如果这个头搬运的正是
# 左邻居的信息，这个变化应该大部分消失；关掉同一层的另一个头，作为对照。

# %% tags=["head-ablation"]
from transformers import AutoModel

del vit
free_memory()
bert_path = explainlab.resolve("bertviz")
bert_tokenizer = AutoTokenizer.from_pretrained(bert_path)
bert = AutoModel.from_pretrained(bert_path, attn_implementation="eager").to(
    session.device).eval()
SENTENCE = "The cat sat on the mat"
ids = bert_tokenizer(SENTENCE, return_tensors="pt")["input_ids"].to(bert.device)
with torch.no_grad():
    attention = torch.stack(bert(input_ids=ids, output_attentions=True).attentions)[:, 0]
words = torch.arange(1, ids.shape[1] - 1)  # 除 [CLS] 和 [SEP] 之外的所有词元
previous = attention[:, :, words, words - 1].mean(-1)  # 层 x 头
layer, head = divmod(int(previous.argmax()), previous.shape[1])
print(f"previous-token head: layer {layer}, head {head}, "
      f"mean weight {previous[layer, head]:.3f}")

# %% tags=["head-ablation-effect"]
others = [h for h in range(bert.config.num_attention_heads) if h != head]


def change(ablate=()):
    # 左邻居换成 [MASK] 时，每个词在第 `layer` 层之后的向量平均相对变化多少；
    # `ablate` 里的头都被关掉。
    return evaluate.neighbour_effect(bert, bert_tokenizer, SENTENCE, layer, ablate=ablate)


effects = {"no head switched off": change(),
           f"previous-token head ({head}) off": change([head]),
           "another head off (mean)": float(np.mean([change([h]) for h in others]))}
print(pd.Series(effects, name="change when the left neighbour is masked").round(4).to_string())

# %% [markdown]
# 再把注意力当作一种排序来看。原始注意力或注意力展开，能不能很好地代表模型真正依赖的
# 东西？把它们和情感模型的遮挡排序（第一节里的那个）逐条影评地作比较。

# %% tags=["rollout-vs-perturbation"]
del bert
free_memory()
model = AutoModelForSequenceClassification.from_pretrained(
    sst2_path, attn_implementation="eager").to(session.device).eval()
agreement = {}
for text in REVIEWS:
    maps, _ = token_maps(model, tokenizer, text)
    for name in ("attention", "attention rollout", "saliency", "integrated gradients"):
        rho = evaluate.rank_correlation(maps[name].abs(), maps["occlusion"].abs())
        agreement.setdefault(name, []).append(rho)
print(pd.Series({name: np.nanmean(values) for name, values in agreement.items()},
                name="rank correlation with occlusion").round(3).to_string())

# %% [markdown]
# ## 激活修补：答案在哪里翻转？
#
# 第 02 课用对比的方式问过：提示里的哪些词元让 *Paris* 比 *London* 更有可能？
# 激活修补问的是它的因果版本。让模型读 “The capital of Japan is”；在某一个位置、某一个
# 模块之后，贴入它读 “The capital of France is” 时在这里得到的隐藏状态；然后读出答案从
# Tokyo 向 Paris 移动了多少（`" Paris"` 的 logit 减去 `" Tokyo"` 的 logit）。对每个模块、
# 每个位置都这样做一遍，就画出了一张图，显示 “France” 这个事实在模型中是怎样传递的。

# %% tags=["patching"]
from transformers import AutoModelForCausalLM

del model
free_memory()
lm_path = explainlab.resolve("lm")
lm_tokenizer = AutoTokenizer.from_pretrained(lm_path)
lm = AutoModelForCausalLM.from_pretrained(lm_path, dtype=session.dtype).to(session.device)
paris, tokyo = (lm_tokenizer(word)["input_ids"][0] for word in (" Paris", " Tokyo"))
patched = evaluate.patch_residual(
    lm, lm_tokenizer, "The capital of France is", "The capital of Japan is",
    lambda logits: logits[:, paris] - logits[:, tokyo])
print("unpatched: France", round(patched.attrs["clean"], 2), "| Japan",
      round(patched.attrs["corrupted"], 2))
patched.round(2)

# %% tags=["patching-plot"]
figure, axis = plt.subplots(figsize=(6, 0.5 + 0.45 * len(patched)))
image = axis.imshow(patched.to_numpy(), cmap="RdBu_r", aspect="auto",
                    vmin=-abs(patched.to_numpy()).max(), vmax=abs(patched.to_numpy()).max())
axis.set_xticks(range(patched.shape[1]), patched.columns)
axis.set_yticks(range(len(patched)), patched.index)
axis.set_title("logit(Paris) − logit(Tokyo) with one cell patched from 'France'", fontsize=9)
figure.colorbar(image, ax=axis)
figure.tight_layout()
plt.show()

# %% [markdown]
# 红色的格子表示：单凭 France 那次运行在这里的状态，就足以把答案变成 Paris。在靠前的模块里，
# 这样的格子只出现在国家名自己的位置上；到了靠后的模块，则出现在最后一个位置上，
# 模型正是在那里写出答案。在两者之间，这个事实*挪了地方*：某个注意力头把它从 “France”
# 复制到了 “is”。红色从一列切换到另一列的地方，就是负责搬运的那个模块，这是第 02 课的
# 任何一张归因图都无法告诉你的。
#
# ## 合理性检验：模型坏了，图会发现吗？
#
# Adebayo 等人（2018）问了一个直截了当的问题：如果把模型弄坏，解释会变吗？一种方法的图
# 如果在模型坏了之后依然如故，它展示的就是输入本身（图像的边缘、常见的词），而不是模型。
# 他们用两种办法弄坏模型：先是权重，再是训练标签。
#
# ### 把权重随机化
#
# **级联随机化**从最顶层往下，一次一个模块地重新随机抽取权重，并用**秩相关**
# （Spearman 秩相关，按绝对值计算：1 表示顺序完全相同，0 表示毫无关系）把每张图与训练好的
# 模型给出的图作比较。

# %% tags=["sanity-randomize"]
del lm
free_memory()
model = AutoModelForSequenceClassification.from_pretrained(
    sst2_path, attn_implementation="eager").to(session.device).eval()
layers = model.config.n_layers
blocks = [("classifier", "classifier"), ("pre-classifier", "pre_classifier"),
          *((f"layer {i}", f"distilbert.transformer.layer.{i}") for i in reversed(range(layers))),
          ("embeddings", "distilbert.embeddings")]
original = [token_maps(model, tokenizer, text)[0] for text in REVIEWS]
sanity = {}
for stage, randomized in evaluate.cascading_randomization(model, blocks, seed=0):
    for text, before in zip(REVIEWS, original, strict=True):
        after, _ = token_maps(randomized, tokenizer, text)
        for name in before:
            rho = evaluate.rank_correlation(before[name].abs(), after[name].abs())
            sanity.setdefault(stage, {}).setdefault(name, []).append(rho)
sanity_table = pd.DataFrame({stage: {name: np.nanmean(values) for name, values in row.items()}
                             for stage, row in sanity.items()}).T
del randomized
print(sanity_table.round(2).to_string())

# %% [markdown]
# 顺着每一列往下读：通过检验的方法，随着模型被随机化的部分越来越多，数值会向 0 降下去。
# 下面的代码列出这样的方法：在*所有*模块都被随机化之后，它的图给词元排出的顺序仍然和
# 训练好的模型大体相同（秩相关高于 0.5）：

# %% tags=["sanity-verdict"]
final = sanity_table.iloc[-1]
failing = [name for name, rho in final.items() if rho > 0.5]
print("maps that survive a random model:", failing or "none")

figure, axis = plt.subplots(figsize=(8, 3.5))
for name in sanity_table.columns:
    axis.plot(sanity_table.index, sanity_table[name], marker="o", label=name)
axis.axhline(0, color="grey", linewidth=0.8)
axis.set_ylabel("rank correlation with the trained map")
axis.set_xlabel("randomised down to")
axis.tick_params(axis="x", rotation=45)
axis.legend(fontsize=8)
figure.tight_layout()
plt.show()

# %% [markdown]
# 图为什么能“幸存”？注意力展开在每一层都加上了单位矩阵，所以即便权重什么都不携带，
# 它仍然偏向每个词元自己；穿过随机网络的梯度，也仍然取决于输入的嵌入。幸存下来的图
# 不一定就是错的，但它不能作为证据，说明*训练好的*模型学到了什么。
#
# ### 把标签打乱
#
# Adebayo 等人的第二个检验破坏的不是权重，而是数据。拿几条影评微调分类模型的两个副本：
# 一个用真实标签，另一个用打乱后的标签。不管第二个副本学到了什么，都不会是情感。
# 能反映模型学到了什么的方法，应当给这两个副本画出不同的图；如果两张图还是差不多，
# 这种方法展示的又是输入本身。
#
# `evaluate.fit_labels` 微调的是一个副本（上面的模型保持原样），直到每条训练影评的标签
# 概率都至少达到 95 %，最多训练 20 轮。用真实标签训练的副本是对照组：它的图应当和原模型的
# 图很接近。下面这十六条训练影评是为本课专门写的；比较图时用的是第一节的那四条影评，两个
# 副本都没有在它们上面训练过。

# %% tags=["sanity-labels"]
LABELLED = [("A joy to watch from start to finish.", "POSITIVE"),
            ("The jokes fell flat and the pacing dragged.", "NEGATIVE"),
            ("Beautifully shot and wonderfully acted.", "POSITIVE"),
            ("I walked out before the end.", "NEGATIVE"),
            ("The best film I have seen this year.", "POSITIVE"),
            ("A tired story told without any spark.", "NEGATIVE"),
            ("Clever, touching and often very funny.", "POSITIVE"),
            ("Two hours I will never get back.", "NEGATIVE"),
            ("The music and the colours are gorgeous.", "POSITIVE"),
            ("Wooden dialogue and a silly ending.", "NEGATIVE"),
            ("A delightful surprise with a brilliant lead.", "POSITIVE"),
            ("Loud, long and completely forgettable.", "NEGATIVE"),
            ("Warm, honest and full of life.", "POSITIVE"),
            ("The plot makes no sense at all.", "NEGATIVE"),
            ("I smiled all the way through.", "POSITIVE"),
            ("Dull characters in a messy script.", "NEGATIVE")]
texts = [text for text, _ in LABELLED]
labels = [label for _, label in LABELLED]
shuffled = [str(label) for label in np.random.default_rng(0).permutation(labels)]
print("shuffled labels that still match the true ones:",
      sum(a == b for a, b in zip(labels, shuffled, strict=True)), "of", len(labels))
on_true, fit_true = evaluate.fit_labels(model, tokenizer, texts, labels)
on_shuffled, fit_shuffled = evaluate.fit_labels(model, tokenizer, texts, shuffled)
print(f"training accuracy: true labels {fit_true:.2f} | shuffled labels {fit_shuffled:.2f}")
label_test = {}
for text, before in zip(REVIEWS, original, strict=True):
    true_maps, _ = token_maps(on_true, tokenizer, text)
    shuffled_maps, _ = token_maps(on_shuffled, tokenizer, text)
    for name in before:
        for column, after in (("true labels", true_maps), ("shuffled labels", shuffled_maps)):
            rho = evaluate.rank_correlation(before[name].abs(), after[name].abs())
            label_test.setdefault(name, {}).setdefault(column, []).append(rho)
labels_table = pd.DataFrame({name: {column: np.nanmean(values) for column, values in row.items()}
                             for name, row in label_test.items()}).T
print("rank correlation with the trained model's map, after fine-tuning on:")
print(labels_table.round(2).to_string())
blind = [name for name, rho in labels_table["shuffled labels"].items() if rho > 0.5]
print("maps that barely notice shuffled labels:", blind or "none")
del on_true, on_shuffled
free_memory()

# %% [markdown]
# 两列都是和最初那个模型的图作比较。一种方法要通过检验，第一列应当高（用真实标签微调后，
# 它的图和原来差不多），第二列应当明显更低（学了一堆胡乱标签的副本，得到的是另一张图）。
# 如果第一列本来就低，说明只要微调一下，这种方法的图就会变，检验也就分不出标签是真是乱：
# 这本身就是一个警告。也要看一眼训练准确率：如果打乱标签的副本没能拟合它的标签，它就仍然
# 和原模型很接近，这个检验也就什么都说明不了。
#
# ## Captum 的另外两个指标：不忠实度与敏感度
#
# Captum 自带一套给归因打分的指标，它们检验的东西和删除测试不一样：两者都不删掉整个词元，
# 而是给输入的嵌入加上一点噪声：
#
# - **不忠实度**（infidelity，Yeh 等人，2019）问的是：这张图能不能预测输出怎样变化。给输入
#   一个小小的随机扰动，图乘以扰动，应当等于概率的变化量；不忠实度就是两者之差平方的均值。
#   设了 `normalize=True` 时，会先用一个最合适的系数把图整体缩放，这样只有图的形状起作用。
#   越低越好。
# - **敏感度**（sensitivity，`sensitivity_max`）问的是：这张图稳不稳。输入随机移动一点点时，
#   图的最大变化量（相对于图本身的大小）。越低越好。
#
# 这两个指标都需要一张关于嵌入的图，所以我们给分类模型上的四种梯度方法打分：显著性、
# **SmoothGrad**（Smilkov 等人，2017：在输入的多个加噪副本上求显著性再取平均，即 Captum 的
# `NoiseTunnel`）、积分梯度和输入×梯度。噪声取嵌入标准差的十分之一，SmoothGrad 的加噪副本
# 和这两项检验都用它；随机抽样固定了种子，所以表里的数每次都一样。

# %% tags=["captum-scores"]
import warnings

from captum.attr import InputXGradient, IntegratedGradients, NoiseTunnel, Saliency
from captum.metrics import infidelity, sensitivity_max

# Captum 会提醒它生成的扰动副本不需要梯度；它自己会加上，可以忽略。
warnings.filterwarnings("ignore", message="Input Tensor .* did not already require gradients")
torch.manual_seed(0)


def probabilities(embedded):
    return model(inputs_embeds=embedded).logits.softmax(-1)


explainers = {"saliency": Saliency(probabilities),
              "SmoothGrad": NoiseTunnel(Saliency(probabilities)),
              "integrated gradients": IntegratedGradients(probabilities),
              "input × gradient": InputXGradient(probabilities)}
captum_rows = {name: {"infidelity": [], "sensitivity": []} for name in explainers}
for text in REVIEWS:
    ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
    special = torch.tensor(tokenizer.get_special_tokens_mask(
        ids[0].tolist(), already_has_special_tokens=True), device=ids.device).bool()
    with torch.no_grad():
        embedded = model.get_input_embeddings()(ids)
        baseline = model.get_input_embeddings()(torch.where(special, ids, tokenizer.pad_token_id))
        target = int(probabilities(embedded).argmax())
    noise = 0.1 * float(embedded.std())

    def nudge(inputs):
        step = torch.randn_like(inputs) * noise
        return step, inputs - step

    options = {"SmoothGrad": {"nt_type": "smoothgrad", "nt_samples": 10, "stdevs": noise},
               # 每次 32 行，这样 sensitivity_max 生成的扰动副本放得进内存
               "integrated gradients": {"baselines": baseline, "n_steps": 32,
                                        "internal_batch_size": 32}}
    for name, explainer in explainers.items():
        kwargs = options.get(name, {})
        attribution = explainer.attribute(embedded, target=target, **kwargs)
        captum_rows[name]["infidelity"].append(float(infidelity(
            probabilities, nudge, embedded, attribution, target=target,
            n_perturb_samples=20, normalize=True)))
        captum_rows[name]["sensitivity"].append(float(sensitivity_max(
            explainer.attribute, embedded, perturb_radius=noise, n_perturb_samples=5,
            target=target, **kwargs)))
captum_table = pd.DataFrame({name: {score: np.mean(values) for score, values in row.items()}
                             for name, row in captum_rows.items()}).T
print(captum_table.to_string(float_format="{:.3g}".format))
print("lowest infidelity:", captum_table["infidelity"].idxmin(),
      "| lowest sensitivity:", captum_table["sensitivity"].idxmin())

# %% [markdown]
# 这两个指标都是局部的：它们问的是非常小的扰动，小到模型在附近几乎就是一个线性函数；
# 删除测试却要删掉整个词元，把输入推到离训练数据很远的地方。所以一种方法可能对小扰动描述
# 得很好（不忠实度低），删除测试的排名却很差，反过来也可能。取平均能让图变稳：积分梯度沿
# 一条路径对梯度取平均，SmoothGrad 在加噪副本上取平均，稳到什么程度要看噪声有多大（这里的
# 噪声和检验用的扰动一样小，所以它和显著性相差不大；可以试试更大的 `stdevs`）。但一张图也
# 可能因为根本不理会模型而显得很稳，这只有合理性检验才看得出来。没有哪一个数能单独说明
# 一张图是对的；每个数只说明它在哪种意义上是对的。
#
# ## 练习
#
# 1. 在 `REVIEWS` 里加一条你自己写的影评，再运行一遍忠实度那一节。各方法的名次还站得住吗？
# 2. 在 `token_maps` 里把积分梯度的基线从 `[PAD]` 换成 `[MASK]`（第 03 课讲过的坑）。
#    哪些指标变了？
# 3. 反过来，把 “The capital of Japan is” 修补进 “The capital of France is”（交换两个提示，
#    并把指标的符号反过来）。得到的图是原来的镜像吗？
# 4. 在打乱标签的检验里换一个种子（`default_rng(1)`）。有几个标签仍然和真实标签相同？
#    “几乎察觉不到标签被打乱”的方法名单变了吗？
#
# ## 小结
#
# - 测量忠实度，就是把解释排在最前面的东西删掉：删除曲线和插入曲线、全面性、充分性、AOPC，
#   而且总要和随机排名放在一起比。
# - 标准答案（标准对齐、物体掩码）衡量的是在人看来是否看似合理；它可能和忠实度不一致，
#   两者都值得知道。
# - 注意力权重只是假设：消融这个头，修补这个状态，看看会怎样。
# - 在随机化的模型上、或在用打乱的标签训练出的模型上依然如故的图，对训练好的模型说明不了多少。
# - 不忠实度和敏感度检验的是微小的扰动，而不是删除：多了一个角度，但不是定论。

# %%
del model
free_memory()
