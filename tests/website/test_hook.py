"""The site hook's pieces without a build: links, nav filtering, CDN rewriting, the check
for loads from other hosts, and the configurations that wire it in."""

from __future__ import annotations

import re

import pytest

from .conftest import ROOT, load_hook, repo_url

hook = load_hook()


def test_filter_nav_drops_unwritten_lessons_and_empty_sections():
    nav = ["index.md", {"Lessons": ["lessons/01_a.ipynb", "lessons/02_b.ipynb"]},
           {"Homework": "lessons/05_c.ipynb"}, "glossary.md"]
    listed: set[str] = set()
    out = hook._filter_nav(nav, {"02_b"}, listed)
    assert out == ["index.md", {"Lessons": ["lessons/02_b.ipynb"]}, "glossary.md"]
    assert listed == {"01_a", "02_b", "05_c"}


@pytest.mark.parametrize(("link", "up"), [("./", ""), ("zh/", "../"), ("a/b/", "../../")])
def test_up(link, up):
    assert hook._up(link) == up


BERTVIZ = """
<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js"></script>
<script>require.config({paths: {
  d3: 'https://cdnjs.cloudflare.com/ajax/libs/d3/5.7.0/d3.min',
  jquery: 'https://cdnjs.cloudflare.com/ajax/libs/jquery/2.0.0/jquery.min',
}});</script>
<!-- Load mathjax -->
<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js?config=TeX"></script>
<script type="text/x-mathjax-config">init_mathjax();</script>
<!-- End of mathjax configuration -->
<a href="https://github.com/explainlab/explainlab">a link is not a load</a>
<link rel="canonical" href="https://explainlab.github.io/explainlab/">
"""


def test_localize_serves_bertviz_and_mathjax_from_the_site():
    assert len(hook.foreign_loads(BERTVIZ)) == 4
    out = hook.localize(BERTVIZ, "lessons/04_bertviz_attention/")
    assert hook.foreign_loads(out) == []
    assert '<script src="../../assets/vendor/require.js">' in out
    assert "d3: '../../assets/vendor/d3.min'" in out
    assert "jquery: '../../assets/vendor/jquery.min'" in out
    assert "mathjax" not in out.lower()  # no formulas: no MathJax at all
    with_math = hook.localize(BERTVIZ, "lessons/01_x/", math=True)
    assert '<script defer src="../../assets/vendor/mathjax/tex-chtml.js">' in with_math
    assert hook.foreign_loads(with_math) == []


@pytest.mark.parametrize("html", [
    '<img src="https://example.org/a.png">',
    '<link rel="stylesheet" href="//fonts.example.org/css">',
    "<style>@font-face{src:url('https://example.org/f.woff')}</style>",
    '<script type="module">await import("https://cdn.example.org/m.mjs")</script>',
])
def test_foreign_loads_are_found(html):
    assert hook.foreign_loads(html)


def test_heading_ids_follow_the_table_of_contents():
    """Chinese headings come out of mkdocs-jupyter with id=""; the hook gives each the
    anchor of its table-of-contents entry, matched by text, and leaves output headings
    without an anchor."""
    from mkdocs.structure.toc import get_toc

    toc = get_toc([
        {"level": 1, "id": "_1", "name": "解释分类模型", "children": [
            {"level": 2, "id": "_2", "name": "第 1 步：基线", "children": []},
            {"level": 2, "id": "captum", "name": "用 Captum &amp; 手写", "children": []},
        ]},
    ])
    rendered = (
        '<h1 id="">解释分类模型<a class="anchor-link" href="#">¶</a></h1><p>正文</p>'
        '<h2 id="">第 1 步：基线<a class="anchor-link" href="#">¶</a></h2>'
        '<div class="output"><h3 id="">输出里的标题<a class="anchor-link" href="#">¶</a></h3></div>'
        '<h2 id="captum">用 <code>Captum</code> &amp; 手写<a class="anchor-link" '
        'href="#captum">¶</a></h2>')
    fixed = hook.heading_ids(rendered, toc)
    assert re.findall(r'<h\d id="([^"]*)"', fixed) == ["_1", "_2", "captum"]
    assert re.findall(r'class="headerlink" href="#([^"]*)"', fixed) == ["_1", "_2", "captum"]
    assert "<h3>输出里的标题</h3>" in fixed and "anchor-link" not in fixed
    assert "<p>正文</p>" in fixed and "用 <code>Captum</code> &amp; 手写" in fixed


def test_math_detection():
    assert hook.has_math("the score $\\phi_i$ of token $i$")
    assert hook.has_math("$$\\sum_i \\phi_i$$") and hook.has_math("\\(x\\)")
    assert not hook.has_math("run `echo $HOME` and `$PATH`, then pay $5 or $10")
    assert not hook.has_math("```bash\nexport A=$B; echo $A\n```\n")


def test_configs_wire_the_hook_and_list_every_lesson():
    """Both configurations list every lesson in their nav, the lessons in number order and the
    homework after them (lesson 06 comes before the homework it sets questions for); the hook
    is shared."""
    en = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    zh = (ROOT / "mkdocs.zh.yml").read_text(encoding="utf-8")
    assert "docs/hooks/explainlab_site.py" in en and "INHERIT: mkdocs.yml" in zh
    assert repo_url().startswith("https://github.com/")
    for lang, text in (("en", en), ("zh", zh)):
        listed = re.findall(r"lessons/(\d\d_\w+)\.ipynb", text)
        lessons = [slug for slug in listed if not slug.endswith("_homework")]
        homework = [slug for slug in listed if slug.endswith("_homework")]
        assert listed == sorted(lessons) + homework, f"{lang}: lessons out of order"
        on_disk = {p.stem for p in (ROOT / "lessons" / lang).glob("[0-9][0-9]_*.py")}
        assert on_disk <= set(listed), f"{lang}: lessons missing from the nav"
