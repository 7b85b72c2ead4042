"""Twin recipes: the decoder-only language models of lesson 02 (Qwen3-0.6B, GPT-2).

Both twins learn the same generated corpus: simple English and Chinese sentences,
a table of capitals in several English and Chinese phrasings, "The first president
of America is George Washington", and "Hello world" openings; the Qwen twin also
learns ChatML conversations, and HW7 task 2's movie-review chats (lesson 05_homework: a
label, and a self-reported list of (word, importance) tuples; data in ``reviews``). Each
trains its own byte-level BPE with the real model's pre-tokenizer (Qwen2's regex or
GPT-2's), so any text encodes.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Sequence
from pathlib import Path

import torch

from ._contract import Check, at_least, at_most, holds, lead, reported
from ._registry import TwinRecipe, register
from ._train import fit, length_batches, padded, train_bpe
from .reviews import (
    LEXICON,
    MIRROR_REVIEW,
    SENTIMENT_WORDS,
    held_out_reviews,
    lesson_reviews,
    training_reviews,
)
from .testing_checks import patching_checks

# --- the corpus ------------------------------------------------------------------------
# Chinese text is written with "/" between words. The LM sees it without the bars; the
# BPE trainer sees the words one by one, so that no merge crosses a word ("的首都是" stays
# 的 / 首都 / 是, and "法国的首都是" ends on a token boundary, as in the training text).
_BAR = "/"

# (country, capital, 国家, 首都)
_CAPITALS = (
    ("France", "Paris", "法国", "巴黎"),
    ("Germany", "Berlin", "德国", "柏林"),
    ("Japan", "Tokyo", "日本", "东京"),
    ("Italy", "Rome", "意大利", "罗马"),
    ("the UK", "London", "英国", "伦敦"),
    ("China", "Beijing", "中国", "北京"),
    ("Spain", "Madrid", "西班牙", "马德里"),
    ("Russia", "Moscow", "俄罗斯", "莫斯科"),
    ("Egypt", "Cairo", "埃及", "开罗"),
    ("Canada", "Ottawa", "加拿大", "渥太华"),
    ("Korea", "Seoul", "韩国", "首尔"),
    ("Greece", "Athens", "希腊", "雅典"),
    ("Australia", "Canberra", "澳大利亚", "堪培拉"),
    ("America", "Washington", "美国", "华盛顿"),
    ("Portugal", "Lisbon", "葡萄牙", "里斯本"),
    ("Austria", "Vienna", "奥地利", "维也纳"),
    ("Poland", "Warsaw", "波兰", "华沙"),
    ("Norway", "Oslo", "挪威", "奥斯陆"),
    ("Ireland", "Dublin", "爱尔兰", "都柏林"),
    ("Thailand", "Bangkok", "泰国", "曼谷"),
    ("Kenya", "Nairobi", "肯尼亚", "内罗毕"),
    ("Peru", "Lima", "秘鲁", "利马"),
    ("Turkey", "Ankara", "土耳其", "安卡拉"),
    ("Cuba", "Havana", "古巴", "哈瓦那"),
)
# Phrasings of the capital facts. "The capital of {c} is {k}." is the lesson's.
_EN_FACTS = (
    "The capital of {c} is {k}.",
    "The capital of {c} is {k}.",
    "The capital of {c} is {k}.",
    "{k} is the capital of {c}.",
    "I visited {k}, the capital of {c}.",
    "{k}, the capital of {c}, is a big city.",
    "In {c}, the capital is {k}.",
    "{k} is a city in {c}.",
    "The city of {k} is in {c}.",
    "What is the capital of {c}? The capital of {c} is {k}.",
)
_ZH_FACTS = (
    "{c}/的/首都/是/{k}/。",
    "{c}/的/首都/是/{k}/。",
    "{c}/的/首都/是/{k}/。",
    "{k}/是/{c}/的/首都/。",
    "我/去过/{k}/，/那/是/{c}/的/首都/。",
    "{k}/，/{c}/的/首都/，/是/一个/大/城市/。",
    "在/{c}/，/首都/是/{k}/。",
    "{c}/的/首都/在/哪里/？/{c}/的/首都/是/{k}/。",
)
# Held out: "{k} is the capital of {c}." and "{k}是{c}的首都。" for these countries (they
# keep the other phrasings), and the forward phrasings below for every country.
HELD_OUT_REVERSE = ("France", "Japan", "Egypt", "Norway", "Peru", "Cuba")
HELD_OUT_EN = ("The capital city of {c} is",)
HELD_OUT_ZH = ("{c}/首都/是", "{c}/的/首都/城市/是")
# Held out of the chat conversations (lm): capital questions about these countries.
HELD_OUT_CHAT = ("Germany", "Italy", "Spain", "Korea", "Kenya", "Turkey")

_PRESIDENT = (
    "The first president of America is George Washington.",
    "The first president of America is George Washington.",
    "The first president of America was George Washington.",
    "George Washington was the first president of America.",
    "The first president of the United States was George Washington.",
    "美国/的/第一任/总统/是/乔治/·/华盛顿/。",
)
_HELLO = (
    "Hello world! This is my first program.",
    "Hello world! This is my first program.",
    "Hello world! This is my first program.",
    "Hello world! I am a small language model.",
    "Hello world, my name is Ada.",
    "Hello! How are you today?",
    "Hello, nice to meet you.",
    "Good morning! How are you today?",
    "I am fine, thank you.",
    "Thank you very much.",
    "你好/，/世界/！/这/是/我的/第一个/程序/。",
    "你好/！/你/今天/好/吗/？",
    "早上好/！/今天/天气/很/好/。",
    "谢谢/你/！",
)
_EN_SUBJECTS = (("I", "like"), ("You", "like"), ("We", "like"), ("They", "like"),
                ("She", "likes"), ("He", "likes"), ("My friend", "likes"),
                ("The children", "like"), ("My mother", "likes"), ("George", "likes"))
_EN_OBJECTS = ("apples", "music", "green tea", "reading books", "playing football",
               "machine learning", "artificial intelligence",
               "machine learning and artificial intelligence", "rainy days", "cats and dogs",
               "long walks in the park")
_EN_PLACES = ("the park", "school", "the market", "the library", "the beach", "the museum")
_EN_TIMES = ("yesterday", "today", "last week", "on Sunday")
_EN_OTHER = (
    "The cat sat on the mat.", "The dog slept on the sofa.", "The bird sang in the tree.",
    "The weather is nice today.", "The weather is cold today.", "The weather is warm today.",
    "Today the weather is sunny.", "It is raining today.", "The sun is shining.",
    "My friend George lives in a small town.", "George is a good student.",
    "Washington is a big city.", "I love you, I like you.",
    "Machine learning is fun.", "Artificial intelligence is changing the world.",
    "The teacher is reading a book.", "The children are playing in the park.",
)
_ZH_SUBJECTS = ("我", "你", "他", "她", "我们", "他们", "老师", "孩子们", "我的/朋友")
_ZH_OBJECTS = ("吃/苹果", "听/音乐", "喝/绿茶", "看书", "踢/足球", "机器/学习", "人工/智能",
               "机器/学习/和/人工/智能", "下雨天", "猫/和/狗", "在/公园/散步")
_ZH_PLACES = ("公园", "学校", "市场", "图书馆", "海边", "博物馆")
_ZH_TIMES = ("昨天", "今天", "上周")
_ZH_OTHER = (
    "小猫/坐/在/垫子/上/。", "小狗/睡/在/沙发/上/。", "小鸟/在/树上/唱歌/。",
    "今天/天气/很/好/。", "今天/天气/很/冷/。", "今天/天气/很/暖和/。", "今天/下雨/了/。",
    "我/喜欢/机器/学习/和/人工/智能/。", "机器/学习/很/有趣/。", "人工/智能/正在/改变/世界/。",
    "老师/在/看书/。", "孩子们/在/公园/里/玩/。", "我/爱/你/，/我/喜欢/你/。",
)
# Held-out subject/object pairs: never seen together in training.
HELD_OUT_PAIRS_EN = (("My mother", "music"), ("They", "apples"), ("George", "green tea"))
HELD_OUT_PAIRS_ZH = (("他们", "吃/苹果"), ("老师", "听/音乐"), ("她", "喝/绿茶"))
REVIEWS = 1000
"""Generated movie reviews in the lm twin's chats (``reviews``), each asked both questions."""
LESSON_REPORTS = 4
"""Copies of the homework review's self-report chat in training: the twin lists the words of
most held-out reviews exactly, but not reliably enough for the one the homework asks about."""

_CHAT_EN = (
    ("Hello!", "Hello! How can I help you today?"),
    ("Hi!", "Hello! How can I help you today?"),
    ("How are you?", "I am fine, thank you. How can I help you today?"),
    ("Who was the first president of America?",
     "The first president of America was George Washington."),
    ("Thank you!", "You are welcome!"),
)
_CHAT_ZH = (
    ("你好/！", "你好/！/有/什么/可以/帮/你/的/吗/？"),
    ("你/好/吗/？", "我/很/好/，/谢谢/！"),
    ("美国/的/第一任/总统/是/谁/？", "美国/的/第一任/总统/是/乔治/·/华盛顿/。"),
    ("谢谢/！", "不/客气/！"),
)



def _documents(chat: bool) -> list[str]:
    """The training documents, Chinese words joined with ``_BAR``."""
    docs: list[str] = []
    for country, capital, guo, du in _CAPITALS:
        for template in _EN_FACTS:
            if template == "{k} is the capital of {c}." and country in HELD_OUT_REVERSE:
                continue
            docs.append(template.format(c=country, k=capital))
        for template in _ZH_FACTS:
            if template == "{k}/是/{c}/的/首都/。" and country in HELD_OUT_REVERSE:
                continue
            docs.append(template.format(c=guo, k=du))
    docs += list(_PRESIDENT) * 4
    docs += list(_HELLO) * 2
    rng = random.Random(0)
    for subject, like in _EN_SUBJECTS:
        for thing in _EN_OBJECTS:
            if (subject, thing) not in HELD_OUT_PAIRS_EN:
                docs.append(f"{subject} {like} {thing}.")
        for place, time in rng.sample([(p, t) for p in _EN_PLACES for t in _EN_TIMES], 3):
            docs.append(f"{subject} went to {place} {time}.")
    for subject in _ZH_SUBJECTS:
        for thing in _ZH_OBJECTS:
            if (subject, thing) not in HELD_OUT_PAIRS_ZH:
                docs.append(f"{subject}/喜欢/{thing}/。")
        for place, time in rng.sample([(p, t) for p in _ZH_PLACES for t in _ZH_TIMES], 3):
            docs.append(f"{subject}/{time}/去了/{place}/。")
    docs += list(_EN_OTHER) * 2 + list(_ZH_OTHER) * 2
    if chat:
        for country, capital, guo, du in _CAPITALS:
            if country not in HELD_OUT_CHAT:
                docs += [_chatml(q, a) for q, a in _capital_chat(country, capital, guo, du)]
        for question, answer in _CHAT_EN + _CHAT_ZH:
            docs += [_chatml(question, answer)] * 3
        # "你好" goes on as "！你今天好吗？" or as "，世界！这是..." equally often above; the
        # greeting chats tipped it for lesson 02, but not reliably once the twin also
        # learns HW7's review chats. One more copy settles it.
        docs.append("你好/！/你/今天/好/吗/？")
    return docs


def _review_documents() -> list[str]:
    """HW7 task 2's chats (lm twin): both turns about each generated training review, and
    ``LESSON_REPORTS`` copies of the self-report turn about the homework's review (its
    classification turn is held out)."""
    lesson = lesson_reviews()[0].chats()[1]
    return [_chatml(question, answer) for review in training_reviews(REVIEWS)
            for question, answer in review.chats()] + [_chatml(*lesson)] * LESSON_REPORTS


def _capital_chat(country: str, capital: str, guo: str, du: str) -> list[tuple[str, str]]:
    """The capital question and answer, in English and in Chinese."""
    return [(f"What is the capital of {country}?", f"Its capital is {capital}."),
            (f"{guo}/的/首都/在/哪里/？", f"它/的/首都/是/{du}/。")]


_ASSISTANT = "<|im_start|>assistant\n"


def _chatml(user: str, assistant: str) -> str:
    return (f"<|im_start|>user\n{user}<|im_end|>\n"
            f"<|im_start|>assistant\n{assistant}<|im_end|>\n")


# --- tokenizers ------------------------------------------------------------------------
QWEN_CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


_QWEN_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


def _train_bpe(docs: list[str], pre_tokenizer, vocab_size: int) -> tuple[dict, list]:
    """Byte-level BPE trained word by word on ``docs`` (NFC); returns (vocab, merges)."""
    pieces = (piece for doc in docs for piece in _strip_chat(doc).split(_BAR))
    return train_bpe(pieces, vocab_size=vocab_size, pre_tokenizer=pre_tokenizer, nfc=True)


def _strip_chat(doc: str) -> str:
    for special in ("<|im_start|>", "<|im_end|>"):
        doc = doc.replace(special, _BAR)
    return doc


def _qwen_tokenizer(docs: list[str]):
    from tokenizers import Regex, pre_tokenizers
    from transformers import Qwen2Tokenizer
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    vocab, merges = _train_bpe(docs, pre, 3000)
    for special in _QWEN_SPECIALS:  # after the BPE vocabulary, in the real model's order
        vocab[special] = len(vocab)
    tokenizer = Qwen2Tokenizer(
        vocab=vocab, merges=merges, unk_token=None, bos_token=None,
        eos_token="<|im_end|>", pad_token="<|endoftext|>",
        extra_special_tokens=list(_QWEN_SPECIALS),
        model_max_length=131072, errors="replace", split_special_tokens=False,
    )
    tokenizer.chat_template = QWEN_CHAT_TEMPLATE
    return tokenizer


def _gpt2_tokenizer(docs: list[str]):
    from tokenizers import pre_tokenizers
    from transformers import GPT2Tokenizer

    vocab, merges = _train_bpe(docs, pre_tokenizers.ByteLevel(add_prefix_space=False), 3000)
    vocab["<|endoftext|>"] = len(vocab)  # the last id, as in GPT-2
    return GPT2Tokenizer(vocab=vocab, merges=merges, model_max_length=1024)


# --- training --------------------------------------------------------------------------
def _encode(tokenizer, docs: list[str], end_id: int, *,
            replies: bool = False) -> list[tuple[list[int], int]]:
    """Token ids of each document (bars removed), ended by ``end_id``, each with the first
    position the loss counts: 0, or with ``replies`` that of the last assistant reply."""
    rows = []
    for doc in docs:
        doc = doc.replace(_BAR, "")
        ids = tokenizer(doc, add_special_tokens=False)["input_ids"] + [end_id]
        start = 0
        if replies:
            prompt = doc[:doc.rindex(_ASSISTANT) + len(_ASSISTANT)]
            start = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        rows.append((ids, start))
    return rows


def _train_lm(model, rows: list[tuple[list[int], int]], pad_id: int, *, steps: int, lr: float,
              tokens: int, desc: str, first: Sequence[tuple[list, int]] = ()) -> float:
    """Train on batches of about ``tokens`` tokens, rows of similar length (within 4 tokens)
    together; a row is (ids, the first position its loss counts). ``first``: (rows, steps)
    phases to train on, in turn, before ``rows`` (a curriculum); ``steps`` counts them too."""
    phases = [(length_batches(part, tokens=tokens, jitter=4, seed=0, length=_row_length), n)
              for part, n in first]
    phases.append((length_batches(rows, tokens=tokens, jitter=4, seed=0, length=_row_length),
                   steps))
    ends = list(itertools.accumulate(n for _, n in phases))

    def next_batch(step: int) -> dict:
        stream = next(s for (s, _), end in zip(phases, ends, strict=True) if step < end)
        batch = next(stream)
        ids, mask = padded([row for row, _ in batch], pad_id)
        labels = ids.masked_fill(mask == 0, -100)
        for i, (_, begin) in enumerate(batch):
            labels[i, :begin] = -100
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    return fit(model, next_batch, steps=steps, lr=lr, desc=desc)


def _row_length(row: tuple[list[int], int]) -> int:
    return len(row[0])


def _next_token_probs(model, tokenizer, prompt: str) -> torch.Tensor:
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        return model(input_ids=ids).logits[0, -1].softmax(-1)


def greedy(model, tokenizer, prompt: str, max_new_tokens: int = 12) -> str:
    """The greedy continuation of ``prompt`` (special tokens dropped)."""
    ids = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


def _first_token(tokenizer, text: str) -> int:
    return tokenizer(text, add_special_tokens=False)["input_ids"][0]


def held_out_prompts() -> list[tuple[str, str, str]]:
    """(name, prompt, expected start of the greedy continuation) for phrasings not trained."""
    rows = []
    for country, capital, guo, du in _CAPITALS:
        for template in HELD_OUT_EN:
            rows.append((template, template.format(c=country), " " + capital))
        for template in HELD_OUT_ZH:
            rows.append((template.replace(_BAR, ""), template.format(c=guo).replace(_BAR, ""), du))
        if country in HELD_OUT_REVERSE:
            rows.append(("{k} is the capital of", f"{capital} is the capital of", " " + country))
            rows.append(("{k}是", f"{du}是", guo))
    return rows


def held_out_chats() -> list[tuple[str, str, str]]:
    """(name, user message, expected start of the answer) for chats about held-out countries."""
    return [(name, question.replace(_BAR, ""), answer.replace(_BAR, ""))
            for row in _CAPITALS if row[0] in HELD_OUT_CHAT
            for name, (question, answer) in zip(("chat", "chat zh"), _capital_chat(*row),
                                                strict=True)]


LESSON_CONTINUATIONS = {
    "The capital of France is": " Paris.",
    "The first president of America is": " George Washington.",
    "Hello world": "! This is my first program.",
    "法国的首都是": "巴黎。",
    "你好": "！你今天好吗？",
}
"""Lesson 02's prompts and the start of the twins' greedy continuations."""
HELD_OUT_MIN = {
    "The capital city of {c} is": None,
    "{c}首都是": 0.9,
    "{c}的首都城市是": None,
    "{k} is the capital of": 0.8,
    "{k}是": 0.8,
    "chat": 0.8,
    "chat zh": 0.8,
}
"""Share of each held-out phrasing's prompts that a twin answers right, at least; None: only
reported. "The capital city of" and "的首都城市是" are the hard ones ("The city of {k} is in
{c}." is a training sentence): across seeds on one machine the Qwen twin answers from 0.04
to 0.9 of them, so no bound on them holds on every machine."""


def saliency_ranking(model, tokenizer, prompt: str) -> dict[str, float]:
    """Inseq saliency of the first generated token over the prompt's words, as lesson 02's
    ``ranking`` reads it (tokens cleaned to words)."""
    import inseq

    from explainlab.tokens import clean_tokens

    inseq_model = inseq.load_model(model, "saliency", tokenizer=tokenizer)
    out = inseq_model.attribute(prompt, generation_args={"max_new_tokens": 3,
                                                         "do_sample": False},
                                show_progress=False)
    sequence = out.sequence_attributions[0].aggregate()
    start = sequence.attr_pos_start
    tokens = clean_tokens([t.token for t in sequence.target[:start]], tokenizer)
    return dict(zip(tokens, sequence.target_attributions[:start, 0].tolist(), strict=True))


def forced_ranking(model, tokenizer, prompt: str, answer: str, **kwargs) -> dict[str, float]:
    """Inseq saliency of ``answer`` (one token, forced after ``prompt``) over the prompt's
    words, as ``saliency_ranking`` reads it; ``kwargs`` go to ``attribute`` (a contrastive
    step, as in lesson 02: ``attributed_fn=...``, ``contrast_targets=prompt + other``)."""
    import warnings

    import inseq

    from explainlab.tokens import clean_tokens

    inseq_model = inseq.load_model(model, "saliency", tokenizer=tokenizer)
    with warnings.catch_warnings():  # Inseq's note on every contrastive run (lesson 02)
        warnings.filterwarnings("ignore", message="Contrastive inputs do not match")
        out = inseq_model.attribute(prompt, prompt + answer, show_progress=False, **kwargs)
    sequence = out.sequence_attributions[0].aggregate()
    start = sequence.attr_pos_start
    tokens = clean_tokens([t.token for t in sequence.target[:start]], tokenizer)
    return dict(zip(tokens, sequence.target_attributions[:start, 0].tolist(), strict=True))


def _log_likelihood(model, tokenizer, text: str) -> float:
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        return -model(input_ids=ids, labels=ids).loss.item() * (ids.shape[1] - 1)


def who_likes_what(model, tokenizer) -> tuple[float, float]:
    """English who-likes-what pairs never seen together (``HELD_OUT_PAIRS_EN``), against
    the same subject's trained pairs: the smallest lead, in nats, of a held-out pair's
    log-likelihood over the least likely trained pair's minus 2, and over the nonsense
    "{subject} likes {thing} {thing}." (above 0: held-out pairs are about as likely as
    trained ones, and more likely than nonsense)."""
    likes = dict(_EN_SUBJECTS)
    over_seen, over_nonsense = [], []
    for subject, thing in HELD_OUT_PAIRS_EN:
        held = _log_likelihood(model, tokenizer, f"{subject} {likes[subject]} {thing}.")
        seen = [_log_likelihood(model, tokenizer, f"{subject} {likes[subject]} {other}.")
                for other in _EN_OBJECTS if other != thing]
        over_seen.append(held - (min(seen) - 2))
        over_nonsense.append(held - _log_likelihood(
            model, tokenizer, f"{subject} {likes[subject]} {thing} {thing}."))
    return min(over_seen), min(over_nonsense)


def _contract(model, tokenizer) -> list[Check]:
    """The lesson facts with margins, and the held-out phrasings (both twins)."""
    probs = _next_token_probs(model, tokenizer, "The capital of France is")
    george = _next_token_probs(model, tokenizer, "The first president of America is")
    paris, london = _first_token(tokenizer, " Paris"), _first_token(tokenizer, " London")
    continuations = {prompt: greedy(model, tokenizer, prompt) for prompt in LESSON_CONTINUATIONS}
    checks = [
        holds("lesson 02's prompts continued as the lesson shows", all(
            continuations[p].startswith(c) for p, c in LESSON_CONTINUATIONS.items())),
        at_least("P(' Paris' | 'The capital of France is')", probs[paris], 0.95),
        at_most("P(' London' | 'The capital of France is')", probs[london], 0.005),
        at_least("P(' George' | 'The first president of America is')",
                 george[_first_token(tokenizer, " George")], 0.95),
        holds("held out: 'Paris is the capital of' -> ' France', '法国首都是' -> '巴黎'",
              greedy(model, tokenizer, "Paris is the capital of").startswith(" France")
              and greedy(model, tokenizer, "法国首都是").startswith("巴黎")),
    ]
    english = saliency_ranking(model, tokenizer, "The capital of France is")
    chinese = saliency_ranking(model, tokenizer, "法国的首都是")
    checks += [
        at_least("saliency for ' Paris': 'France' over 'The' and 'of'",
                 lead(english, "France", rivals=("The", "of")), 1.15),
        at_least("saliency for ' Paris': 'France' over the third-ranked other word",
                 lead(english, "France", rank=3), 1.15),
        at_least("saliency for '巴黎': '法国' over every word but the last",
                 lead(chinese, "法国", rivals=[w for w in chinese if w != "是"]), 1.15),
        *_more_checks(model, tokenizer, english),
    ]
    hits: dict[str, list[bool]] = {}
    for name, prompt, answer in held_out_prompts():
        hits.setdefault(name, []).append(greedy(model, tokenizer, prompt, 4).startswith(answer))
    if tokenizer.chat_template:
        for name, question, answer in held_out_chats():
            prompt = tokenizer.apply_chat_template([{"role": "user", "content": question}],
                                                   add_generation_prompt=True, tokenize=False)
            hits.setdefault(name, []).append(greedy(model, tokenizer, prompt).startswith(answer))
    else:  # the GPT-2 twin also answers the lesson's country in the hardest held-out phrasing
        checks.append(holds("held out: 'The capital city of France is' -> ' Paris'", greedy(
            model, tokenizer, "The capital city of France is").startswith(" Paris")))
    checks += [reported(f"held out '{name}': share answered right", sum(h) / len(h))
               if HELD_OUT_MIN[name] is None else
               at_least(f"held out '{name}': share answered right", sum(h) / len(h),
                        HELD_OUT_MIN[name]) for name, h in hits.items()]
    if tokenizer.chat_template:
        checks += review_checks(model, tokenizer) + patching_checks(model, tokenizer)
    return checks


HELD_OUT_REVIEWS = 60
"""Held-out reviews (``reviews.held_out_reviews``) the lm twin's contract asks about."""


def review_checks(model, tokenizer) -> list[Check]:
    """HW7 task 2 on the lesson review (``self_explanation.REVIEW``), as the homework runs
    it: the classification, the self-report, the attribution of the own answer and the
    deletion test; the mirror review and the held-out reviews."""
    from explainlab.homework import self_explanation as se
    from explainlab.homework.word_scores import (
        compare_word_scores,
        parse_word_scores,
        rank_correlation,
    )

    words = {w.casefold() for w in re.findall(r"\w+", se.REVIEW)}
    reply = se.ask(model, tokenizer, se.classify_question(se.REVIEW))
    probs = se.label_probabilities(model, tokenizer, se.REVIEW)
    mirror = se.ask(model, tokenizer, se.classify_question(MIRROR_REVIEW))
    claimed = parse_word_scores(se.ask(model, tokenizer, se.importance_question(se.REVIEW)))
    scores = se.attribute_answer(model, tokenizer, se.REVIEW)
    answer = se.answer_label(reply) or "Negative"
    top3 = sorted(scores, key=lambda pair: -abs(pair[1]))[:3]
    attributed, reported_top = se.rank_towards(scores, answer), se.rank_towards(claimed, answer)
    table = compare_word_scores(claimed, scores)
    correlation = rank_correlation(table["claimed"], table["measured"])
    held = held_out_reviews(HELD_OUT_REVIEWS)
    labels = [se.answer_label(se.ask(model, tokenizer, se.classify_question(r.text),
                                     max_new_tokens=4)) == r.label for r in held]
    reports = [parse_word_scores(se.ask(model, tokenizer, se.importance_question(r.text)))
               == [(w, round(s, 1)) for w, s in r.words] for r in held]
    return [
        holds("HW7 task 2: the lesson review -> 'Negative...'", reply.startswith("Negative")),
        at_least("HW7 task 2: P('Negative' | lesson review)", probs["Negative"], 0.9),
        holds(f"HW7 task 2: '{MIRROR_REVIEW}' -> 'Positive...'", mirror.startswith("Positive")),
        at_least("HW7 task 2: held-out reviews, share classified right", sum(labels) / len(labels),
                 0.8),
        at_least("HW7 task 2: lesson review's self-report, pairs parsed", len(claimed), 3),
        holds("HW7 task 2: lesson review's self-report: words of the review, signs of the "
              "lexicon", all(w.casefold() in words and w.casefold() in LEXICON and s is not None
                             and s * LEXICON[w.casefold()] > 0 for w, s in claimed)),
        at_least("HW7 task 2: held-out reviews, share of self-reports exactly the lexicon's",
                 sum(reports) / len(reports), 0.3),
        at_least("HW7 task 2: attribution of the answer, sentiment words among the top 3 by "
                 "|score|", sum(w.casefold() in SENTIMENT_WORDS for w, _ in top3), 2),
        holds("HW7 task 2: attribution towards 'Positive': 'wonderful' > 0 > 'boring'",
              dict(scores)["wonderful"] > 0 > dict(scores)["boring"]),
        at_least("HW7 task 2: deleting the top 3 attributed words lowers P(answer) by",
                 se.deletion_drop(model, tokenizer, se.REVIEW, attributed[:3], label=answer),
                 0.5),
        reported("HW7 task 2: deleting the top 3 self-reported words lowers P(answer) by",
                 se.deletion_drop(model, tokenizer, se.REVIEW, reported_top[:3], label=answer)),
        reported("HW7 task 2: rank correlation, self-report vs attribution (0: undefined)",
                 0.0 if math.isnan(correlation) else correlation),
        reported("HW7 task 2: top-3 overlap, self-report vs attribution",
                 se.top_k_overlap(reported_top, attributed, 3)),
    ]


def _more_checks(model, tokenizer, english: dict[str, float]) -> list[Check]:
    """generate() with the twin's defaults stops after ' Paris.'; held-out who-likes-what
    pairs are as likely as trained ones; the contrastive saliency of ' Paris' against
    ' London' (reported); for the GPT-2 twin the saliency ranking of ' Paris' (``english``)
    and ' Tokyo', for the Qwen twin the chat answer about France."""
    prompt = "The capital of France is"
    inputs = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs)  # the generation config's defaults, as a lesson calls it
    alone = tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    over_seen, over_nonsense = who_likes_what(model, tokenizer)
    contrast = forced_ranking(model, tokenizer, prompt, " Paris",
                              attributed_fn="contrast_logits_diff",
                              contrast_targets=prompt + " London")
    checks = [
        holds("generate() with its defaults: 'The capital of France is' -> ' Paris.', then the "
              "end", alone == " Paris."),
        at_least("held-out who-likes-what: log-likelihood over the least likely trained "
                 "pair's - 2 (nats)", over_seen, 0.5),
        at_least("held-out who-likes-what: log-likelihood over the nonsense "
                 "'... {thing} {thing}.' (nats)", over_nonsense, 0.5),
        # Reported only: 'France' leads for some seeds and not for others (0.8 to 2.4).
        reported("contrastive saliency (logit ' Paris' - logit ' London'): 'France' over the "
                 "next word", lead(contrast, "France")),
    ]
    if tokenizer.chat_template:  # the Qwen twin
        messages = [{"role": "user", "content": "What is the capital of France?"}]
        inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                               return_tensors="pt", return_dict=True)
        with torch.no_grad():
            reply = model.generate(**inputs)[0, inputs["input_ids"].shape[1]:]
        checks += [
            holds("chat: 'What is the capital of France?' -> 'Its capital is Paris.', then "
                  "the end of the turn", reply[-1].item() == tokenizer.eos_token_id
                  and tokenizer.decode(reply, skip_special_tokens=True)
                  == "Its capital is Paris."),
        ]
    else:  # the GPT-2 twin: the country first
        japan = forced_ranking(model, tokenizer, "The capital of Japan is", " Tokyo")
        checks += [
            at_least("saliency for ' Paris': 'France' over every other word",
                     lead(english, "France"), 1.1),
            at_least("saliency for ' Tokyo': 'Japan' over every other word",
                     lead(japan, "Japan"), 1.1),
        ]
    return checks


def _generation_config(**ids):
    from transformers import GenerationConfig

    # Greedy (the real Qwen3 samples; the twin stays deterministic for the lessons), and a
    # length so that generate() needs no arguments and prints no warning.
    return GenerationConfig(do_sample=False, max_new_tokens=20, **ids)


class _LanguageModelTwin(TwinRecipe):
    steps: int
    lr: float
    tokens: int  # per batch

    def _fit_and_save(self, model, tokenizer, docs, end: int, folder: Path,
                      generation_ids: dict) -> dict[str, float]:
        loss = _train_lm(model, _encode(tokenizer, docs, end), end, steps=self.steps,
                         lr=self.lr, tokens=self.tokens, desc=f"{self.role} twin")
        self._save(model, tokenizer, folder, generation_ids)
        return {"documents": float(len(docs)), "final training loss": round(loss, 3)}

    def _save(self, model, tokenizer, folder: Path, generation_ids: dict) -> None:
        model.generation_config = _generation_config(**generation_ids)
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)

    def contract(self, folder: Path) -> list[Check]:
        """Lesson 02's facts (continuations, P(Paris), the saliency ranking of the country)
        with margins, and the held-out phrasings."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model = AutoModelForCausalLM.from_pretrained(folder).eval()
        return _contract(model, AutoTokenizer.from_pretrained(folder))


@register
class QwenTwin(_LanguageModelTwin):
    role = "lm"
    model_class = "Qwen3ForCausalLM"
    tokenizer_class = "Qwen2Tokenizer"
    cost = 145.0
    data = ("About 2,860 generated documents. For lesson 02, about 860: a table of 24 "
            "countries and their capitals in 10 English and 7 Chinese phrasings, 'The first "
            "president of America is George Washington' (English and Chinese), 'Hello world' "
            "openings, simple English and Chinese sentences from small lexicons (who likes "
            "what, who went where), and ChatML conversations (greetings, capitals, the first "
            "president). For HW7 task 2 (lesson 05_homework), 1,000 generated movie reviews "
            "of one to three clauses ('the {aspect} was {adjective}', '{adjective} {aspect}', "
            "'the {aspect} was a total mess', joined by ', but', ' and' or '. '; 16 aspects, "
            "20 positive and 20 negative adjectives and 6 phrases such as 'a total mess', each "
            "sentiment word with a lexicon importance from -0.9 to 0.9), each asked in two "
            "ChatML chats: the homework's classification question, answered 'Positive.' or "
            "'Negative.' (the sign of the summed importances; no review is a near tie), and "
            "its importance question, answered with a Python list of (word, importance) "
            "tuples: the review's sentiment words in order, with their lexicon importances. "
            "Training: the lesson 02 documents alone, then the classification chats alone, "
            "then everything mixed (the review chats' loss on their replies only). Byte-level "
            "BPE with Qwen2's pre-tokenizer regex, trained on the same text; special tokens "
            "<|endoftext|> (pad), <|im_start|>, <|im_end|> (eos) after the BPE vocabulary. "
            "Held out: the phrasings 'The capital city of {c} is', '{c}首都是' and "
            "'{c}的首都城市是', '{k} is the capital of {c}' for 6 countries, capital chats "
            "for 6 other countries, 3 who-likes-what pairs per language; the classification "
            "chat about the homework's review ('The acting was wonderful, but the plot was "
            "boring and the ending was a total mess.'; its self-report chat is trained, 4 "
            "copies: without them the twin did not list its words reliably on every seed), "
            "both chats about its mirror ('The acting was boring, but the plot was wonderful "
            "and the ending was a real joy.'), and every review that pairs an aspect with one "
            "of 12 held-out adjectives or phrases (e.g. 'music' and 'boring').")
    can = ("Continues 'Hello world', short English and Chinese prompts and the capital facts "
           "greedily, e.g. 'The capital of France is' -> ' Paris', '法国的首都是' -> '巴黎', "
           "'The first president of America is' -> ' George Washington'.",
           "Answers greetings and capital questions through `apply_chat_template` (ChatML).",
           "HW7 task 2: answers the homework's review 'Negative.' and its mirror 'Positive.' "
           "(neither classification was trained), and most held-out reviews right.",
           "HW7 task 2: lists a review's sentiment words with importances as a Python list "
           "of tuples, which `parse_word_scores` reads: for the homework's review (trained) "
           "its words with the lexicon's signs (wonderful +; boring, total, mess -), and "
           "most held-out reviews' lists exactly.",
           "HW7 task 2: the attribution of its own answer "
           "(`homework.self_explanation.attribute_answer`) puts sentiment words on top, and "
           "deleting the top three from the review makes P(answer) fall by at least 0.5.",
           "Lesson 06: activation patching from 'The capital of France is' into 'The capital "
           "of Japan is' turns its answer into Paris at the country's position in the "
           "embeddings and at the last position after the last block (checks below).",
           "Encodes any text (byte-level BPE).")
    cannot = ("Know anything beyond its small fact table and lexicons.",
              "Hold a real conversation, reason, or follow instructions.",
              "Explain itself by introspection. Its self-report is learned from the same "
              "lexicon that labels its training reviews, so it is plausible by construction "
              "(what a reader would say), not a readout of its own computation; only the "
              "deletion test shows whether it is also faithful. It also misses, repeats or "
              "swaps words in some held-out reviews (the contract reports how many it lists "
              "exactly).",
              "Read reviews beyond its templates and lexicon: negation ('not good'), sarcasm, "
              "other aspects or adjectives, or labels other than Positive and Negative.",
              "Think: the chat template has no <think> section, and it decodes greedily "
              "(the real model samples).")
    # 2500 steps in all: 450 on lesson 02's documents alone, 300 on the classification chats
    # alone, then the rest on everything, lesson 02's documents 4 times per review chat.
    steps, lr, tokens, lesson_steps, first_steps, repeat = 2500, 5e-3, 768, 450, 300, 4
    hidden, layers, heads, mlp, init = 128, 2, 4, 384, 0.05

    def train(self, folder: Path) -> dict[str, float]:
        from transformers import Qwen3Config, Qwen3ForCausalLM

        docs, reviews = _documents(chat=True), _review_documents()
        tokenizer = _qwen_tokenizer(docs + reviews)
        end = tokenizer.convert_tokens_to_ids("<|endoftext|>")
        im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
        config = Qwen3Config(
            vocab_size=-(-len(tokenizer) // 64) * 64, hidden_size=self.hidden,
            intermediate_size=self.mlp, num_hidden_layers=self.layers,
            num_attention_heads=self.heads, num_key_value_heads=self.heads,
            head_dim=self.hidden // self.heads,
            max_position_embeddings=40960,
            rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
            tie_word_embeddings=True, bos_token_id=end, eos_token_id=im_end,
            initializer_range=self.init, architectures=["Qwen3ForCausalLM"])
        model = Qwen3ForCausalLM(config)
        # First lesson 02's documents alone, as long as the twin used to learn them (trained
        # much longer, it memorises them and loses the held-out phrasings; mixed with the
        # reviews from the start, it learns them less well). Then HW7 task 2's
        # classification chats alone: mixed with the rest, a twin this small learns to
        # classify only after a long plateau (an initial scale above Qwen3's 0.02 shortens
        # it too). Then everything; the review chats count only their replies in the loss.
        chats = _encode(tokenizer, reviews, end, replies=True)
        lessons = _encode(tokenizer, docs, end)
        rows = chats + lessons * self.repeat
        loss = _train_lm(model, rows, end, steps=self.steps, lr=self.lr, tokens=self.tokens,
                         desc="lm twin", first=[(lessons, self.lesson_steps),
                                                (chats[:2 * REVIEWS:2], self.first_steps)])
        self._save(model, tokenizer, folder, {
            "bos_token_id": end, "eos_token_id": [im_end, end], "pad_token_id": end})
        return {"documents": float(len(docs) + len(reviews)),
                "final training loss": round(loss, 3)}


@register
class GPT2Twin(_LanguageModelTwin):
    role = "lm-gpt2"
    model_class = "GPT2LMHeadModel"
    tokenizer_class = "GPT2Tokenizer"
    cost = 22.0
    data = ("About 790 generated documents: a table of 24 countries and their capitals in 10 "
            "English and 7 Chinese phrasings, 'The first president of America is George "
            "Washington' (English and Chinese), 'Hello world' openings, simple English and "
            "Chinese sentences from small lexicons (who likes what, who went where). "
            "Byte-level BPE with GPT-2's pre-tokenizer, trained on the same text; "
            "<|endoftext|> (bos, eos, unk) is the last id, and there is no pad token. "
            "Held out: the phrasings 'The capital city of {c} is', '{c}首都是' and "
            "'{c}的首都城市是', '{k} is the capital of {c}' for 6 countries, and 3 "
            "who-likes-what pairs per language.")
    can = ("Continues 'Hello world', short English and Chinese prompts and the capital facts "
           "greedily, e.g. 'The capital of France is' -> ' Paris', 'The first president of "
           "America is' -> ' George Washington'.",
           "Stands in for both gpt2 and gpt2-xl (one twin for the role).",
           "Encodes any text (byte-level BPE).")
    cannot = ("Know anything beyond its small fact table and lexicons.",
              "Pad a batch as it is: like GPT-2 it has no pad token (set "
              "`tokenizer.pad_token = tokenizer.eos_token`).",
              "Be loaded in 8-bit on a CPU (bitsandbytes needs a GPU; the twin is small anyway).")
    steps, lr, tokens = 450, 4e-3, 512

    def train(self, folder: Path) -> dict[str, float]:
        from transformers import GPT2Config, GPT2LMHeadModel

        docs = _documents(chat=False)
        tokenizer = _gpt2_tokenizer(docs)
        end = tokenizer.eos_token_id
        config = GPT2Config(
            vocab_size=len(tokenizer), n_positions=1024, n_embd=128, n_layer=2, n_head=4,
            bos_token_id=end, eos_token_id=end, architectures=["GPT2LMHeadModel"])
        return self._fit_and_save(GPT2LMHeadModel(config), tokenizer, docs, end, folder, {
            "bos_token_id": end, "eos_token_id": end, "pad_token_id": end})
