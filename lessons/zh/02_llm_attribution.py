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
# # 解释语言模型生成的每一个词
#
# 第 01 课里，翻译模型读入一句中文、写出一句英文，Inseq 告诉我们每个英文词来自哪些源语言词。
# 像 Qwen3 这样的对话模型没有单独的"源句"：它读入一段提示（prompt），然后接着往下写，
# 一次一个词元。本课要问的是：它写出的每个词元，依靠的是前面哪些词元？
#
# 本课你将：
#
# - 为仅解码器（decoder-only）模型设置填充词元（pad token），并弄清它为什么重要；
# - 用显著性（saliency）和注意力（attention）归因 "Hello world" 和一条事实性提示；
# - 用**对比归因**提出一个更尖锐的问题：为什么是 "Paris" 而不是 "London"？
# - 认识对话模板（chat template）的陷阱：模板自己的词元也会进入归因结果；
# - 在有 GPU 的机器上以 8 比特加载 GPT-2 XL。

# %% tags=["setup"]
import importlib.util

# 在中国大陆，Hugging Face 和 PyPI 较慢时，去掉下面两行开头的“# ”，改用镜像下载模型和软件包：
# # %env HF_ENDPOINT=https://hf-mirror.com
# # %env PIP_INDEX_URL=https://pypi.tuna.tsinghua.edu.cn/simple
if importlib.util.find_spec("explainlab") is None:  # Colab、Kaggle 或新建的环境：安装课程软件包
    # %pip install -q "explainlab @ git+https://github.com/explainlab/explainlab"

import explainlab

session = explainlab.setup()

# %% [markdown]
# 上面打印的这一行写明了本页输出来自哪个配置（`hub`：真实的 Qwen3-0.6B 和 GPT-2；
# `offline`：课程为它们训练的小型替身模型），以及设备和各个库的版本。下文所有数字都由代码打印，
# 换一个配置，数字也会跟着变。
#
# ## 仅解码器模型，以及 Inseq 归因的对象
#
# 我们向课程包索取角色 `lm`：在 hub 配置下是 Qwen/Qwen3-0.6B，离线时是同一个类
# （`Qwen3ForCausalLM`，字节级 BPE 分词器）的小模型。模型只加载一次，并指定
# `attn_implementation="eager"`：transformers 默认的注意力实现（SDPA）根本不会构造注意力矩阵，
# 后面就没法把注意力权重交给 Inseq。
#
# 我们还要选定数据类型（dtype）。Qwen3-0.6B 以 bfloat16 发布，transformers 默认按检查点自己的
# 类型加载。`session.dtype` 在 CPU 上是 float32，原因有二：bfloat16 的梯度只有 8 位精度，
# 较小的归因值会被舍入成同一个数，排名随之并列；没有 bfloat16 指令的 CPU 算 bfloat16 要比算
# float32 慢好几倍。在 CUDA GPU 上它是 `"auto"`，即发布时的类型，显存减半；之后
# `clean_attribution` 会先把分数转成 float32，Inseq 才能画图。

# %% tags=["load-lm"]
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

lm_path = explainlab.resolve("lm")
tokenizer = AutoTokenizer.from_pretrained(lm_path)
model = AutoModelForCausalLM.from_pretrained(
    lm_path, dtype=session.dtype, device_map=session.device_map, attn_implementation="eager")
print("model:", explainlab.models.describe("lm"))
print("class:", type(model).__name__, "| tokenizer:", type(tokenizer).__name__,
      "| dtype:", model.dtype)

# %% [markdown]
# 仅解码器模型只看到一条序列：先是提示，再是它已经写出的内容。第 *t* 步时，它根据
# **前面所有的词元**（不论来自提示还是它自己的输出）预测第 *t* 个词元。
# 所以 Inseq 给这类模型画的不是第 01 课那种"源 × 目标"的矩阵，而是一个三角形：
# 第 *t* 个生成的词元由它左边的每一个词元来解释。
#
# ## 填充：仅解码器模型为什么需要填充词元
#
# 只有一条提示时不需要填充。可一**批**长短不一的提示就需要了：短的要用填充词元补齐，
# 拼成一个矩形；再用*注意力掩码*（attention mask，1 表示真实词元，0 表示填充）
# 告诉模型忽略补上的部分。先看看两类模型各自的填充词元。

# %% tags=["pad-tokens"]
gpt2_tokenizer = AutoTokenizer.from_pretrained(explainlab.resolve("lm-gpt2"))

for name, tok in [("lm", tokenizer), ("lm-gpt2", gpt2_tokenizer)]:
    print(f"{name:8} pad={tok.pad_token!r:16} eos={tok.eos_token!r:16} side={tok.padding_side}")

# %% [markdown]
# Qwen 的分词器自带填充词元（`<|endoftext|>`）。GPT-2 训练时就没有这个词元，
# 所以给一批提示做填充会直接报错：

# %% tags=["pad-error"]
prompts = ["Hello world", "The capital of France is"]
try:
    gpt2_tokenizer(prompts, padding=True)
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# 常见的解决办法，报错信息里已经写了：把序列结束符（eos）拿来当填充词元。
# 这样做之所以安全，**正是因为**注意力掩码会把填充部分对模型遮住。
# 还要告诉 `generate` 一声（`generation_config.pad_token_id`），否则每次调用它都会弹出警告；
# 本课最后加载 GPT-2 时就会这样做。
#
# 填充要放在**左边**。仅解码器模型是在序列右端往后写的；如果填充在右边，
# 第一个新词元接在一串 pad 后面，而不是接在提示的最后一个词后面。

# %% tags=["pad-setup"]
gpt2_tokenizer.pad_token = gpt2_tokenizer.eos_token  # 自己没有 pad token：借用 eos
gpt2_tokenizer.padding_side = "left"  # 填充放在提示前面，生成才能紧接着提示往下写

batch = gpt2_tokenizer(prompts, padding=True)
for ids, mask in zip(batch["input_ids"], batch["attention_mask"]):
    tokens = explainlab.clean_tokens(gpt2_tokenizer.convert_ids_to_tokens(ids), gpt2_tokenizer)
    print(tokens, mask)

# %% [markdown]
# 掩码到底起什么作用？我们用 Qwen 把两条提示放在同一批里生成两次：一次带正确的掩码，
# 一次用全 1 的掩码——没人传掩码时，模型看到的就是这样。没有掩码，
# 短提示的续写会把填充当成真正的词来计算；比较它的两行输出。

# %% tags=["pad-mask"]
tokenizer.padding_side = "left"
batch = tokenizer(prompts, return_tensors="pt", padding=True).to(model.device)
with torch.no_grad():
    masked = model.generate(**batch, max_new_tokens=6, do_sample=False)
    unmasked = model.generate(input_ids=batch["input_ids"], max_new_tokens=6, do_sample=False,
                              attention_mask=torch.ones_like(batch["input_ids"]))
width = batch["input_ids"].shape[1]
for label, ids in [("with mask", masked), ("mask of ones", unmasked)]:
    print(f"{label:13}", tokenizer.batch_decode(ids[:, width:], skip_special_tokens=True))

# %% [markdown]
# **Inseq 怎样使用填充词元。** 加载模型时，Inseq 先从模型配置里取 pad id，
# 没有就从分词器取，再没有就用 eos，并把它交给原本没有填充词元的分词器；
# 对仅解码器模型，它还会设置 `padding_side="left"`，并用这个词元填充成批的提示。
# 但 Inseq 0.7 还留着一个坑：由它**自己生成**续写时，并不传注意力掩码，
# 所以一批长短不一的提示会像上面 "mask of ones" 那一行一样被生成。
# 要么一次只归因一条提示，要么自己带着掩码批量生成，
# 再把结果作为 `generated_texts` 交给 Inseq（它随后会逐条归因）。
#
# ## 先生成要解释的续写
#
# 先不做归因，只看模型的回答。这里用贪心解码（`do_sample=False`）：真实的 Qwen3 默认采样，
# 而对一次随机抽样的解释，只解释了那一次抽样。

# %% tags=["check-generation"]
for prompt in ["Hello world", "The capital of France is"]:
    inputs = tokenizer(prompt, return_tensors="pt").to(model.device)
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    continuation = tokenizer.decode(output[0, inputs["input_ids"].shape[1]:],
                                    skip_special_tokens=True)
    print(f"{prompt!r} -> {continuation!r}")

# %% [markdown]
# ## 对 "Hello world" 做显著性归因
#
# **显著性**问的是：把第 *i* 个词元的输入嵌入（embedding）轻轻推一下，第 *t* 步生成的
# 词元的概率会变多少？它就是这个概率对前面每个词元嵌入的梯度。Inseq 再把每个词元
# 的梯度向量变成一个数（向量长度，即 L2 范数），并把每一列缩放到和为 1。
# 因此这些分数是**相对的**：只说明在同一个生成词元内，哪些前文词元更重要；
# 不能跨列当作绝对量比较，也没有正负号。
#
# 我们把已经加载好的模型交给 Inseq 包装（不会重新下载），做归因，再用 `clean_attribution`
# 把字节级词元还原成可读的文字。`step_scores=["probability"]` 会多出一行：
# 模型给每个生成词元的概率。

# %% tags=["inseq-load"]
import inseq

inseq_model = inseq.load_model(model, "saliency", tokenizer=tokenizer)
print("pad token used by Inseq:", repr(inseq_model.pad_token),
      "| padding side:", inseq_model.tokenizer.padding_side)

# %% tags=["check-show"]
hello = inseq_model.attribute(
    "Hello world", generation_args={"max_new_tokens": 8, "do_sample": False},
    step_scores=["probability"], show_progress=False)
hello = explainlab.clean_attribution(hello, tokenizer)
hello.show()

# %% [markdown]
# **怎么读这张热力图。** 每一**列**是一个生成的词元，每一**行**是它生成时已经存在的词元
# （先是提示，再是之前的输出）。每列之和为 1；格子颜色越深，这一行在梯度中占的份额越大。
# 阶梯下方的格子是空的：一个词元不可能依赖它自己或它之后才写出的词元。
# 最后一行 `probability` 不是归因，而是模型对每个词元有多大把握。
# 因为每列都做了归一化，一个把握十足的列和一个犹豫不决的列，看起来可能一样"鲜明"。
#
# ## 事实性提示："Paris" 从何而来？
#
# 现在换成包含事实的提示。我们要看第一个生成词元那一列，并按分数给提示里的词元排序。
# 下面这个小函数负责读数：`aggregate()` 做的就是前面说的 L2 范数和归一化，
# 得到一张"词元 × 生成词元"的表。

# %% tags=["ranking-helper"]
def ranking(output, step=0):
    # 第 `step` 个生成 token（0 表示第一个）之前的所有 token，按分数从高到低排列。
    sequence = output.sequence_attributions[0].aggregate()
    start = sequence.attr_pos_start  # 生成部分从这里开始
    scores = sequence.target_attributions[: start + step, step]
    tokens = [t.token for t in sequence.target[: start + step]]
    print(f"generated token: {sequence.target[start + step].token!r}")
    ranked = sorted(zip(tokens, scores.tolist()), key=lambda pair: -pair[1])
    for token, score in ranked:
        print(f"  {token!r:>12}  {score:.3f}")
    return ranked


# %% tags=["check-top-token"]
fact = inseq_model.attribute(
    "The capital of France is", generation_args={"max_new_tokens": 3, "do_sample": False},
    show_progress=False)
fact = explainlab.clean_attribution(fact, tokenizer)
fact_ranking = ranking(fact)
print("highest saliency:", repr(fact_ranking[0][0]))

# %% [markdown]
# 上面的排序，就是模型自己对"你主要依靠哪个词"的回答。问首都时，我们希望排在最前的是国家名。
# 常常和它争第一的有两类词元：
#
# - 像 "capital" 这种说明"要什么类型的答案"的词；
# - 提示的**最后一个**词元。下一个词元正是在它的位置上预测出来的，
#   梯度传回它的嵌入走的是最短的路。它得分高，是梯度方法的"近因效应"，
#   并不说明 "is" 知道巴黎。
#
# 还要记住，显著性衡量的是敏感度，而不是贡献：模型已经很有把握时（概率接近 1，几乎推不动），
# 所有梯度都很小，归一化之后的这一列只是告诉你，这些小梯度里哪个相对没那么小。
#
# 再用中文试一次。Qwen 的分词器以**字节**为单位：一个汉字占两到三个字节，
# 原始词元看起来像 `æ³ķåĽ½` 这样的乱码。`clean_attribution` 会把字节还原成汉字
# （一个汉字被拆进两个词元时，分别标成 `字(1/2)`、`字(2/2)`）。

# %% tags=["check-chinese"]
zh_fact = inseq_model.attribute(
    "法国的首都是", generation_args={"max_new_tokens": 3, "do_sample": False},
    show_progress=False)
raw = [t.token for t in zh_fact.sequence_attributions[0].target]
zh_fact = explainlab.clean_attribution(zh_fact, tokenizer)
print("raw tokens:    ", raw)
print("cleaned tokens:", [t.token for t in zh_fact.sequence_attributions[0].target])
zh_ranking = ranking(zh_fact)
print("highest saliency:", repr(zh_ranking[0][0]))
zh_fact.show()

# %% [markdown]
# ## 同样的提示，换成注意力
#
# Inseq 的 `attention` 方法不算梯度：它读取前向计算中的注意力权重，对所有头和所有层取平均，
# 取的是生成每个词元那一步的权重。我们沿用同一个包装好的模型，只换方法。

# %% tags=["attention"]
fact_attention = inseq_model.attribute(
    "The capital of France is", method="attention",
    generation_args={"max_new_tokens": 3, "do_sample": False}, show_progress=False)
fact_attention = explainlab.clean_attribution(fact_attention, tokenizer)
attention_ranking = ranking(fact_attention)
fact_attention.show()

# %% [markdown]
# 把这个排序和显著性的排序比一比。两者一致固然好；不一致时，记住它们各自衡量的是什么：
#
# - 注意力权重说明的是**某个头从哪里读取信息**，而不是这次读取对预测改变了多少。
#   对所有头和层取平均，会把真正起作用的头，和那些把权重"停放"在第一个词元上的头混在一起
#   （这是仅解码器模型的常见习惯，称为*注意力汇聚*，attention sink）；
# - 过了第一层，位置 *i* 上的向量已经混入了许多词元的信息，
#   "对第 *i* 个词元的注意力"并不只是对第 *i* 个词的注意力。
#
# 注意力是了解模型机制的廉价线索，却不是对输出的解释。
#
# ### 练习 1
#
# 把 `method` 改成 `"input_x_gradient"`（梯度乘以嵌入）或 `"integrated_gradients"`
# （沿着从基线到输入的路径对梯度求平均，较慢），把排第一的词元与上面两个排序比较。

# %% tags=["exercise-methods"]
method = "input_x_gradient"  # 也可以试试 "integrated_gradients"、"saliency"、"attention"
other = inseq_model.attribute(
    "The capital of France is", method=method,
    generation_args={"max_new_tokens": 3, "do_sample": False}, show_progress=False)
other_ranking = ranking(explainlab.clean_attribution(other, tokenizer))

# %% [markdown]
# ## 对比归因：为什么是 "Paris" 而不是 "London"？
#
# "哪些词元让 *Paris* 变得可能？"其实混着两个问题：为什么要输出一个城市名，
# 以及为什么是这个城市。对比归因（Yin 和 Neubig，2022）只问后一个。被归因的量是一个差值：
#
# P("Paris" | 提示) − P("London" | 提示)
#
# 在 Inseq 里，它是步函数 `contrast_prob_diff`。我们把要解释的文本交给它
# （`generated_texts`，这里是提示加上 " Paris"：是强制给定的，不是模型生成的），
# 把另一个候选作为 `contrast_targets`。
#
# 每次做对比归因，Inseq 都会警告：梯度只经过原始输入（另一个候选只决定减去哪个概率）。
# 这正是我们想要的，所以用一个小函数把这一条警告、也只把这一条屏蔽掉。

# %% tags=["contrast-helper"]
import warnings


def contrastive(prompt, answer, alternative, **kwargs):
    # 归因提示之后的 P(answer) - P(alternative)；两个答案都是强制给定的，不是生成的。
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Contrastive inputs do not match",
                                category=UserWarning)
        return inseq_model.attribute(
            prompt, prompt + answer, attributed_fn="contrast_prob_diff",
            contrast_targets=prompt + alternative, show_progress=False, **kwargs)


# %% [markdown]
# 步骤分数里同时要两个概率和它们的差：差为正，说明模型更偏向 Paris。

# %% tags=["check-contrast"]
prompt = "The capital of France is"
contrast = contrastive(prompt, " Paris", " London",
                       step_scores=["probability", "contrast_prob", "contrast_prob_diff"])
steps = contrast.sequence_attributions[0].step_scores
print(f"P(Paris)  = {steps['probability'][0].item():.4f}")
print(f"P(London) = {steps['contrast_prob'][0].item():.4f}")
print(f"contrast_prob_diff = {steps['contrast_prob_diff'][0].item():.4f}")
print("Paris preferred over London:", steps["contrast_prob_diff"][0].item() > 0)
contrast_ranking = ranking(explainlab.clean_attribution(contrast, tokenizer))

# %% [markdown]
# 这里的生成词元标成了"候选 → 强制给定的词元"（"London → Paris"）。
# 它的分数回答的问题比之前更窄：推动哪些词元，会改变两个城市之间的**差距**。
# 一个只宣告"接下来是个城市"的词元，会让两个概率一起涨落，差距不变。
#
# 把这个排序和 "Paris" 的普通显著性排序比较。如果两者几乎一样，看看 P(London)：
# 模型几乎不给 London 概率时，P(London) 的梯度也几乎为零，这个差值就和单独的 P(Paris) 没什么两样。
# 解决办法是比较**对数**概率，即 `logprob=True`：log P(Paris) − log P(London)
# 等于两个 logit 之差，不会因为某个答案不太可能就消失。
# （两种写法下显著性都没有正负号：分数高并不说明差距会朝哪个方向变。）

# %% tags=["contrast-show"]
contrast_log = contrastive(prompt, " Paris", " London", logprob=True,
                           step_scores=["contrast_prob_diff"])
gap = contrast_log.sequence_attributions[0].step_scores["contrast_prob_diff"][0].item()
print(f"log P(Paris) - log P(London) = {gap:.2f}")
contrast_log = explainlab.clean_attribution(contrast_log, tokenizer)
contrast_log_ranking = ranking(contrast_log)
contrast_log.show()

# %% [markdown]
# 两个陷阱：
#
# - 两个答案最好**各只占一个词元**（这里是带前导空格的 " Paris" 和 " London"）。
#   如果候选更长，Inseq 就得对齐两条序列（`contrast_targets_alignments`），
#   这一步比较的就不再是同类的东西；
# - 强制给定的文本未必是模型自己会说的。强制一个不太可能的答案，
#   解释的是一句模型并没有选择的话。
#
# ### 练习 2
#
# 换一个国家问同样的问题："The capital of Japan is"，" Tokyo" 对 " Beijing"；
# 或者换成中文：法国的首都是，巴黎 对 伦敦。先用前面生成续写的那个单元格看看模型实际怎么回答。

# %% tags=["exercise-contrast"]
prompt, answer, alternative = "The capital of Japan is", " Tokyo", " Beijing"
exercise = contrastive(prompt, answer, alternative, logprob=True,
                       step_scores=["contrast_prob_diff"])
gap = exercise.sequence_attributions[0].step_scores["contrast_prob_diff"][0].item()
print(f"log P({answer.strip()}) - log P({alternative.strip()}) = {gap:.2f}")
exercise_ranking = ranking(explainlab.clean_attribution(exercise, tokenizer))

# %% [markdown]
# ## 对话模板：你看不见的那部分提示
#
# 对话模型是在固定格式写成的对话上训练的，这个格式就是它的**对话模板**
# （Qwen 用的是 ChatML：`<|im_start|>user ... <|im_end|>`）。向它提问时，
# 不能直接归因光秃秃的问题，而要先用 `apply_chat_template` 套上模板：
#
# - `tokenize=False` 返回套好模板的**文本**，Inseq 要的正是文本；
# - `add_generation_prompt=True` 会在末尾加上助手回合的开头。少了它，
#   模型会接着写*用户*的话；
# - `enable_thinking=False` 是 Qwen3"思考"模式的开关。真实的 Qwen3 默认先写一段
#   `<think> ... </think>` 推理，既耗掉 `max_new_tokens`，又让每一步归因更慢。
#   关掉开关后，真实模板会在助手回合开头后面插入一个**空的** think 块。
#   离线替身没有思考模式，它的模板会忽略这个开关：下一个单元格会告诉你，
#   在当前配置下这个开关有没有改变提示。

# %% tags=["chat-template"]
messages = [{"role": "user", "content": "What is the capital of France?"}]
default_prompt = tokenizer.apply_chat_template(
    messages, tokenize=False, add_generation_prompt=True)
chat_prompt = tokenizer.apply_chat_template(
    messages, tokenize=False, add_generation_prompt=True, enable_thinking=False)
print("default:             ", repr(default_prompt))
print("enable_thinking=False:", repr(chat_prompt))
print("the switch changed the prompt:", default_prompt != chat_prompt)

# %% [markdown]
# 现在对这个套好模板的提示，归因模型的回答。

# %% tags=["chat-show"]
chat = inseq_model.attribute(
    chat_prompt, generation_args={"max_new_tokens": 12, "do_sample": False},
    show_progress=False)
chat = explainlab.clean_attribution(chat, tokenizer)
chat.show()

# %% [markdown]
# 每个模板词元（`<|im_start|>`、`user`、换行、`assistant`，真实 Qwen3 上还有那个空的
# think 块）都和问题里的词一样，是热力图中的一行，而且常常分走相当大的份额：
# 模型确实要靠它们才知道该作答了。这里的份额有多大？我们按字符偏移找出属于问题的词元，
# 再把所有生成词元的分数中落在模板上的部分加起来。

# %% tags=["chat-share"]
def template_share(prompt, question, output):
    # 在所有生成 token 上，提示的分数中落在模板 token 上的比例。
    begin = prompt.index(question)
    end = begin + len(question)
    offsets = tokenizer(prompt, return_offsets_mapping=True)["offset_mapping"]
    in_question = torch.tensor([begin <= a and b <= end for a, b in offsets])
    sequence = output.sequence_attributions[0].aggregate()
    scores = sequence.target_attributions[: len(offsets)].nan_to_num()  # 只取提示的各行
    share = float(scores[~in_question].sum() / scores.sum())
    print(f"prompt tokens: {len(offsets)}, of which template: {int((~in_question).sum())}")
    print(f"share of the scores on template tokens: {share:.3f}")
    return share


chat_share = template_share(chat_prompt, messages[0]["content"], chat)

# %% [markdown]
# 对话模板的几个陷阱：
#
# - **不要靠删掉模板来"隐藏"它。** `attribute(..., skip_special_tokens=True)`
#   会在模型看到之前就从*文本*里删掉特殊词元，于是你解释的是另一条提示，
#   而不是模型在对话中真正回答的那条。保留它们，只在*读结果*时把它们排除（像上面算份额那样）。
# - **不要分词两次。** 把文本交给 Inseq（`tokenize=False`）。有些模型的模板以 BOS 词元开头，
#   再用 `add_special_tokens=True` 对这段文本分词，就会多出第二个 BOS。
#   Qwen 没有 BOS 词元，所以不受影响。
# - **归一化的列会掩盖稀释。** 每列之和为 1，模板词元越多，问题里每个词元看起来就越小。
#   问题中的词元应该彼此比较，而不要拿去和没有模板的热力图比较。
#
# ### 练习 3
#
# 通过模板换一个问题，再看看份额。离线替身能回答的不过是问候（"Hello!"）、
# 几个首都和美国第一任总统，即便这些也可能答错：先读答案，再读它的解释。

# %% tags=["exercise-chat"]
my_question = "Who was the first president of America?"
my_prompt = tokenizer.apply_chat_template(
    [{"role": "user", "content": my_question}],
    tokenize=False, add_generation_prompt=True, enable_thinking=False)
my_chat = inseq_model.attribute(
    my_prompt, generation_args={"max_new_tokens": 14, "do_sample": False},
    show_progress=False)
print("answer:", repr(my_chat.info["generated_texts"][0][len(my_prompt):]))
my_share = template_share(my_prompt, my_question, my_chat)

# %% [markdown]
# Qwen 用完了：加载下一个模型之前，先释放它占用的内存。

# %% tags=["free-lm"]
import gc

del inseq_model, model
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## 以 8 比特加载 GPT-2 XL
#
# GPT-2 XL 有 15 亿个参数：用 32 位浮点数存要好几 GB，在免费 GPU 上再加上归因所需的梯度，
# 显存就很紧张了。**bitsandbytes** 可以把线性层的权重改存为 8 比特整数
# （`BitsAndBytesConfig(load_in_8bit=True)`），只占 32 位浮点数四分之一的字节，
# 而矩阵乘法中的离群值仍用 16 位计算（LLM.int8）。它只能在 CUDA GPU 上运行。
# 下面的单元格在机器同时具备 GPU 和这个包时（Colab 上先 `pip install bitsandbytes`）
# 以 8 比特加载 GPT-2 XL；否则打印说明，改为正常加载小号的 GPT-2。
# 两种情况都沿用前面设置好填充词元的分词器（GPT-2 和 GPT-2 XL 的分词器相同）。

# %% tags=["check-8bit"]
from transformers import BitsAndBytesConfig

on_gpu = session.device.startswith("cuda")  # the device setup() chose
has_bnb = importlib.util.find_spec("bitsandbytes") is not None
if on_gpu and has_bnb:
    gpt2_path = explainlab.resolve("lm-gpt2", variant="xl")
    gpt2 = AutoModelForCausalLM.from_pretrained(
        gpt2_path, quantization_config=BitsAndBytesConfig(load_in_8bit=True),
        device_map=session.device_map)
    print("Loaded in 8-bit with bitsandbytes:",
          explainlab.models.describe("lm-gpt2", variant="xl"))
else:
    print(f"8-bit loading skipped: it needs a CUDA device (this session: {session.device}) "
          f"and the bitsandbytes package (installed: {has_bnb}).")
    gpt2_path = explainlab.resolve("lm-gpt2")
    gpt2 = AutoModelForCausalLM.from_pretrained(gpt2_path, device_map=session.device_map)
    print("Loaded the small GPT-2 in full precision instead:",
          explainlab.models.describe("lm-gpt2"))
gpt2.generation_config.pad_token_id = gpt2_tokenizer.pad_token_id  # pad 设置，也要告诉 generate
print(f"memory footprint: {gpt2.get_memory_footprint() / 2**20:.0f} MiB")

# %% [markdown]
# 归因代码与精度无关：包装模型、归因、清理词元、显示。
# （梯度会穿过 8 比特的层传回嵌入层，而 bitsandbytes 不量化嵌入层，
# 所以显著性在量化后的模型上同样可用。）

# %% tags=["gpt2-show"]
gpt2_inseq = inseq.load_model(gpt2, "saliency", tokenizer=gpt2_tokenizer)
gpt2_hello = gpt2_inseq.attribute(
    "Hello world", generation_args={"max_new_tokens": 8, "do_sample": False},
    step_scores=["probability"], show_progress=False)
explainlab.clean_attribution(gpt2_hello, gpt2_tokenizer).show()

# %% [markdown]
# ### 练习 4
#
# 给 GPT-2 一条你自己写的事实性提示，读一读第一个生成词元的排序。
# 然后像最后一个单元格那样释放内存。

# %% tags=["exercise-gpt2"]
gpt2_fact = gpt2_inseq.attribute(
    "The capital of Germany is", generation_args={"max_new_tokens": 3, "do_sample": False},
    show_progress=False)
gpt2_ranking = ranking(explainlab.clean_attribution(gpt2_fact, gpt2_tokenizer))

# %% tags=["free-gpt2"]
del gpt2_inseq, gpt2
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## 小结
#
# - 仅解码器模型用它前面的**所有**词元来解释每个生成的词元：既有提示，也有它自己之前的输出。
# - 成批处理之前先设置好填充：填充词元（没有就借用 eos）、填充放左边、始终传入注意力掩码。
#   Inseq 会补上缺失的填充词元，但它自己的生成步骤不传掩码：请逐条归因提示。
# - 显著性分数是相对的、没有正负号，并且按每个生成词元归一化；
#   注意力权重说明头从哪里读取信息，而不是什么真正起了作用。
# - 对比归因（`contrast_prob_diff` 加 `contrast_targets`）解释的是在两个答案之间的选择，
#   这往往才是你真正想问的问题；另一个答案极不可能时，加上 `logprob=True`。
# - 对于对话模型，要归因模型真正看到的提示（对话模板、`add_generation_prompt=True`，
#   Qwen3 还要 `enable_thinking=False`），读结果时看模板词元的份额，而不是把它们删掉。
