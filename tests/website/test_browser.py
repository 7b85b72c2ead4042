"""The built site in headless Chromium, as a reader sees it: every page of both languages
loads with no console error and no request to another host; BertViz draws its views; Inseq
heatmaps and explainer HTML are visible; the language switch keeps the page; the lesson
buttons are well formed; Chinese search finds words inside sentences; light and dark theme.
Screenshots are saved under test-output/site/."""

from __future__ import annotations

import functools
import http.server
import json
import math
import shutil
import threading
from urllib.parse import urljoin, urlsplit

import nbformat
import pytest

from explainlab_course.scale import requirements

from .conftest import (
    LANGS,
    ROOT,
    Visit,
    _Quiet,
    expected_pages,
    lesson_slugs,
    load_hook,
    repo_url,
    url_path,
)

pytestmark = pytest.mark.slow

PAGES = expected_pages()
PAGE_IDS = [f"{lang}:{path or 'home'}" for lang, path in PAGES]
LESSONS = [(lang, slug) for lang in LANGS for slug in lesson_slugs(lang)]
LESSON_IDS = [f"{lang}:{slug}" for lang, slug in LESSONS]
STDERR = '[data-mime-type="application/vnd.jupyter.stderr"]'
BERTVIZ = "04_bertviz_attention"
# What each lesson must show, and how to find it on the page.
SHOWS = {
    "01_mt_attribution": ('[id$="_saliency_plot"]', "Inseq heatmap"),
    "02_llm_attribution": ('[id$="_saliency_plot"]', "Inseq heatmap"),
    "03_classification_explainers": (".xl-explanation", "explainer HTML"),
}
SEARCH_READY = {"en": "Type to start searching", "zh": "键入以开始搜索"}
BUTTONS = {"en": ("Open in Colab", "Open in Kaggle", "Download notebook"),
           "zh": ("在 Colab 中打开", "在 Kaggle 中打开", "下载笔记本")}


def _broken_images(page) -> list[str]:
    return page.evaluate("""() => [...document.images]
        .filter(img => !img.complete || img.naturalWidth === 0)
        .map(img => img.src.slice(0, 100))""")


@pytest.mark.parametrize(("lang", "path"), PAGES, ids=PAGE_IDS)
def test_page_loads_cleanly(visit, lang, path):
    """No console error, no uncaught exception, nothing from another host, no 404, no stderr
    output, every image loaded, the page in its language with one H1."""
    v = visit()
    page = v.goto(url_path(lang, path))
    assert v.problems() == []
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("article h1").count() == 1
    assert page.locator(STDERR).count() == 0
    assert _broken_images(page) == []
    assert _dangling_anchors(page) == []


def _dangling_anchors(page) -> list[str]:
    """In-page links (headings' permalinks, the side table of contents) whose target is
    missing: mkdocs-jupyter gives Chinese headings id="" unless the hook fixes them."""
    return page.evaluate("""() => [...document.querySelectorAll(
            'article a[href^="#"], .md-nav--secondary a[href^="#"]')]
        .map(a => a.getAttribute('href'))
        .filter(h => h === '#' || !document.getElementById(decodeURIComponent(h.slice(1))))""")


@pytest.mark.parametrize("lang", LANGS)
def test_bertviz_views_draw_svg(visit, shots, lang):
    """Every BertViz view draws its SVG with the site's own RequireJS, d3 and jQuery 3, and
    redraws when the reader picks another layer (jQuery's event handling at work)."""
    if BERTVIZ not in lesson_slugs(lang):
        pytest.skip(f"lessons/{lang}/{BERTVIZ}.py is not written yet")
    v = visit()
    page = v.goto(url_path(lang, f"lessons/{BERTVIZ}/"))
    views = page.locator('[id^="bertviz-"]')
    assert views.count() >= 3, "the lesson shows the head, model and neuron views"
    for i in range(views.count()):
        view = views.nth(i)
        assert view.locator("svg").count() >= 1, f"view {i} drew no SVG"
        assert view.locator("svg text").count() > 0, f"view {i} drew no tokens"
        assert view.bounding_box()["height"] > 100
    head = views.first
    layers = head.locator("select#layer option")
    assert layers.count() > 1
    head.locator("select#layer").select_option(layers.nth(1).get_attribute("value"))
    page.wait_for_timeout(300)
    assert head.locator("svg text").count() > 0
    assert v.problems() == []
    head.scroll_into_view_if_needed()
    head.screenshot(path=shots / f"{lang}-bertviz-head-view.png")
    kinds = page.evaluate("""() => [...document.querySelectorAll('[id^=bertviz-]')]
        .map(v => v.querySelector('#att_head') ? 'neuron' : 'other')""")
    assert "neuron" in kinds
    views.nth(kinds.index("neuron")).screenshot(path=shots / f"{lang}-bertviz-neuron-view.png")


@pytest.mark.parametrize(("lang", "slug"), LESSONS, ids=LESSON_IDS)
def test_lesson_outputs_are_visible(visit, shots, lang, slug):
    """Rich outputs are on the page and take up room: what this lesson must show (Inseq
    heatmaps, explainer HTML), every HTML output that is more than a script."""
    v = visit()
    page = v.goto(url_path(lang, f"lessons/{slug}/"))
    outputs = page.locator('.jp-OutputArea-output[data-mime-type="text/html"]')
    empty = page.evaluate("""() => [...document.querySelectorAll(
            '.jp-OutputArea-output[data-mime-type="text/html"]')]
        .filter(o => o.textContent.trim() || o.querySelector('img,svg,table'))
        .filter(o => o.getBoundingClientRect().height === 0)
        .map(o => o.textContent.trim().slice(0, 80))""")
    assert empty == [], "HTML outputs that take no room"
    if slug in SHOWS:
        selector, what = SHOWS[slug]
        found = page.locator(selector)
        assert found.count() >= 1, f"no {what} on the page"
        for i in range(found.count()):
            assert found.nth(i).is_visible(), f"{what} {i} is hidden"
            box = found.nth(i).bounding_box()
            assert box["width"] > 50 and box["height"] > 30, f"{what} {i} is empty"
        if "heatmap" in what:  # the scores are coloured (a broken colour leaves them white)
            coloured = found.first.evaluate("""plot => [...plot.querySelectorAll('th, td')]
                .filter(c => getComputedStyle(c).backgroundColor !== 'rgba(0, 0, 0, 0)')
                .length""")
            assert coloured > 0, f"{what}: no cell is coloured"
        found.first.scroll_into_view_if_needed()
        found.first.screenshot(path=shots / f"{lang}-{slug}-{what.split()[0].lower()}.png")
    elif outputs.count() == 0 and slug != "05_homework":
        pytest.fail("the lesson page shows no HTML output at all")


@pytest.mark.parametrize(("lang", "path"), PAGES, ids=PAGE_IDS)
def test_language_switch_keeps_the_page(visit, lang, path):
    """Picking the other language in the header menu opens the same page in it."""
    other = "zh" if lang == "en" else "en"
    v = visit()
    page = v.goto(url_path(lang, path))
    page.hover(".md-header__option .md-select")
    with page.expect_navigation():
        page.click(f'a.md-select__link[hreflang="{other}"]')
    page.wait_for_load_state("networkidle")
    expected = url_path(other, path) if (other, path) in PAGES else url_path(other, "")
    assert page.url == v.base + expected
    assert page.locator("html").get_attribute("lang") == other
    assert v.problems() == []


@pytest.mark.parametrize(("lang", "slug"), LESSONS, ids=LESSON_IDS)
def test_lesson_buttons_and_profile_note(visit, shots, lang, slug):
    """Colab and Kaggle open the committed notebook of this lesson in this language on the
    repository of mkdocs.yml; the download is that notebook, without outputs; the page says
    which profile produced its outputs."""
    owner_repo = urlsplit(repo_url()).path.strip("/").removesuffix(".git")
    blob = f"github.com/{owner_repo}/blob/main/lessons/{lang}/{slug}.ipynb"
    v = visit()
    page = v.goto(url_path(lang, f"lessons/{slug}/"))
    links = {kind: page.locator(f'a[data-explainlab-link="{kind}"]')
             for kind in ("colab", "kaggle", "download")}
    for kind, link in links.items():
        assert link.count() == 1 and link.is_visible(), kind
    assert [links[k].inner_text().strip() for k in ("colab", "kaggle", "download")] == \
        list(BUTTONS[lang])
    assert links["colab"].get_attribute("href") == \
        "https://colab.research.google.com/" + blob.replace("github.com/", "github/", 1)
    assert links["kaggle"].get_attribute("href") == \
        "https://kaggle.com/kernels/welcome?src=https://" + blob
    committed = ROOT / "lessons" / lang / f"{slug}.ipynb"
    download = urljoin(page.url, links["download"].get_attribute("href"))
    assert download.startswith(v.base)
    response = page.request.get(download)
    assert response.status == 200
    assert response.body() == committed.read_bytes()
    nb = nbformat.reads(response.text(), as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    # the buttons sit right under the title
    assert page.evaluate("""() => {
        const h1 = document.querySelector('article h1');
        const links = document.querySelector('.explainlab-lesson-links');
        return h1.parentElement.contains(links) && !!(h1.compareDocumentPosition(links)
            & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")
    note = page.locator(".explainlab-profile")
    assert note.is_visible() and "offline" in note.inner_text()
    assert page.locator("[data-explainlab-profile]").get_attribute(
        "data-explainlab-profile") == "offline"
    assert "profile offline" in page.locator(".jp-OutputArea-output").first.inner_text(), \
        "the first output is explainlab.setup()'s banner with the profile"
    needs = requirements.load()["lessons"][slug]
    box = page.locator(".explainlab-requirements")
    assert box.count() == 1 and box.is_visible(), "the measured requirements box"
    shown = box.inner_text()
    for value in (needs["download_bytes"], needs["peak_rss_bytes"]):
        assert f"{value / 1e9:.1f} GB" in shown, (value, shown)
    assert f"{max(1, math.ceil(needs['seconds'] / 60))} " in shown
    assert ("CUDA" in shown) == (needs["gpu"] == "optional")
    assert v.problems() == []
    if slug == lesson_slugs(lang)[0]:
        page.screenshot(path=shots / f"{lang}-{slug}-top.png")
        with page.expect_navigation():
            note.locator("a").click()  # "About profiles": the setup guide's section
        page.wait_for_load_state("networkidle")
        anchor = urlsplit(page.url).fragment
        assert anchor and page.locator(f'[id="{anchor}"]').count() == 1
        assert urlsplit(page.url).path == "/" + url_path(lang, "setup/")


def test_chinese_search_index_is_segmented(built_site):
    """jieba has cut the Chinese text into words (zero-width spaces between them)."""
    index = json.loads((built_site / "zh" / "search" / "search_index.json").read_text("utf-8"))
    glossary = " ".join(d["text"] for d in index["docs"] if d["location"].startswith("glossary"))
    assert "\u200b嵌入\u200b" in glossary


@pytest.mark.parametrize(("lang", "query", "where"), [
    ("zh", "嵌入", "glossary/"),  # only inside sentences: found thanks to jieba
    ("zh", "词元", "lessons/03_classification_explainers/"),  # in lesson headings too
    ("en", "baseline", "glossary/"),
])
def test_search_finds_words(visit, shots, lang, query, where):
    v = visit()
    page = v.goto(url_path(lang, ""))
    # Material's search worker is ready once it shows its placeholder ("Type to start ...")
    page.wait_for_function("text => document.querySelector('.md-search-result__meta')"
                           ".textContent.trim() === text", arg=SEARCH_READY[lang],
                           timeout=30_000)
    box = page.locator('input[data-md-component="search-query"]')
    box.fill(query)
    box.press("End")  # a key event: Material searches on key events, fill() alone is missed
    page.wait_for_selector(".md-search-result__item", timeout=15_000)
    hrefs = page.locator(".md-search-result__item a").evaluate_all(
        "links => links.map(a => a.href)")
    assert any(urlsplit(h).path.startswith("/" + url_path(lang, where)) for h in hrefs), hrefs
    assert v.problems() == []
    name = query if lang == "en" else where.split("/")[-2] or "home"
    page.screenshot(path=shots / f"{lang}-search-{name}.png")


@pytest.mark.parametrize("lang", LANGS)
def test_light_and_dark_theme(visit, shots, lang):
    """The reader's dark preference picks the dark palette; the toggle switches back."""
    v = visit(color_scheme="dark")
    path = f"lessons/{BERTVIZ}/" if BERTVIZ in lesson_slugs(lang) else "glossary/"
    page = v.goto(url_path(lang, path))
    scheme = 'document.body.getAttribute("data-md-color-scheme")'
    page.wait_for_function(f"{scheme} === 'slate'", timeout=10_000)  # Material's script
    page.screenshot(path=shots / f"{lang}-dark.png")
    page.locator('label.md-header__button[for^="__palette"]:visible').first.click()
    page.wait_for_function(f"{scheme} === 'default'", timeout=10_000)
    assert v.problems() == []


def test_mathjax_renders_from_the_site(browser, built_site, tmp_path):
    """A lesson with formulas gets the site's MathJax 3 instead of nbconvert's CDN MathJax 2,
    and it typesets the notebook's ``$...$`` (checked on a page made as the hook makes it)."""
    hook = load_hook()
    shutil.copytree(built_site / "assets" / "vendor", tmp_path / "assets" / "vendor")
    nbconvert_head = ('<!-- Load mathjax -->\n<script src="https://cdnjs.cloudflare.com/ajax/'
                      'libs/mathjax/2.7.7/latest.js?config=TeX-AMS_CHTML-full,Safe"></script>\n'
                      '<!-- End of mathjax configuration -->')
    page_html = hook.localize(
        f'<html><head><link rel="icon" href="data:,">{nbconvert_head}</head><body>'
        '<div class="jp-MarkdownOutput"><p>The score $\\phi_i = x_i \\cdot g_i$.</p></div>'
        '<div class="jp-OutputArea-output"><p>An output: $x$ and $y$ stay text.</p></div>'
        "</body></html>", "lessons/x/", math=True)
    (tmp_path / "lessons" / "x").mkdir(parents=True)
    (tmp_path / "lessons" / "x" / "index.html").write_text(page_html, encoding="utf-8")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    v = Visit(browser, f"http://127.0.0.1:{server.server_address[1]}/")
    try:
        page = v.goto("lessons/x/")
        page.wait_for_selector(".jp-MarkdownOutput mjx-container", timeout=20_000)
        assert page.locator("mjx-container").count() == 1  # only in the markdown cell
        assert v.problems() == []
    finally:
        v.close()
        server.shutdown()
        server.server_close()
