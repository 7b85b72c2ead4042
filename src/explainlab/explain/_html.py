"""Self-contained HTML for explanations: no IPython, no scripts, no CDN, inline styles only.

``Visualization`` is what ``explainer.visualize()`` returns: a notebook shows it inline
(``_repr_html_``), ``save(path)`` writes a complete page, ``.data`` is the markup.
Introduced in lesson 03_classification_explainers.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from pathlib import Path

_STYLE = """
.xl-explanation{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans SC",sans-serif;
  font-size:14px;color:#1f2328;max-width:100%;overflow-x:auto}
.xl-explanation table{border-collapse:collapse;margin:.5em 0}
.xl-explanation th,.xl-explanation td{border:1px solid #d0d7de;padding:4px 8px;
  vertical-align:top;text-align:left}
.xl-explanation th{background:#f6f8fa;font-weight:600}
.xl-explanation .xl-tokens{line-height:2.1;max-width:60em}
.xl-explanation .xl-token{padding:2px 3px;margin:0 1px;border-radius:3px;
  white-space:pre;border:1px solid #0000}
.xl-explanation .xl-legend span{padding:2px 6px;margin-right:6px;border-radius:3px}
.xl-explanation caption{caption-side:top;text-align:left;font-weight:600;padding:4px 0}
"""


def colour(value: float) -> str:
    """Background for an attribution in [-1, 1]: green for positive, red for negative."""
    value = max(-1.0, min(1.0, float(value)))
    rgb = "22,163,74" if value >= 0 else "220,38,38"
    return f"rgba({rgb},{abs(value) * 0.85:.3f})"


def token_spans(tokens, values) -> str:
    """The tokens, each on a background that shows its attribution (hover for the number)."""
    spans = []
    for token, value in zip(tokens, values, strict=True):
        shown = html.escape(str(token)) if str(token) else "&#8203;"
        spans.append(f'<span class="xl-token" style="background:{colour(value)}" '
                     f'title="{html.escape(str(token))}: {float(value):+.4f}">{shown}</span>')
    return '<div class="xl-tokens">' + "".join(spans) + "</div>"


def _cell(value) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, float):
        return f"{value:.4f}"
    return html.escape(str(value))


@dataclass
class Row:
    """One explained target: what it is, what the model said, and the token attributions."""

    target: str
    prediction: str
    score: float | None
    tokens: list[str]
    values: list[float]
    delta: float | None = None
    truth: str | None = None

    @property
    def total(self) -> float:
        return float(sum(self.values))


def text_table(title: str, rows: list[Row]) -> str:
    """The markup of a text explanation: a legend and one table row per target."""
    has_truth = any(row.truth is not None for row in rows)
    heads = ["Target", "Prediction", "Score", *(["True label"] if has_truth else []),
             "Attribution sum", "Convergence &Delta;", "Token attributions"]
    body = []
    for row in rows:
        cells = [_cell(row.target), _cell(row.prediction), _cell(row.score),
                 *([_cell(row.truth)] if has_truth else []), _cell(row.total),
                 _cell(row.delta), token_spans(row.tokens, row.values)]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    legend = ('<div class="xl-legend">Legend: '
              f'<span style="background:{colour(-0.8)}">negative</span>'
              f'<span style="background:#fff;border:1px solid #d0d7de">neutral</span>'
              f'<span style="background:{colour(0.8)}">positive</span></div>')
    return (f'<div class="xl-explanation"><style>{_STYLE}</style>{legend}<table>'
            f"<caption>{html.escape(title)}</caption><thead><tr>"
            + "".join(f"<th>{h}</th>" for h in heads)
            + "</tr></thead><tbody>" + "".join(body) + "</tbody></table></div>")


def page(title: str, fragment: str) -> str:
    """A complete HTML document around ``fragment``."""
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title></head><body>{fragment}</body></html>\n")


def _html_path(path) -> Path:
    path = Path(path)
    return path if path.suffix.lower() in (".html", ".htm") else path.with_name(path.name + ".html")


class Visualization:
    """A rendered explanation. Shows inline in a notebook; ``save(path)`` writes a page."""

    def __init__(self, title: str, fragment: str):
        self.title = title
        self.data = fragment  # the markup, as IPython's HTML object calls it

    def _repr_html_(self) -> str:
        return self.data

    def html(self) -> str:
        """The complete, self-contained page."""
        return page(self.title, self.data)

    def save(self, path) -> Path:
        """Write the page to ``path`` (``.html`` added if missing); return the path."""
        path = _html_path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html(), encoding="utf-8")
        return path

    def __repr__(self) -> str:
        return f"<Visualization {self.title!r}: {len(self.data)} characters of HTML>"


class ImageVisualization:
    """A Matplotlib figure of an image explanation, shown inline in a notebook as a PNG.

    Indexing gives ``(figure, axes)`` as transformers-interpret's visualizer returned them.
    """

    def __init__(self, title: str, figure, axes):
        self.title, self.figure, self.axes = title, figure, axes

    def __getitem__(self, index):
        return (self.figure, self.axes)[index]

    def __iter__(self):
        return iter((self.figure, self.axes))

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png()).decode("ascii")
        return (f'<div class="xl-explanation"><img alt="{html.escape(self.title)}" '
                f'style="max-width:100%" src="data:image/png;base64,{data}"></div>')

    def save(self, path) -> Path:
        """``.html``/``.htm``: a self-contained page with the PNG inside; else ``savefig``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() in (".html", ".htm"):
            path.write_text(page(self.title, self._repr_html_()), encoding="utf-8")
        else:
            self.figure.savefig(path, bbox_inches="tight")
        return path

    def __repr__(self) -> str:
        return f"<ImageVisualization {self.title!r}>"
