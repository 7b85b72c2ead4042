"""The explainers and Qwen3 at the real models' size (the scale part of `make bench`; a
measurement, not a timed test).

Each case runs in a fresh process on a full-size stand-in (``explainlab_course.scale``): the
model loads, then one explainer call with lesson 03's inputs is timed, and the process's peak
RSS (``ru_maxrss``, model included) is read. Every case runs twice: with the explainers'
memory bound (``internal_batch_size`` unset: the rows that fit in ``ACTIVATION_BUDGET``) and
in one pass (``internal_batch_size`` as large as the path, what the explainers did before
the bound). The ratios bounded / one pass are printed. Qwen3's lesson-02 saliency runs in
float32 (what the lesson loads on a CPU) and in its published bfloat16.

    .venv/bin/python benchmarks/scale.py [--cases image,qa,...]

Targets (issue 14): every case bounded <= 6 GB peak RSS; bounded time <= 1.1 x one pass.
Writes test-output/bench-scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JSON_PATH = ROOT / "test-output" / "bench-scale.json"
GOAL_RSS = 6e9
GOAL_TIME = 1.1
ONE_PASS = 100_000

ARTICLE = ("Today apple released the new Macbook showing off a range of new features found "
           "in the proprietary silicon chip computer. ")
QUESTION = "What is natural language processing ?"
CONTEXT = ("In Artificial Intelligence and machine learning, Natural Language Processing "
           "relates to the usage of machines to process and understand human language. "
           "Many researchers currently work in this space.")
CASES = {  # name -> (role, what the lesson or its exercise calls)
    "image": ("vit", "lesson 03: ImageClassificationExplainer, noise tunnel 10 x 5 steps"),
    "zero-shot": ("nli", "lesson 03: ZeroShotClassificationExplainer, 3 labels"),
    "qa": ("qa", "lesson 03: QuestionAnsweringExplainer, n_steps=50"),
    "qa-200": ("qa", "lesson 03, exercise 3: QuestionAnsweringExplainer, n_steps=200"),
    "qwen": ("lm", "lesson 02: Inseq saliency, 3 new tokens"),
}


def _explain(case: str, folder: str, batch: int | None) -> float:
    import transformers

    import explainlab

    if case == "image":
        model = transformers.AutoModelForImageClassification.from_pretrained(folder).eval()
        explainer = explainlab.explain.ImageClassificationExplainer(
            model, explainlab.images.image_processor(folder))
        started = time.perf_counter()
        explainer(explainlab.images.make_image("circle", "red", seed=3),
                  internal_batch_size=batch)
        return time.perf_counter() - started
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    if case == "zero-shot":
        model = transformers.AutoModelForSequenceClassification.from_pretrained(folder).eval()
        explainer = explainlab.explain.ZeroShotClassificationExplainer(model, tokenizer)
        started = time.perf_counter()
        explainer(ARTICLE, labels=["finance", "technology", "sports"],
                  hypothesis_template="this text is about {} .", internal_batch_size=batch)
        return time.perf_counter() - started
    model = transformers.AutoModelForQuestionAnswering.from_pretrained(folder).eval()
    explainer = explainlab.explain.QuestionAnsweringExplainer(model, tokenizer)
    started = time.perf_counter()
    explainer(QUESTION, CONTEXT, n_steps=200 if case == "qa-200" else 50,
              internal_batch_size=batch)
    return time.perf_counter() - started


def _qwen(folder: str, dtype: str) -> float:
    import inseq
    import torch
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        folder, dtype=getattr(torch, dtype), attn_implementation="eager")
    wrapped = inseq.load_model(model, "saliency", tokenizer=tokenizer)
    started = time.perf_counter()
    wrapped.attribute("The capital of France is", show_progress=False,
                      generation_args={"max_new_tokens": 3, "do_sample": False})
    return time.perf_counter() - started


def worker(case: str, mode: str, folder: str) -> dict:
    if case == "qwen":
        seconds = _qwen(folder, mode)
    else:
        seconds = _explain(case, folder, None if mode == "bounded" else ONE_PASS)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"seconds": seconds, "peak_rss": peak}


def run(case: str, mode: str, folder: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--worker", case, mode, str(folder)],
                          capture_output=True, text=True)
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0
    import torch

    from explainlab import constants
    from explainlab_course.scale import standins

    results = {"cpu": torch.backends.cpu.get_cpu_capability(),
               "kernels": {k: v for k, v in os.environ.items()
                           if k in ("ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS",
                                    "ONEDNN_MAX_CPU_ISA")}, "cases": {}}
    ok = True
    print(f"Full-size stand-ins, CPU kernels {results['cpu']}; peak RSS includes the model.")
    for case in args.cases.split(","):
        role, what = CASES[case]
        folder = standins.build(role, scale_home=constants.HOME / "scale", log=lambda _: None)
        modes = ("float32", "bfloat16") if case == "qwen" else ("bounded", "one-pass")
        rows = {mode: run(case, mode, folder) for mode in modes}
        results["cases"][case] = {"what": what, **rows}
        print(f"\n{case}: {what}")
        for mode, row in rows.items():
            if "error" in row:
                print(f"  {mode:9} failed: {row['error']}")
                ok = False
                continue
            print(f"  {mode:9} {row['seconds']:7.1f} s   peak RSS {row['peak_rss'] / 1e9:5.2f} GB")
        first, second = (rows[m] for m in modes)
        if "error" in first or "error" in second:
            continue
        time_ratio = first["seconds"] / second["seconds"]
        rss_ratio = first["peak_rss"] / second["peak_rss"]
        print(f"  {modes[0]} / {modes[1]}: time x{time_ratio:.2f}, peak RSS x{rss_ratio:.2f}")
        if case != "qwen":
            met = first["peak_rss"] <= GOAL_RSS and time_ratio <= GOAL_TIME
            ok &= met
            print(f"  targets (<= 6 GB, time <= x{GOAL_TIME}): {'met' if met else 'MISSED'}")
    JSON_PATH.parent.mkdir(parents=True, exist_ok=True)
    JSON_PATH.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
