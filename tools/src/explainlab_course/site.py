"""The MkDocs hook's logic: the course's lessons as site pages (docs/hooks/explainlab_site.py,
``hooks:`` in mkdocs.yml, hands every event here).

For the language of the build (``theme.language``: ``en`` or ``zh``) it

- executes every lesson ``lessons/<lang>/NN_slug.py`` through ``explainlab_course.lessons.execute``
  (cached by content under ``EXPLAINLAB_HOME/lessons``, so a warm build runs nothing) with
  the profile in ``EXPLAINLAB_PROFILE`` (``offline`` when unset), refuses a lesson whose
  outputs contain a stderr stream or an error, or whose claims fail (``explainlab_course.claims``:
  its own, those of every lesson, and those comparing it with the other language's
  notebook), and adds the executed notebook as the page
  ``lessons/NN_slug.ipynb`` that mkdocs-jupyter renders; nav entries of lessons not written
  yet are dropped, a lesson missing from the nav is an error;
- puts "Open in Colab", "Open in Kaggle" and "Download notebook" buttons under each lesson's
  title, built from the repository set in pyproject.toml (``explainlab_course.course``: the
  one place it is named; the hook also sets ``repo_url`` from it), and a note saying
  which profile produced the outputs; the download is the committed output-free ``.ipynb``;
- serves the browser libraries from the site itself: RequireJS, d3 5 and jQuery 3 (BertViz
  asks for jQuery 2.0.0 on a CDN) and MathJax 3 from ``docs/vendor/node_modules`` (``make
  vendor``), rewrites the CDN addresses in rendered pages, and fails the build if a page
  would still load anything from another host;
- gives lesson headings the anchors of the page's table of contents (mkdocs-jupyter leaves
  Chinese headings with empty ids, which breaks their links and Chinese search);
- makes the language switch page-relative (same page in the other language) and keeps the
  Chinese search segmenter (jieba) quiet.

Why a hook and not an export step before ``mkdocs build``: ``mkdocs build`` and ``mkdocs
serve`` alone then always show the lessons as they are now (no stale copies in docs/, no
step to forget), and the cache makes the warm build as fast as an export would.
"""

from __future__ import annotations

import html
import logging
import os
import posixpath
import re
import shutil
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

log = logging.getLogger("mkdocs.hooks.explainlab_site")

ROOT = Path(__file__).resolve().parents[3]
LESSONS = ROOT / "lessons"
VENDOR = ROOT / "docs" / "vendor" / "node_modules"

LESSON_URI = re.compile(r"^lessons/(\d\d_[A-Za-z0-9_]+)\.ipynb$")

# name in the site (under assets/vendor/) -> file under docs/vendor/node_modules
VENDOR_FILES = {
    "require.js": "requirejs/require.js",  # its MIT licence is in its header
    "d3.min.js": "d3/dist/d3.min.js",
    "jquery.min.js": "jquery/dist/jquery.min.js",
    "mathjax/tex-chtml.js": "mathjax/es5/tex-chtml.js",
    "LICENSES/d3.txt": "d3/LICENSE",
    "LICENSES/jquery.txt": "jquery/LICENSE.txt",
    "LICENSES/mathjax.txt": "mathjax/LICENSE",
}
VENDOR_DIRS = {  # MathJax loads its fonts and TeX extensions from beside tex-chtml.js
    "mathjax/output/chtml/fonts/woff-v2": "mathjax/es5/output/chtml/fonts/woff-v2",
    "mathjax/input/tex/extensions": "mathjax/es5/input/tex/extensions",
}

# The CDN files that BertViz (and nbconvert) ask for -> the site's own copies.
CDN = re.compile(
    r"https://cdnjs\.cloudflare\.com/ajax/libs/"
    r"(?:require\.js/[\w.]+/require\.min\.js|d3/[\w.]+/d3\.min|jquery/[\w.]+/jquery\.min)")
CDN_LOCAL = {"require.js": "require.js", "d3": "d3.min", "jquery": "jquery.min"}
MATHJAX2 = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
MERMAID = re.compile(r"<script type=\"module\">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*"
                     r"</script>", re.S)
MATH_IN_MARKDOWN = re.compile(
    r"\$\$|(?<![\\\w])\$[^$\s](?:[^$\n]*[^$\s\\])?\$(?!\w)|\\\(|\\\[")
CODE_IN_MARKDOWN = re.compile(r"^(```|~~~).*?^\1|`[^`\n]*`", re.S | re.M)
# What a page would load: script/img/iframe/source src, stylesheet/preload/icon links,
# CSS url(), dynamic import() and RequireJS paths.
SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S | re.I)
QUOTED_URL = re.compile(r"[\"'`]((?:https?:)?//[^\"'`\s]+)[\"'`]")
LOADS = [
    re.compile(r"<(?:script|img|iframe|source|video|audio|embed)\b[^>]*?\ssrc=[\"']([^\"']+)",
               re.I),
    re.compile(r"<link\b(?=[^>]*\brel=[\"']?(?:stylesheet|preload|modulepreload|icon|"
               r"shortcut icon|manifest)\b)[^>]*?\shref=[\"']([^\"']+)", re.I),
    re.compile(r"url\(\s*[\"']?((?:https?:)?//[^\"')]+)", re.I),
    re.compile(r"\bimport\(\s*[\"']((?:https?:)?//[^\"']+)", re.I),
    re.compile(r"\b(?:d3|jquery|paths?)\s*:\s*[\"']((?:https?:)?//[^\"']+)", re.I),
]

TEXT = {
    "en": {
        "colab": "Open in Colab",
        "kaggle": "Open in Kaggle",
        "download": "Download notebook",
        "profile": {
            "offline": (
                "The outputs on this page were produced with the <code>offline</code> "
                "profile: small offline twins that this project trains itself, with the same "
                "model and tokenizer classes as the real models. The code is the same; the "
                "numbers, and sometimes the words, differ from the real models'. Open the "
                "notebook in Colab or Kaggle to run it with the real models (profile "
                "<code>hub</code>)."),
            "hub": (
                "The outputs on this page were produced with the <code>hub</code> profile: "
                "the real models named in the lesson."),
        },
        "profile_link": "About profiles",
        "profile_anchor": "choosing-a-profile",  # in setup.md
    },
    "zh": {
        "colab": "在 Colab 中打开",
        "kaggle": "在 Kaggle 中打开",
        "download": "下载笔记本",
        "profile": {
            "offline": (
                "本页的输出由 <code>offline</code> 配置生成：用的是本项目自己训练的小型离线替身"
                "模型，模型类和分词器与真实模型相同。代码一模一样，但数值、有时连生成的词，都会和"
                "真实模型不同。想看真实模型的结果，请在 Colab 或 Kaggle 中打开本笔记本，用 "
                "<code>hub</code> 配置运行。"),
            "hub": "本页的输出由 <code>hub</code> 配置生成：用的是课程中提到的真实模型。",
        },
        "profile_link": "关于配置",
        "profile_anchor": "profile",  # 选择配置（profile） in setup.md
    },
}


class _State:
    """What one build (one language) knows between events."""

    lang = "en"
    profile = "offline"
    course = None  # explainlab_course.course.Settings
    lessons: dict[str, dict] = {}  # src_uri -> {"slug", "profile", "math"}
    alternates: list[dict] = []  # extra.alternate as written in mkdocs.yml


STATE = _State()


def _lang(config) -> str:
    lang = str(config.theme["language"]).split("-")[0]
    if lang not in TEXT:
        raise PluginError(f"explainlab_site: no texts for theme.language {lang!r}; "
                          f"known: {', '.join(TEXT)}")
    return lang


def _lesson_sources(lang: str) -> dict[str, Path]:
    return {p.stem: p for p in sorted((LESSONS / lang).glob("[0-9][0-9]_*.py"))}


def _filter_nav(nav, present: set[str], listed: set[str]):
    """The nav without lessons that have no source yet; records the lessons it lists."""
    out = []
    for item in nav:
        if isinstance(item, dict):
            (title, value), = item.items()
            if isinstance(value, list):
                value = _filter_nav(value, present, listed)
                if value:
                    out.append({title: value})
                continue
            item_uri = value
        else:
            title, item_uri = None, item
        match = LESSON_URI.match(str(item_uri))
        if match:
            listed.add(match[1])
            if match[1] not in present:
                log.info("Lesson %s is not written yet: left out of the nav", match[1])
                continue
        out.append(item)
    return out


def on_config(config):
    import jieba

    jieba.setLogLevel(logging.WARNING)  # the search plugin segments Chinese with jieba

    STATE.lang = _lang(config)
    from explainlab.notebook import check_profile

    try:  # the site is built offline unless EXPLAINLAB_PROFILE says otherwise
        STATE.profile = check_profile(os.environ.get("EXPLAINLAB_PROFILE") or "offline")
    except ValueError as exc:
        raise PluginError(f"explainlab_site: {exc}") from None
    from explainlab_course import course

    try:
        STATE.course = course.settings()
    except (KeyError, ValueError) as exc:
        raise PluginError(f"explainlab_site: pyproject.toml's repository settings: {exc}") from None
    config.repo_url = STATE.course.repository
    config.repo_name = STATE.course.owner_repo
    STATE.lessons = {}

    missing = [name for name in VENDOR_FILES.values() if not (VENDOR / name).is_file()]
    if missing:
        raise PluginError(f"explainlab_site: {VENDOR} lacks {', '.join(missing)}: run "
                          "`make vendor` (npm ci in docs/vendor) first.")

    present = set(_lesson_sources(STATE.lang))
    listed: set[str] = set()
    config.nav = _filter_nav(config.nav or [], present, listed)
    unlisted = sorted(present - listed)
    if unlisted:
        raise PluginError(f"explainlab_site: lessons/{STATE.lang}/ has lessons that the nav "
                          f"does not list: {', '.join(unlisted)}. Add them to the nav.")

    # Alternate links are written relative to the English (top) site; make them relative
    # to the root of this build, whose own entry says where it sits below the top.
    STATE.alternates = [dict(a) for a in config.extra.get("alternate", [])]
    own = next((a for a in STATE.alternates if a.get("lang") == STATE.lang), None)
    if own is None:
        raise PluginError(f"explainlab_site: extra.alternate has no entry for {STATE.lang!r}")
    up = _up(own["link"])
    config.extra["alternate"] = [
        {**a, "link": posixpath.normpath(up + a["link"]) + "/"} for a in STATE.alternates]

    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is not None:  # the rendered-page cache lives with the other caches
        jupyter.config["cache_dir"] = str(_home() / "site" / "mkdocs-jupyter" / STATE.lang)
    return config


def _home() -> Path:
    from explainlab import constants

    return constants.HOME


def _up(link: str) -> str:
    """``../`` once per folder of ``link`` (``zh/`` -> ``../``, ``./`` -> ``""``)."""
    depth = len([p for p in posixpath.normpath(link).split("/") if p not in ("", ".")])
    return "../" * depth


WIDGET = "application/vnd.jupyter.widget-view+json"


def noise(nb) -> list[str]:
    """What must not reach a page: stderr streams (warnings), errors, and widgets (progress
    bars: the site renders no widgets, their manager would come from a CDN)."""
    found = []
    for index, cell in enumerate(nb.cells, 1):
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream" and output.get("name") == "stderr":
                first = output.get("text", "").strip().splitlines()[:1]
                found.append(f"cell {index}: stderr {first[0][:160] if first else ''!r}")
            elif kind == "error":
                found.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
            elif WIDGET in output.get("data", {}):
                text = output["data"].get("text/plain", "")
                found.append(f"cell {index}: a widget {text.strip()[:120]!r}")
    if "widgets" in nb.metadata and not found:
        found.append("the notebook's metadata keeps widget state")
    return found


def has_math(markdown: str) -> bool:
    """Whether a markdown cell has TeX (``$...$``, ``$$...$$``, ``\\(...\\)``) outside code."""
    return bool(MATH_IN_MARKDOWN.search(CODE_IN_MARKDOWN.sub("", markdown)))


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(data)
    os.replace(partial, path)


@event_priority(100)  # before mkdocs-jupyter wraps the notebook files
def on_files(files: Files, config) -> Files:
    import nbformat

    from explainlab.errors import LessonClaimError, LessonExecutionError
    from explainlab_course import lessons

    out_dir = _home() / "site" / STATE.profile / STATE.lang
    for slug, source in _lesson_sources(STATE.lang).items():
        committed = source.with_suffix(".ipynb")
        if not committed.is_file():
            raise PluginError(f"explainlab_site: {committed.relative_to(ROOT)} is missing: "
                              f"pair it with `jupytext --sync {source.relative_to(ROOT)}`.")
        try:  # claims are checked below, once a noisy cached run has been replaced
            nb = lessons.execute(source, profile=STATE.profile, check=False)
            found = noise(nb)
            if found and nb.metadata.get("explainlab", {}).get("cached"):
                # e.g. a twin was trained during that run, with progress bars: run it again
                log.info("Executing %s again: its cached outputs have %s", source.name, found[0])
                nb = lessons.execute(source, profile=STATE.profile, force=True, check=False)
                found = noise(nb)
        except LessonExecutionError as exc:
            raise PluginError(f"explainlab_site: {exc}") from None
        if found:
            raise PluginError(
                f"explainlab_site: lessons/{STATE.lang}/{source.name} writes to stderr, fails "
                "or shows widgets; silence warnings and progress bars at their source (see "
                ".notes/lesson-guide.md):\n  " + "\n  ".join(found))
        try:  # no page states a claim its outputs contradict
            lessons.check_claims(nb, source)
            _check_other_language(nb, source)
        except (LessonClaimError, LessonExecutionError) as exc:
            raise PluginError(f"explainlab_site: {exc}") from None
        uri = f"lessons/{slug}.ipynb"
        nb.metadata.get("explainlab", {}).pop("cached", None)  # same bytes warm or cold
        _write_if_changed(out_dir / uri, nbformat.writes(nb).encode())
        # a plain File (not File.generated): mkdocs-jupyter's wrapper reads its source path
        files.append(File(uri, str(out_dir), config.site_dir, config.use_directory_urls))
        math = any(has_math(c.source) for c in nb.cells if c.cell_type == "markdown")
        STATE.lessons[uri] = {"slug": slug, "committed": committed, "math": math,
                              "profile": nb.metadata.get("explainlab", {}).get("profile",
                                                                               STATE.profile)}
    for name, source in _vendor_files().items():
        files.append(File.generated(config, f"assets/vendor/{name}", abs_src_path=str(source)))
    return files


def _check_other_language(nb, source: Path) -> None:
    """The claims comparing ``source``'s notebook with its other language's (executed through
    the cache: ``make site`` has executed both, and the other build needs it anyway)."""
    from explainlab_course import lessons

    slug = source.stem
    langs = {STATE.lang: (source, nb)}
    for lang in lessons.LANGS:
        other = LESSONS / lang / source.name
        if lang not in langs and other.is_file():
            langs[lang] = (other, lessons.execute(other, profile=STATE.profile, check=False))
    if all(lang in langs for lang in lessons.LANGS):
        (en_path, en), (zh_path, zh) = (langs[lang] for lang in lessons.LANGS)
        lessons.check_pair_claims(en, zh, slug, paths=(en_path, zh_path))


def _vendor_files() -> dict[str, Path]:
    found = {name: VENDOR / rel for name, rel in VENDOR_FILES.items()}
    for name, rel in VENDOR_DIRS.items():
        for path in sorted((VENDOR / rel).rglob("*")):
            if path.is_file():
                found[f"{name}/{path.relative_to(VENDOR / rel).as_posix()}"] = path
    return found


def _buttons(page) -> str:
    info = STATE.lessons[page.file.src_uri]
    text = TEXT[STATE.lang]
    from explainlab_course.course import lesson_links
    from explainlab_course.scale import requirements

    links = lesson_links(STATE.lang, info["slug"], STATE.course)
    download = get_relative_url(f"lessons/{info['slug']}.ipynb", page.url)
    setup = get_relative_url("setup/", page.url) + "#" + text["profile_anchor"]
    note = text["profile"].get(info["profile"], text["profile"]["hub"])
    return (
        '\n<div class="explainlab-lesson-links" data-explainlab-profile="'
        f'{html.escape(info["profile"])}">\n<p>'
        f'<a class="md-button md-button--primary" data-explainlab-link="colab" '
        f'href="{html.escape(links["colab"])}" target="_blank" rel="noopener">'
        f'{text["colab"]}</a> '
        f'<a class="md-button" data-explainlab-link="kaggle" '
        f'href="{html.escape(links["kaggle"])}" target="_blank" rel="noopener">'
        f'{text["kaggle"]}</a> '
        f'<a class="md-button" data-explainlab-link="download" href="{download}" '
        f'download="{info["slug"]}.ipynb">{text["download"]}</a></p>\n'
        f'<div class="admonition info explainlab-profile"><p>{note} '
        f'<a href="{setup}">{text["profile_link"]}</a></p></div>\n'
        f'{requirements.box_html(STATE.lang, info["slug"])}</div>\n')


# A heading as mkdocs-jupyter renders it: id from an ASCII-only slug, "¶" anchor link.
NOTEBOOK_HEADING = re.compile(
    r'<h([1-6]) id="[^"]*">(.*?)<a class="anchor-link" href="#[^"]*">¶</a></h\1>', re.S)
TAG = re.compile(r"<[^>]+>")


def _plain(fragment: str) -> str:
    return " ".join(html.unescape(TAG.sub("", fragment)).split())


def heading_ids(content: str, toc) -> str:
    """Give a lesson page's headings the anchors of its table of contents.

    mkdocs-jupyter slugs heading ids to ASCII, so every Chinese heading gets ``id=""``: its
    "¶" links to "#", the side table of contents (Python-Markdown's ``_1``, ``_2``, ...)
    points nowhere, and the search index gets one section per heading under the same
    location, which breaks Material's Chinese search. Headings are matched to the table's
    entries in order, by their text; the "¶" becomes Material's own permalink (styled like
    the other pages', left out of the search index). A heading the table does not list (one
    inside a cell's output) keeps its text and loses the empty id.
    """
    entries, stack = [], list(reversed(list(toc)))
    while stack:
        link = stack.pop()
        entries.append((_plain(link.title), link.id))
        stack.extend(reversed(link.children))
    position = 0

    def anchored(match: re.Match) -> str:
        nonlocal position
        level, inner = match.groups()
        text = _plain(inner)
        for index in range(position, len(entries)):
            if entries[index][0] == text:
                position = index + 1
                anchor = html.escape(entries[index][1])
                return (f'<h{level} id="{anchor}">{inner}<a class="headerlink" '
                        f'href="#{anchor}" title="Permanent link">¶</a></h{level}>')
        return f"<h{level}>{inner}</h{level}>"

    return NOTEBOOK_HEADING.sub(anchored, content)


def on_page_content(html_content: str, page, config, files) -> str:
    if page.file.src_uri not in STATE.lessons:
        return html_content
    html_content = heading_ids(html_content, page.toc)
    end = html_content.find("</h1>")
    if end < 0:
        raise PluginError(f"explainlab_site: {page.file.src_uri} has no H1 title")
    end += len("</h1>")
    return html_content[:end] + _buttons(page) + html_content[end:]


def on_page_context(context, page, config, nav):
    """Per-page links to the same page in the other languages (the partial uses them)."""
    up_to_top = "../" * len([p for p in page.url.split("/")[:-1] if p]) \
        + _up(next(a["link"] for a in STATE.alternates if a["lang"] == STATE.lang))
    links = {}
    for alt in STATE.alternates:
        lang = alt["lang"]
        root = posixpath.normpath(up_to_top + alt["link"])
        if lang == STATE.lang:
            same = True
        else:
            same = _exists_in(lang, page.file.src_uri)
        target = root + "/" + (page.url if same else "")
        links[lang] = target if target.startswith(".") else "./" + target
    page.explainlab_alternates = links
    return context


def _exists_in(lang: str, src_uri: str) -> bool:
    match = LESSON_URI.match(src_uri)
    if match:
        return (LESSONS / lang / f"{match[1]}.py").is_file()
    return (ROOT / "docs" / lang / src_uri).is_file()


def _vendor_url(page_url: str, name: str) -> str:
    return get_relative_url(f"assets/vendor/{name}", page_url)


def localize(output: str, page_url: str, *, math: bool = False) -> str:
    """``output`` with the CDN scripts BertViz and nbconvert ask for served from the site.

    RequireJS, d3 and jQuery (BertViz) point to ``assets/vendor/``; nbconvert's MathJax 2
    from a CDN becomes the site's MathJax 3 where the lesson has formulas (``math``), and
    goes otherwise; nbconvert's loader for mermaid diagrams (none in the lessons) goes.
    MathJax leaves code outputs and the page's frame alone (a ``$`` there is not TeX).
    """
    def local(match: re.Match) -> str:
        lib = match[0].split("/ajax/libs/")[1].split("/")[0]
        return _vendor_url(page_url, CDN_LOCAL[lib])

    output = CDN.sub(local, output)
    output = MERMAID.sub("", output)
    mathjax = ""
    if math:
        mathjax = (
            "<script>window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], "
            "displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']], processEscapes: true, "
            "processEnvironments: true}, options: {ignoreHtmlClass: "
            "'jp-OutputArea-output|md-header|md-sidebar|md-footer|md-search'}};</script>\n"
            f'<script defer src="{_vendor_url(page_url, "mathjax/tex-chtml.js")}"></script>')
    return MATHJAX2.sub(lambda _: mathjax, output)


def foreign_loads(output: str) -> list[str]:
    """Addresses on another host that ``output`` would load (scripts, styles, images, ...)."""
    found = {url for pattern in LOADS for url in pattern.findall(output)}
    for script in SCRIPT.findall(output):  # addresses a script would load from
        found.update(QUOTED_URL.findall(script))
    return sorted(url for url in found if re.match(r"(?:[a-z][a-z0-9+.-]*:)?//", url, re.I))


def on_post_page(output: str, page, config) -> str:
    info = STATE.lessons.get(page.file.src_uri)
    output = localize(output, page.url, math=bool(info and info["math"]))
    foreign = foreign_loads(output)
    if foreign:
        raise PluginError(f"explainlab_site: {page.file.src_uri} would load from another "
                          f"host: {', '.join(foreign)}. Serve it from the site (docs/vendor).")
    return output


def on_post_build(config) -> None:
    """The committed, output-free notebooks, downloadable beside the lesson pages."""
    for uri, info in STATE.lessons.items():
        target = Path(config.site_dir) / uri
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(info["committed"], target)
