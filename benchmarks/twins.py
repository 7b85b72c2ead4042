"""How long each offline twin takes to load, and to build (the twins part of `make bench`).

Load: ``from_pretrained`` of the twin's model class and of its tokenizer (or image
processor) from the cached folder, in this process after the libraries are imported; the
median of ``--repeats`` loads. Build: the seconds recorded in each twin's ``twin.json``
when it was built (``explainlab-course zoo list`` shows the same). Target (issue 3): each twin
loads within a second. The wall-clock time of a cold build of all twins is measured inside
a cold ``make site`` by ``benchmarks/site.py --twins cold``.

    .venv/bin/python benchmarks/twins.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import transformers

from explainlab_course import zoo

LOAD_TARGET_S = 1.0


def load_seconds(folder, model_class: str, repeats: int) -> float:
    """Median seconds to load the model and its tokenizer or image processor."""
    model_cls = getattr(transformers, model_class)
    pre = (transformers.AutoImageProcessor if "ImageClassification" in model_class
           else transformers.AutoTokenizer)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        model_cls.from_pretrained(folder)
        pre.from_pretrained(folder)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="loads per twin (3)")
    args = parser.parse_args(argv)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    rows = zoo.status()
    missing = [row["role"] for row in rows if row["status"] != "built"]
    if missing:
        sys.exit(f"Twins not built: {', '.join(missing)}. Run `make twins` first.")
    print(f"{'role':14s} {'size':>9s} {'build':>8s} {'load':>8s}  model class")
    slowest = 0.0
    for row in rows:
        seconds = load_seconds(row["path"], row["model_class"], args.repeats)
        slowest = max(slowest, seconds)
        print(f"{row['role']:14s} {row['size_bytes'] / 1e6:6.1f} MB {row['build_seconds']:6.1f} s "
              f"{seconds:6.2f} s  {row['model_class']}", flush=True)
    total = sum(row["build_seconds"] for row in rows)
    print(f"slowest load {slowest:.2f} s (target <= {LOAD_TARGET_S:.0f} s: "
          f"{'met' if slowest <= LOAD_TARGET_S else 'MISSED'}); build times add up to "
          f"{total:.1f} s (as recorded: builds made side by side overlap, so the wall clock "
          "is less; `benchmarks/site.py --twins cold` measures it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
