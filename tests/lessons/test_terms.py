"""One Chinese term per concept (docs/zh/glossary.md): the Chinese lessons and the homework's
Chinese questions and hints say 词元, never a bare "token", outside code and English glosses."""

from __future__ import annotations

import re

import jupytext
import pytest

from explainlab import homework

from .conftest import LESSONS, slugs

_CODE = re.compile(r"`[^`]*`")
_GLOSS = re.compile(r"[（(][\x00-\x7f]*[）)]")  # e.g. 填充词元（pad token）
_TOKEN = re.compile(r"(?<![\w.\[])tokens?(?![\w\]])")


def bare_tokens(text: str) -> list[str]:
    """The lines of ``text`` that use "token" as a word of the prose."""
    return [line for line in text.splitlines()
            if _TOKEN.search(_GLOSS.sub("", _CODE.sub("", line)))]


def test_bare_tokens():
    assert bare_tokens("每个 token 一列") == ["每个 token 一列"]
    assert bare_tokens("填充词元（pad token）、`max_new_tokens`、`token_type_ids`") == []


@pytest.mark.parametrize("slug", slugs("zh"))
def test_chinese_lessons_say_词元(slug):
    notebook = jupytext.read(LESSONS / "zh" / f"{slug}.py")
    prose = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert bare_tokens(prose) == []


def test_chinese_questions_and_hints_say_词元():
    for qid in homework.list_questions():
        question = homework.get_question(qid)
        texts = [question.text["zh"], question.hint["zh"],
                 *(names["zh"] for names in question.mistakes.values())]
        assert bare_tokens("\n".join(texts)) == [], qid
