"""What each lesson needs with the real models, from the scale check's measurements.

``python -m explainlab_course.scale requirements REPORT.json...`` writes
``lessons/requirements.json``: per lesson, the download of the real models it loads (the
table's file sizes), the largest peak RSS and the longest time over the reports and both
languages, the peak GPU memory where a report measured it, whether a GPU is needed, and the
machines it was measured on (``--update`` re-measures some lessons and keeps the others). The
lesson pages (``explainlab_course.site``) and the READMEs (``explainlab_course.course``)
show it; nothing there is typed by hand.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

from . import standins

PATH = Path(__file__).resolve().parents[4] / "lessons" / "requirements.json"
_VARIANT = re.compile(r"""resolve\(\s*["']([\w-]+)["']\s*,\s*variant\s*=\s*["'](\w+)["']""")
# The package's loaders that take a GPU-only variant where a GPU allows it.
_GPU_LOADERS = {"explainlab.homework.completion_model(": "lm-gpt2-xl"}


def gpu_only_roles(source: str) -> list[str]:
    """Table rows of the variants a lesson loads only on a GPU (``variant="xl"``, or through
    a package loader that does, such as the homework's ``completion_model``)."""
    found = {f"{role}-{variant}" for role, variant in _VARIANT.findall(source)}
    found |= {row for call, row in _GPU_LOADERS.items() if call in source}
    return sorted(found)


def from_reports(reports: Sequence[dict], lessons_dir: Path) -> dict:
    """The requirements document of ``reports`` (a CPU report, and a GPU one if any)."""
    by_slug: dict[str, dict] = {}
    for report in reports:
        for lesson in report["lessons"]:
            row = by_slug.setdefault(lesson["slug"], {"roles": lesson["roles"], "seconds": 0,
                                                       "peak_rss_bytes": 0,
                                                       "peak_gpu_bytes": None})
            if report["device"] == "cpu":
                row["seconds"] = max(row["seconds"], lesson["seconds"])
                row["peak_rss_bytes"] = max(row["peak_rss_bytes"], lesson["peak_rss"])
            elif lesson["peak_gpu"]:
                row["peak_gpu_bytes"] = max(row["peak_gpu_bytes"] or 0, lesson["peak_gpu"])
    for slug, row in by_slug.items():
        source = (lessons_dir / "en" / f"{slug}.py").read_text(encoding="utf-8")
        extra = gpu_only_roles(source)
        row["download_bytes"] = sum(standins.download_bytes(r) for r in row["roles"])
        row["gpu"] = "optional" if extra else "no"
        row["gpu_only_download_bytes"] = sum(standins.download_bytes(r) for r in extra)
    machines = [{"device": r["device"], **{k: r["machine"][k] for k in
                                            ("cpu", "cores", "capability", "kernels", "gpu")}}
                for r in reports]
    for row in by_slug.values():
        row["measured_on"] = machines
    return {"_about": "Written by `python -m explainlab_course.scale requirements` from "
                      "`make scale-check` reports; do not edit by hand.",
            "measured_on": machines, "lessons": dict(sorted(by_slug.items()))}


def updated(document: dict, fresh: dict) -> dict:
    """``document`` with the lessons that ``fresh`` measured replaced by its rows; the other
    lessons keep their rows and the machines they were measured on (one lesson re-measured
    after a change, on whatever machine is at hand)."""
    lessons = {slug: {"measured_on": document["measured_on"], **row}
               for slug, row in {**document["lessons"], **fresh["lessons"]}.items()}
    machines = []
    for machine in (m for row in lessons.values() for m in row["measured_on"]):
        if machine not in machines:
            machines.append(machine)
    return {**document, "measured_on": machines, "lessons": dict(sorted(lessons.items()))}


def load(path: Path = PATH) -> dict:
    """The committed requirements, or an empty document when none are measured yet."""
    if not path.is_file():
        return {"measured_on": [], "lessons": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def _gb(value: int) -> str:
    return f"{value / 1e9:.1f} GB"


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


TEXT = {
    "en": {
        "title": "What this lesson needs with the real models",
        "download": "download {}", "ram": "{} peak RAM", "time": "about {} min on a {}-core CPU",
        "gpu_no": "no GPU needed", "gpu_optional": "no GPU needed; the 8-bit GPT-2 XL cell "
                                                   "runs only on a CUDA GPU (+{} download)",
        "gpu_peak": "{} peak GPU memory",
        "source": "Measured with full-size stand-ins of the real models (their published "
                  "configuration and dtype, random weights) by <code>make scale-check</code> "
                  "on {}.",
        "short": "{} download · {} RAM · {} min on CPU",
    },
    "zh": {
        "title": "本课使用真实模型时的需求",
        "download": "下载 {}", "ram": "内存峰值 {}", "time": "{1} 核 CPU 上约 {0} 分钟",
        "gpu_no": "不需要 GPU",
        "gpu_optional": "不需要 GPU；8 位 GPT-2 XL 那个单元格只能在 CUDA GPU 上运行（另需下载 {}）",
        "gpu_peak": "GPU 显存峰值 {}",
        "source": "数据来自 <code>make scale-check</code>：用真实模型的全尺寸占位模型（公开的配置与"
                  "数据类型，随机权重）在 {} 上实测。",
        "short": "下载 {} · 内存 {} · CPU 约 {} 分钟",
    },
}


def _machine(machines: list[dict]) -> str:
    cpus = [m for m in machines if m["device"] == "cpu"]
    return "; ".join(f"{m['cpu']} ({m['cores']} cores, {m['capability']} kernels)"
                     for m in cpus)


def box_html(lang: str, slug: str, document: dict | None = None) -> str:
    """The requirements box of a lesson page, or ``""`` when the lesson is not measured."""
    document = load() if document is None else document
    row = document["lessons"].get(slug)
    if row is None:
        return ""
    text = TEXT[lang]
    machines = row.get("measured_on", document["measured_on"])
    cores = min((m["cores"] for m in machines if m["device"] == "cpu"), default=2)
    items = [text["download"].format(_gb(row["download_bytes"])),
             text["ram"].format(_gb(row["peak_rss_bytes"])),
             text["time"].format(_minutes(row["seconds"]), cores)]
    if row["peak_gpu_bytes"]:
        items.append(text["gpu_peak"].format(_gb(row["peak_gpu_bytes"])))
    items.append(text["gpu_optional"].format(_gb(row["gpu_only_download_bytes"]))
                 if row["gpu"] == "optional" else text["gpu_no"])
    entries = "".join(f"<li>{item}</li>" for item in items)
    return (f'<div class="admonition note explainlab-requirements" data-explainlab-slug="{slug}">'
            f'<p class="admonition-title">{text["title"]}</p><ul>{entries}</ul>'
            f'<p>{text["source"].format(_machine(machines))}</p></div>\n')


def short(lang: str, slug: str, document: dict | None = None) -> str:
    """One line for the README's table, or ``"-"`` when the lesson is not measured."""
    document = load() if document is None else document
    row = document["lessons"].get(slug)
    if row is None:
        return "-"
    return TEXT[lang]["short"].format(_gb(row["download_bytes"]), _gb(row["peak_rss_bytes"]),
                                      _minutes(row["seconds"]))


def write(reports: Sequence[Path], out: Path = PATH, *, update: bool = False) -> Path:
    """``lessons/requirements.json`` (or ``out``) from report files; with ``update``, only
    the lessons the reports measured change (``updated``)."""
    documents = [json.loads(Path(p).read_text(encoding="utf-8")) for p in reports]
    document = from_reports(documents, PATH.parent)
    if update:
        document = updated(load(out), document)
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out
