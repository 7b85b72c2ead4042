"""The explainer registry and what every explainer shares (results, HTML, tables, JSON).

Introduced in lesson 03_classification_explainers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch

from ..errors import AttributionsNotCalculatedError, UnknownExplainerError
from . import _attribution, _checks
from ._html import Row, Visualization, text_table

_EXPLAINERS: dict[str, type[BaseExplainer]] = {}


def register(cls: type[BaseExplainer]) -> type[BaseExplainer]:
    """Class decorator: add an explainer to the registry under ``cls.explainer_name``."""
    _EXPLAINERS[cls.explainer_name] = cls
    return cls


def list_explainers() -> list[str]:
    """Names of every explainer, sorted (``get_explainer(name)`` gives the class)."""
    return sorted(_EXPLAINERS)


def get_explainer(name: str) -> type[BaseExplainer]:
    """The explainer class registered as ``name``.

    Raises:
        UnknownExplainerError: the message lists the registered names.
    """
    try:
        return _EXPLAINERS[name]
    except KeyError:
        raise UnknownExplainerError(
            f"Unknown explainer {name!r}. Explainers: {', '.join(list_explainers())}.") from None


@dataclass
class Explained:
    """One explained target: its name, the tokens, unit-norm attributions, and checks."""

    target: str
    tokens: list[str]
    values: list[float]
    delta: float
    score: float | None = None  # the model's probability (or score) for the target
    prediction: str | None = None  # what the model predicted
    position: int | None = None  # the token explained (token classification)

    @property
    def pairs(self) -> list[tuple[str, float]]:
        return list(zip(self.tokens, self.values, strict=True))


class BaseExplainer:
    """Registry key, results, ``visualize``, ``to_dataframe``, ``to_json``, inline display."""

    explainer_name: ClassVar[str]
    _explained: list[Explained] | None = None  # None: not called yet

    def _require(self) -> list[Explained]:
        if self._explained is None:
            raise AttributionsNotCalculatedError(
                "Attributions have not been calculated yet: call the explainer on an input "
                "first, e.g. explainer('I love you, I like you').")
        return self._explained

    @property
    def word_attributions(self):
        raise NotImplementedError

    @property
    def convergence_delta(self):
        """Integrated gradients' completeness gap: sum of raw attributions minus
        (score at the input - score at the baseline). A float, or a dict per target."""
        explained = self._require()
        return self._per_target({e.target: e.delta for e in explained})

    def _per_target(self, mapping: dict):
        return mapping

    # ---- output -------------------------------------------------------------------------
    def _title(self) -> str:
        return f"{type(self).__name__} on {type(self.model).__name__}"

    def _rows(self, true_class=None) -> list[Row]:
        return [Row(e.target, e.prediction or "", e.score, e.tokens, e.values, e.delta,
                    None if true_class is None else str(true_class))
                for e in self._require()]

    def visualize(self, html_filepath: str | Path | None = None, true_class=None
                  ) -> Visualization:
        """Render the last explanation as self-contained HTML (no IPython needed).

        In a notebook the returned object shows inline; with ``html_filepath`` the page is
        also written there (``.html`` is added if missing). Introduced in lesson
        03_classification_explainers.
        """
        title = self._title()
        viz = Visualization(title, text_table(title, self._rows(true_class)))
        if html_filepath:
            viz.save(html_filepath)
        return viz

    def _repr_html_(self) -> str:
        if self._explained is None:
            return f"<p>{type(self).__name__}: nothing explained yet.</p>"
        return self.visualize()._repr_html_()

    def to_dataframe(self):
        """The last explanation as a long table: one row per (target, token)."""
        import pandas as pd

        rows = []
        for e in self._require():
            for position, (token, value) in enumerate(e.pairs):
                rows.append({"target": e.target, "target_position": e.position,
                             "prediction": e.prediction, "score": e.score,
                             "position": position, "token": token, "attribution": value,
                             "convergence_delta": e.delta})
        columns = ["target", "target_position", "prediction", "score", "position", "token",
                   "attribution", "convergence_delta"]
        frame = pd.DataFrame(rows, columns=columns)
        if frame["target_position"].isna().all():
            frame = frame.drop(columns="target_position")
        return frame

    def _summary(self) -> dict:
        return {}

    def to_json(self, path: str | Path | None = None, *, indent: int | None = 2) -> str:
        """The last explanation as JSON (also written to ``path`` if given)."""
        self._require()
        document = {"explainer": self.explainer_name, "model": type(self.model).__name__,
                    **self._summary(), "word_attributions": self.word_attributions,
                    "convergence_delta": self.convergence_delta}
        text = json.dumps(document, indent=indent, ensure_ascii=False, default=_plain)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def __str__(self) -> str:
        parts = [f"model={type(self.model).__name__}"]
        for name in ("tokenizer", "image_processor"):
            if getattr(self, name, None) is not None:
                parts.append(f"{name}={type(getattr(self, name)).__name__}")
        parts.append(f"attribution_type={self.attribution_type!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    __repr__ = __str__


def _plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class TextExplainer(BaseExplainer):
    """Shared by the text explainers: tokenising, baselines, and the integrated gradients."""

    def __init__(self, model, tokenizer, *, attribution_type: str = "lig"):
        self.model = model
        self.tokenizer = tokenizer
        self.attribution_type = _checks.attribution_type(attribution_type, ("lig",))
        self.n_steps = 50
        # Rows per forward and backward pass; None: as many as fit in ACTIVATION_BUDGET.
        self.internal_batch_size: int | None = None
        self.ref_token_id = self._reference_id()
        self.input_ids: torch.Tensor | None = None

    def _reference_id(self) -> int:
        tokenizer = self.tokenizer
        if self.model.config.model_type == "gpt2" or tokenizer.pad_token_id is None:
            for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id,
                              tokenizer.unk_token_id):
                if candidate is not None:
                    return int(candidate)
            raise ValueError("The tokenizer has no pad, eos or unk token to build the "
                             "baseline from; set tokenizer.pad_token first.")
        return int(tokenizer.pad_token_id)

    @property
    def device(self) -> torch.device:
        return self.model.device

    def _settings(self, n_steps: int | None, internal_batch_size: int | None) -> None:
        """As in transformers-interpret, values given to a call stay for the next calls."""
        if n_steps:
            self.n_steps = int(n_steps)
        if internal_batch_size:
            self.internal_batch_size = int(internal_batch_size)

    def _encode(self, texts: Sequence[str], pairs: Sequence[str] | None = None, *,
                truncation: str = "longest_first", what: str = "text") -> _attribution.Encoded:
        return _attribution.encode(self.model, self.tokenizer, texts, pairs,
                                   truncation=truncation, reference_id=self.ref_token_id,
                                   what=what)

    def _outputs(self, encoded: _attribution.Encoded):
        """The model's outputs on ``encoded`` (no gradients)."""
        with torch.no_grad():
            return self.model(input_ids=encoded.input_ids,
                              attention_mask=encoded.attention_mask, **encoded.extras)

    def _attribute(self, encoded: _attribution.Encoded, scores: Callable,
                   targets: Sequence[int], *, embedding_type: int, shared: bool,
                   batched: bool = True) -> _attribution.Attributions:
        """Layer integrated gradients of ``scores(outputs)[:, target]``.

        ``shared``: one example, many targets (batched: path computed once; else one Captum
        call per target). Otherwise: example ``i`` towards ``targets[i]`` (batched: our
        path, one pass for the batch; else Captum's ``LayerIntegratedGradients``).
        """
        layer, used = _attribution.embedding_layer(self.model, embedding_type)
        path = _attribution.path_inputs(self.model, encoded, used)
        forward = _attribution.ModelScores(self.model, path.names, scores)
        if shared:
            method = (_attribution.shared_path_lig if batched
                      else _attribution.captum_lig_per_target)
        else:
            method = _attribution.path_lig if batched else _attribution.captum_lig
        rows = self.internal_batch_size or _attribution.rows_that_fit(
            self.model, encoded.input_ids.shape[1])
        return method(forward, layer, path, targets, n_steps=self.n_steps,
                      internal_batch_size=rows)

    def decode(self, input_ids: torch.Tensor) -> list[str]:
        """Tokens of the first row of ``input_ids`` as the tokenizer writes them."""
        return self.tokenizer.convert_ids_to_tokens(input_ids[0].tolist())

    def _tokens(self, encoded: _attribution.Encoded, row: int = 0) -> list[str]:
        keep = encoded.attention_mask[row].bool()
        return _attribution.display_tokens(self.tokenizer, encoded.input_ids[row, keep].tolist())
