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
# # 用 BertViz 看注意力
#
# Transformer 的每一层都在词元之间搬运信息，而每个注意力头决定了“从哪个词元
# 取多少”。BertViz 用三种视图把这些权重画出来：
#
# - **头视图（head view）**：一层里的各个头，画成从词元连到词元的线；
# - **模型视图（model view）**：所有层、所有头一次排开，每个头一张小图；
# - **神经元视图（neuron view）**：钻进某一个头，看权重是怎样由查询向量和键向量算出来的。
#
# 本课先给一个 BERT 编码器画出这三种视图，再看第 01 课那个中译英翻译模型的三类注意力。
# 途中你会踩到 transformers 5 的一个坑：它会悄无声息地什么注意力都不给你；你还会看到，
# 注意力权重大，并不等于影响大。

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
# 上面打印的这一行写明了本页输出是在哪个配置（`hub`：真实模型；`offline`：课程自带的
# 小型替身模型）、哪种设备和哪些库版本下得到的。下文所有数字和图都由代码算出，换一个配置，
# 结果也会跟着变。
#
# ## 注意力权重是什么
#
# 在某一层的某一个头里，每个词元都会生成一个*查询*（query）向量和一个*键*（key）向量。
# 词元 *i* 给词元 *j* 的权重，就是查询 *i* 与键 *j* 的点积（除以向量维数的平方根）
# 在所有 *j* 上做 softmax 的结果。每一行权重加起来等于 1；这个头对词元 *i* 的输出，
# 是所有词元的*值*（value）向量按这些权重加权求和。
#
# 所以权重回答的是“**这个头从哪里读信息**”，并不回答“读到的东西对输出影响多大”：
# 被乘的值向量可长可短；残差连接本来就会把每个词元自己带过这个头；过了第一层以后，
# 所谓“某个词元”早已混进了整句话的信息。Jain 和 Wallace（2019）在
# *Attention is not Explanation* 中指出，差别很大的注意力分布可以给出同样的预测；
# Wiegreffe 和 Pinter（2019）随后回应说，只要检验得当，注意力仍然能提供信息。
# 因此，请把下面的视图当作**关于“这个头在做什么”的假设**，再用归因方法（第 01、03 课）去验证。
#
# ## transformers 5 的坑：SDPA 下拿不到注意力
#
# 我们加载角色 `bertviz` 的编码器和一句话。先用最普通的方式加载，不指定注意力的实现方式。

# %% tags=["sdpa-load"]
import torch
from transformers import AutoModel, AutoTokenizer

bert_path = explainlab.resolve("bertviz")
tokenizer = AutoTokenizer.from_pretrained(bert_path)
inputs = tokenizer("The cat sat on the mat", return_tensors="pt").to(session.device)

plain_model = AutoModel.from_pretrained(bert_path).to(session.device)
print("attention implementation:", plain_model.config._attn_implementation)

# %% [markdown]
# transformers 5 默认用 PyTorch 的融合算子 *scaled dot-product attention*（SDPA）来跑 BERT。
# 它快，正是因为从不把权重矩阵存下来，所以你要的时候它也拿不出来。即便硬要，程序也不会报错：
# transformers 只记一条警告，返回的注意力是空的。下面我们把这条警告截下来打印出来
# （同一个会话里它只警告一次：再运行一遍这个单元格，就看不到警告了）。

# %% tags=["sdpa-demo"]
import logging.handlers

caught = logging.handlers.BufferingHandler(capacity=10)
hf_logger = logging.getLogger("transformers")  # transformers 的日志记录器：警告交给 `caught`，不打到 stderr
default_handlers, hf_logger.handlers = hf_logger.handlers, [caught]
try:
    with torch.no_grad():
        plain_outputs = plain_model(**inputs, output_attentions=True)
finally:
    hf_logger.handlers = default_handlers

print("attention tensors returned under SDPA:", len(plain_outputs.attentions or ()))
for record in caught.buffer:
    print("transformers warned:", record.getMessage())

# %% [markdown]
# 拿着这样一个空结果，BertViz 无从下笔。解决办法是改用 *eager* 实现，也就是老老实实
# 算出并保留每个权重的普通 PyTorch 代码：给 `from_pretrained` 传
# `attn_implementation="eager"`（已经加载好的模型，可以调用
# `model.set_attn_implementation("eager")`）。老教程里把 `output_attentions=True`
# 传给 `from_pretrained`，这样也会选上 eager；但像上面那样只在调用模型时才传，就不行。

# %% tags=["eager"]
del plain_model, plain_outputs

model = AutoModel.from_pretrained(bert_path, attn_implementation="eager").to(session.device)
with torch.no_grad():
    outputs = model(**inputs, output_attentions=True)

tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
print("attention implementation:", model.config._attn_implementation)
print("attention tensors returned:", len(outputs.attentions))
print("shape of each (batch, heads, query tokens, key tokens):",
      tuple(outputs.attentions[0].shape))
print("tokens:", tokens)

# %% [markdown]
# 每层一个张量；每个张量里每个头一个方阵：每一行是一个发出注意力的词元（查询），
# 每一列是一个被关注的词元（键）。
#
# ## 头视图
#
# `head_view` 接收这一串张量和词元列表。加上 `html_action="return"`，它不自己显示，
# 而是把视图作为 HTML 对象返回；单元格最后一个值如果是 HTML 对象，notebook 就会把它显示出来。
#
# 怎么看：
#
# - 左列是发出注意力的词元，右列是被关注的词元。每条线是一个权重，线越深，权重越大。
# - 每种颜色代表一个头。顶部的彩色小方块用来开关各个头（单击切换，双击只看这一个头）；
#   下拉框用来选层。
# - 鼠标停在左侧某个词元上，就只显示从它出发的线（停在右侧：只显示连到它的线）。

# %% tags=["head-view"]
from bertviz import head_view

head_view(outputs.attentions, tokens, html_action="return")

# %% [markdown]
# 所有头都打开时，图会很乱。与其用眼睛一个个找，不如让代码来找一个模式清楚的头：
# 对每一层、每一个头，算出每个词分给“紧挨在它前面的词元”的平均权重。
# 得分接近 1 的头，几乎只从前一个词元读信息。

# %% tags=["previous-token"]
def strongest_head(attention, offset=-1):
    # attention：层 x 头 x 查询 x 键。返回 (层, 头, 平均权重)：
    # 词最关注“相隔 offset 个位置的 token”的那个头。
    n = attention.shape[-1]
    rows = torch.arange(1, n - 1)  # 词：除 [CLS] 和 [SEP] 之外的 token
    scores = attention[:, :, rows, rows + offset].mean(-1)  # 层 x 头
    layer, head = divmod(int(scores.argmax()), scores.shape[1])
    return layer, head, round(float(scores[layer, head]), 3)


attention = torch.stack(outputs.attentions).squeeze(1).cpu()  # 层 x 头 x 查询 x 键
layer, head, weight = strongest_head(attention, offset=-1)
print(f"previous-token head: layer {layer}, head {head}, mean weight {weight}")

# %% [markdown]
# 只打开这一个头来看头视图（层和头都从 0 开始数，和下拉框一致）。`include_layers`
# 只保留列出的层，输入较长时也能让视图轻快些。你应该看到每个词都有一条粗线连向它左边的邻居。

# %% tags=["head-view-previous"]
head_view(outputs.attentions, tokens, include_layers=[layer], layer=layer, heads=[head],
          html_action="return")

# %% [markdown]
# ## 同时输入两句话
#
# BERT 是用句子对训练的：`[CLS] 句子 A [SEP] 句子 B [SEP]`，`token_type_ids` 标出哪些
# 词元属于 B。把 B 的起始位置（`sentence_b_start`）告诉 `head_view`，下拉框里就会多出
# 几个筛选项：A 到 A、B 到 B、A 到 B、B 到 A。把一个词连到另一句中同一个词的头，
# 在“A 到 B”里最容易看出来。

# %% tags=["pair-view"]
sentence_a, sentence_b = "The cat sat on the mat", "The cat lay on the rug"
pair = tokenizer(sentence_a, sentence_b, return_tensors="pt").to(session.device)
with torch.no_grad():
    pair_outputs = model(**pair, output_attentions=True)

pair_tokens = tokenizer.convert_ids_to_tokens(pair["input_ids"][0])
sentence_b_start = pair["token_type_ids"][0].tolist().index(1)
print("sentence B starts at token", sentence_b_start, repr(pair_tokens[sentence_b_start]))
head_view(pair_outputs.attentions, pair_tokens, sentence_b_start=sentence_b_start,
          html_action="return")

# %% [markdown]
# ## 模型视图
#
# `model_view` 把每一层的每一个头都画成一张缩略图：每层一行（第一层在最上面），每个头一列。
# 点击缩略图可以放大。值得留意的形状：
#
# - 偏离中线一格的斜线：关注前一个或后一个词元的头；
# - 所有线都汇向 `[CLS]` 或 `[SEP]`：把注意力“停放”在特殊词元上的头；
# - 均匀散开的扇形：对整句话取平均的头。
#
# 上下对比各行：浅层和深层的模式并不一样。

# %% tags=["model-view"]
from bertviz import model_view

model_view(outputs.attentions, tokens, html_action="return")

# %% [markdown]
# ## 权重不等于作用
#
# 很多头把大量权重放在 `[CLS]` 和 `[SEP]` 上。Clark 等人（2019）在
# *What Does BERT Look At?* 中认为，这往往相当于“空操作”：这个头没什么可读的，就把注意力
# 停在 `[SEP]` 这个安全的地方。Kobayashi 等人（2020）在 *Attention is Not Only a Weight*
# 中把这一点量化了：一个头从词元 *j* 加到词元 *i* 上的东西，是权重乘以 *j* 变换后的值向量，
# 它的大小就是权重乘以这个向量的长度。
#
# 下一个单元格逐层比较：词的注意力有多大比例落在特殊词元上——只看权重时是多少，
# 按“权重 × 向量长度”算又是多少。

# %% tags=["weight-vs-norm"]
import pandas as pd

with torch.no_grad():
    states = model(**inputs, output_hidden_states=True).hidden_states  # 每一层的输入
    special = torch.tensor([t in tokenizer.all_special_tokens for t in tokens])
    heads = model.config.num_attention_heads
    rows = []
    for index, block in enumerate(model.encoder.layer):
        values = block.attention.self.value(states[index][0]).cpu()  # token x 隐藏维
        values = values.view(len(tokens), heads, -1).transpose(0, 1)  # 头 x token x 维数
        out_proj = block.attention.output.dense.weight.cpu()  # 隐藏维 x 隐藏维
        out_proj = out_proj.view(out_proj.shape[0], heads, -1).permute(1, 2, 0)
        lengths = (values @ out_proj).norm(dim=-1)  # 头 x token：每个向量的长度
        weights = attention[index][:, ~special]  # 头 x 词 x token
        effects = weights * lengths[:, None, :]
        rows.append({"layer": index,
                     "by weight": float(weights[..., special].sum(-1).mean()),
                     "by weight x length": float((effects[..., special].sum(-1)
                                                  / effects.sum(-1)).mean())})
print("share of the words' attention that goes to [CLS] and [SEP]:")
print(pd.DataFrame(rows).set_index("layer").round(3).to_string())

# %% [markdown]
# 如果第二列比第一列小得多，说明前面视图里那些连向 `[SEP]` 的粗线其实没搬运多少信息：
# 特殊词元的值向量很短。头视图画的是权重，不是作用。以后看到一条粗线，想说
# “模型看了这个词，所以这个词重要”之前，先想想这一点。
#
# ## 神经元视图
#
# 神经元视图打开一个头，展示它的权重是怎么算出来的：对你选中的词元，显示它的查询向量、
# 每个词元的键向量、两者逐元素的乘积，以及经 softmax 变成权重之前的点积。
# 正值为蓝色，负值为橙色。
#
# transformers 的模型不返回查询和键，所以 BertViz 自带了一份旧版 BERT 实现
# `bertviz.transformers_neuron_view`，有自己的 `BertModel` 和 `BertTokenizer`。
# 它们的 `from_pretrained` 里记的还是 2019 年的下载地址，早已失效；不过只要给它一个
# **本地文件夹**，里面有 `config.json`、`vocab.txt` 和 `pytorch_model.bin`，它就能从中加载。
# 离线配置下，角色 `bert-neuron` 给的正是这样一个文件夹；hub 配置下给的是模型 id，
# 所以要先把这几个文件下载下来。

# %% tags=["neuron-folder"]
import os

NEURON_FILES = ["config.json", "vocab.txt", "tokenizer_config.json", "pytorch_model.bin"]

neuron_path = explainlab.resolve("bert-neuron")
if not os.path.isfile(os.path.join(neuron_path, "pytorch_model.bin")):
    # 拿到的是模型 id（或不含旧格式权重的镜像副本）：下载旧加载器要读的文件
    hub_id = explainlab.models.get_role("bert-neuron").hub_id
    neuron_path = str(explainlab.download(hub_id, include=NEURON_FILES))
print("loading from a local folder:", os.path.isdir(neuron_path))
print("files the old loader reads:",
      [f for f in NEURON_FILES if os.path.isfile(os.path.join(neuron_path, f))])

# %% [markdown]
# 用 BertViz 自己的类（不是 transformers 的）加载模型和分词器。这份旧代码只能在 CPU 上跑。

# %% tags=["neuron-load"]
from bertviz.transformers_neuron_view import BertModel, BertTokenizer

neuron_model = BertModel.from_pretrained(neuron_path)
neuron_tokenizer = BertTokenizer.from_pretrained(neuron_path)
print(type(neuron_model).__module__, type(neuron_model).__name__)
print(neuron_tokenizer.tokenize(sentence_a))

# %% [markdown]
# `neuron_view.show` 会自己运行模型。我们把它打开在*这个*模型的“前一个词元”头上
# （这是另一个模型，所以要重新找一遍），权重用 BertViz 自带的 `get_attention` 读取。

# %% tags=["neuron-view"]
from bertviz import neuron_view

neuron_attention = neuron_view.get_attention(neuron_model, "bert", neuron_tokenizer, sentence_a)
neuron_layer, neuron_head, neuron_weight = strongest_head(
    torch.tensor(neuron_attention["all"]["attn"]))
print(f"previous-token head: layer {neuron_layer}, head {neuron_head}, "
      f"mean weight {neuron_weight}")
neuron_view.show(neuron_model, "bert", neuron_tokenizer, sentence_a,
                 layer=neuron_layer, head=neuron_head, html_action="return")

# %% [markdown]
# 怎么看：鼠标停在左侧某个词元上，点击出现的 ⊕ 展开这个头。各列依次是这个词元的查询、
# 右侧每个词元的键、两者的逐元素乘积 *q × k*，以及乘积之和 *q · k*。*q · k* 最大的那个
# 在 softmax 里拿走大部分权重。在“前一个词元”头里，留意那几个只对左邻居呈深蓝色的维度：
# 这个头正是靠它们来表示“我前面那个位置”。

# %%
import gc

del model, outputs, pair_outputs, neuron_model
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## 翻译模型：编码器、解码器与交叉注意力
#
# 像第 01 课的 MarianMT 翻译模型（角色 `mt-zh-en`）这样的编码器-解码器模型，有三类注意力：
#
# - **编码器自注意力**：中文源词元关注源词元；
# - **解码器自注意力**：英文词元关注它之前的英文词元（不会往后看：解码器从左往右写）；
# - **交叉注意力**：英文词元关注中文源句。三者之中，它最接近词对齐。
#
# Marian 在 SDPA 下同样会掉进那个坑，所以也用 eager 注意力加载。

# %% tags=["translation"]
from transformers import MarianMTModel, MarianTokenizer

mt_path = explainlab.resolve("mt-zh-en")
mt_tokenizer = MarianTokenizer.from_pretrained(mt_path)
mt_model = MarianMTModel.from_pretrained(mt_path, attn_implementation="eager").to(session.device)

source = "我喜欢机器学习和人工智能。"
encoded = mt_tokenizer(source, return_tensors="pt").to(session.device)
with torch.no_grad():
    generated = mt_model.generate(**encoded)
print("translation:", mt_tokenizer.decode(generated[0], skip_special_tokens=True))

# %% [markdown]
# `generate` 返回的注意力不是 BertViz 能读的格式，所以我们把源句和完整译文一起再喂给模型
# 跑一遍（*teacher forcing*，教师强制），取这一次前向计算的注意力。
#
# 读解码器注意力和交叉注意力时有个细节要注意：解码器的输入是译文整体右移一位，开头是一个
# 起始词元（Marian 用 `<pad>`），某个词元所在的那一行，是**预测下一个词元**的那一步。
# `<pad>` 那一行，就是模型决定第一个英文词的地方。

# %% tags=["mt-attention"]
with torch.no_grad():
    mt_outputs = mt_model(**encoded, decoder_input_ids=generated, output_attentions=True)

source_tokens = explainlab.clean_tokens(
    mt_tokenizer.convert_ids_to_tokens(encoded["input_ids"][0]), mt_tokenizer)
target_tokens = explainlab.clean_tokens(
    mt_tokenizer.convert_ids_to_tokens(generated[0]), mt_tokenizer)
print("source tokens:", source_tokens)
print("decoder input tokens:", target_tokens)
print("layers (encoder, decoder, cross):", len(mt_outputs.encoder_attentions),
      len(mt_outputs.decoder_attentions), len(mt_outputs.cross_attentions))

# %% [markdown]
# 把三组注意力和两组词元交给 `head_view`。下拉框现在可以在 *Encoder*（编码器）、
# *Decoder*（解码器）和 *Cross*（交叉）之间切换。交叉视图里，英文词元在左，中文词元在右。

# %% tags=["mt-head-view"]
head_view(encoder_attention=mt_outputs.encoder_attentions,
          decoder_attention=mt_outputs.decoder_attentions,
          cross_attention=mt_outputs.cross_attentions,
          encoder_tokens=source_tokens, decoder_tokens=target_tokens,
          html_action="return")

# %% [markdown]
# 交叉注意力能找出词对齐吗？对每个英文词，下一个单元格取出生成它的那一步所在的行，
# 把最后一层的各个头取平均，打印权重最大的中文词元。第 01 课用显著性（saliency）
# 做过同样的事，可以对照着看。

# %% tags=["cross-alignment"]
cross = mt_outputs.cross_attentions[-1][0].mean(0).cpu()  # 解码步 x 源 token
rows = []
for step in range(len(target_tokens) - 1):
    produced = target_tokens[step + 1]  # 这一步预测出的 token
    best = int(cross[step].argmax())
    rows.append({"English token": produced, "most attended source token": source_tokens[best],
                 "weight": round(float(cross[step, best]), 3)})
print(pd.DataFrame(rows).to_string(index=False))

# %% [markdown]
# 如果最受关注的正是你手工对齐时会选的那个中文词，注意力和对齐就一致；如果是相邻的词、
# 标点或 `</s>`，就不一致。对各头取平均会把对齐得好的头淹没掉：到上面的交叉视图里逐个开关
# 各个头，把它们找出来。无论如何，权重说明的是解码器从哪里读，而不是它为什么选这个词；
# 后一个问题要靠归因方法来回答。
#
# ## 练习
#
# **1.** 换一句你自己的话，找出最关注**后一个**词元的头。修改 `my_sentence` 和
# `offset`（-1 表示前一个，+1 表示后一个，0 表示自己），再运行这个单元格。
# 换了句子，找到的还是同一个头吗？

# %% tags=["exercise-1"]
my_sentence = "A small dog chased the red ball"
offset = 1

model = AutoModel.from_pretrained(bert_path, attn_implementation="eager").to(session.device)
my_inputs = tokenizer(my_sentence, return_tensors="pt").to(session.device)
with torch.no_grad():
    my_attention = model(**my_inputs, output_attentions=True).attentions
my_tokens = tokenizer.convert_ids_to_tokens(my_inputs["input_ids"][0])
my_layer, my_head, my_weight = strongest_head(torch.stack(my_attention).squeeze(1).cpu(), offset)
print(f"offset {offset}: layer {my_layer}, head {my_head}, mean weight {my_weight}")
head_view(my_attention, my_tokens, include_layers=[my_layer], layer=my_layer, heads=[my_head],
          html_action="return")

# %% [markdown]
# **2.** 把同一句话换成繁体字来翻译（第 01 课的翻译模型简繁都认），再看交叉视图。
# 機器、學習 找到的英文搭档，和 机器、学习 一样吗？修改 `my_source` 后运行这个单元格。

# %% tags=["exercise-2"]
my_source = "我喜歡機器學習和人工智慧。"

my_encoded = mt_tokenizer(my_source, return_tensors="pt").to(session.device)
with torch.no_grad():
    my_generated = mt_model.generate(**my_encoded)
    my_outputs = mt_model(**my_encoded, decoder_input_ids=my_generated, output_attentions=True)
print("translation:", mt_tokenizer.decode(my_generated[0], skip_special_tokens=True))
head_view(cross_attention=my_outputs.cross_attentions,
          encoder_tokens=explainlab.clean_tokens(
              mt_tokenizer.convert_ids_to_tokens(my_encoded["input_ids"][0]), mt_tokenizer),
          decoder_tokens=explainlab.clean_tokens(
              mt_tokenizer.convert_ids_to_tokens(my_generated[0]), mt_tokenizer),
          html_action="return")

# %% [markdown]
# **3.**（不用写代码。）同学指着某一层里从 “sat” 连到 “cat” 的一条粗线，得出结论：
# 对模型怎样表示 “sat” 来说，“cat” 是最重要的词。请结合“权重不等于作用”一节的表格，
# 写出两条理由说明光凭这条线得不出这个结论，并说出第 01 或 03 课里哪种方法可以检验这个说法。

# %%
del model, mt_model, mt_outputs, my_outputs
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## 小结
#
# - 在 transformers 5 里，要拿注意力，先用 `attn_implementation="eager"` 加载模型；
#   默认的 SDPA 下，返回的注意力是空的，只留下一条警告。
# - 头视图把一层的各个头画成连线；模型视图把所有头画成缩略图；神经元视图展示一个头内部的
#   查询和键，它需要用 BertViz 自己的模型类从本地文件夹加载。
# - 对编码器-解码器模型，头视图可以同时接收编码器、解码器和交叉注意力；解码器的某一行，
#   是预测下一个词元的那一步。
# - 注意力权重说明一个头从哪里读信息，而不是什么对输出重要。用它来提出假设，用归因方法来检验。
