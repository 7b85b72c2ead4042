"""explain._html: self-contained pages (no scripts, no links out), inline in notebooks."""

from __future__ import annotations

import re

from explainlab.explain import _html


def _rows():
    return [_html.Row("POSITIVE", "POSITIVE (0.98)", 0.98, ["[CLS]", "love", "<b>"],
                      [0.0, 0.9, -0.4], 1e-4)]


def test_colours():
    assert _html.colour(0.5) == "rgba(22,163,74,0.425)"
    assert _html.colour(-1) == "rgba(220,38,38,0.850)"
    assert _html.colour(5) == _html.colour(1)  # clipped


def test_text_table_is_self_contained_and_escaped():
    fragment = _html.text_table("Explainer on Model", _rows())
    assert "&lt;b&gt;" in fragment and "<b>" not in fragment
    assert "love" in fragment and 'title="love: +0.9000"' in fragment
    assert "Convergence" in fragment and "0.0001" in fragment
    page = _html.page("t", fragment)
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert not re.search(r"<script|<link|https?://|src=", page)


def test_true_label_column_only_when_given():
    assert "True label" not in _html.text_table("t", _rows())
    rows = _rows()
    rows[0].truth = "NEGATIVE"
    assert "True label" in _html.text_table("t", rows)


def test_visualization_saves_and_shows(tmp_path):
    viz = _html.Visualization("t", _html.text_table("t", _rows()))
    assert viz._repr_html_() == viz.data
    path = viz.save(tmp_path / "sub" / "viz")
    assert path.name == "viz.html" and path.read_text().startswith("<!DOCTYPE html>")
    assert viz.save(tmp_path / "a.htm").name == "a.htm"
    assert "characters of HTML" in repr(viz)
