"""Our explainers vs transformers-interpret 0.10.0 vs a plain Captum loop (the explainers
part of `make bench`; a measurement, not a timed test).

Every explainer of ``explainlab.explain`` runs on its offline twin with the seed's input,
next to transformers-interpret (TI) and next to the Captum loop a user would write by hand
(one ``LayerIntegratedGradients`` call per explained label), all with the same ``n_steps``
and in float32. Each side runs in its own worker process, one at a time (the others wait
on a pipe), in rounds whose order rotates, so that a change of machine load hits all three
alike. Reported per explainer: the median seconds of a call (after one warm-up call), the
time ratios, where the time goes (model forward passes, ``torch.autograd.grad`` calls, the
rest), and the cosine similarity of the attributions per label (TI vs ours, Captum vs ours).
Where TI crashes on transformers 5, the table says so and the error is printed.

How TI is installed, and why it cannot touch the project's environment:
``pip install --no-deps --target build/bench/transformers-interpret-0.10.0`` puts TI's
pure-Python package in a folder of its own (TI pins ``ipython<8``; with ``--no-deps`` pip
installs nothing else and changes nothing in ``.venv``). Only the TI worker adds that folder
to its ``sys.path``, so TI runs on the very torch, transformers and Captum that our code
runs on (the same binaries: the timings compare code, not builds), and neither the
project's environment nor this process ever imports it. A second venv would need a second
copy of torch for nothing.

    .venv/bin/python benchmarks/explainers.py [--repeats 7] [--n-steps 50] [--threads N]

Targets (issue 5): no slower than TI on any explainer; multi-label at least 1.3x faster;
cosine >= 0.999 wherever TI runs. Writes test-output/bench-explainers.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TI_VERSION = "0.10.0"
TI_DIR = ROOT / "build" / "bench" / f"transformers-interpret-{TI_VERSION}"
JSON_PATH = ROOT / "test-output" / "bench-explainers.json"
SIDES = ("ours", "ti", "captum")
SIDE_NAMES = {"ours": "explainlab", "ti": f"transformers-interpret {TI_VERSION}",
              "captum": "plain Captum loop"}

# The seed's examples (seed 003), one per explainer, on the role's offline twin.
QA_CONTEXT = ("\nIn Artificial Intelligence and machine learning, Natural Language Processing "
              "relates to the usage of machines to process and understand human language.\n"
              "Many researchers currently work in this space.\n")
CASES: dict[str, dict] = {
    "sequence": {"role": "sst2", "text": "I love you, I like you"},
    "pairwise": {"role": "cross-encoder", "text1": "How many people live in Berlin?",
                 "text2": "Berlin has a population of 3,520,031 registered inhabitants in an "
                          "area of 891.82 square kilometers."},
    "multilabel": {"role": "emotion",
                   "text": "There were many aspects of the film I liked, but it was "
                           "frightening and gross in parts. My parents hated it."},
    "zero_shot": {"role": "nli", "labels": ["finance", "technology", "sports"],
                  "text": "Today apple released the new Macbook showing off a range of new "
                          "features found in the proprietary silicon chip computer. "},
    "question_answering": {"role": "qa", "question": "What is natural language processing ?",
                           "context": QA_CONTEXT},
    "token_classification": {"role": "ner", "ignored_labels": ["O"],
                             "text": "We visited Paris last weekend, where Emmanuel Macron "
                                     "lives."},
    "image": {"role": "vit", "shape": "circle", "colour": "red", "seed": 3},
}
AUTO_CLASSES = {"question_answering": "AutoModelForQuestionAnswering",
                "token_classification": "AutoModelForTokenClassification",
                "image": "AutoModelForImageClassification"}
TARGET_SPEEDUP = {"multilabel": 1.3}  # elsewhere: no slower than TI (ratio >= 1.0)


# ---- worker side ------------------------------------------------------------------------
class Meter:
    """Seconds spent in the model's forward passes and in ``torch.autograd.grad``."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.forward_s = self.backward_s = 0.0
        self.forward_calls = self.forward_rows = self.backward_calls = 0
        self._started = 0.0

    # CPU seconds of this process: with one torch thread, the work done, whatever the load
    # of the machine (wall-clock time on a shared machine also measures the neighbours).
    clock = staticmethod(time.process_time)

    def attach(self, model) -> None:
        model.register_forward_pre_hook(self._before, with_kwargs=True)
        model.register_forward_hook(self._after, with_kwargs=True)

    def _before(self, module, args, kwargs):
        first = args[0] if args else next((v for k, v in kwargs.items() if k in (
            "input_ids", "pixel_values", "inputs_embeds") and v is not None), None)
        self.forward_calls += 1
        self.forward_rows += int(first.shape[0]) if first is not None else 0
        self._started = self.clock()

    def _after(self, module, args, kwargs, output):
        self.forward_s += self.clock() - self._started

    def wrap_grad(self, torch) -> None:
        grad = torch.autograd.grad

        def timed(*args, **kwargs):
            started = self.clock()
            try:
                return grad(*args, **kwargs)
            finally:
                self.backward_s += self.clock() - started
                self.backward_calls += 1

        torch.autograd.grad = timed


def _same_api(api, case: str, spec: dict, model, processor, n_steps: int):
    """One call of ``case`` through transformers-interpret's API: ``api`` is
    ``explainlab.explain`` or ``transformers_interpret`` (the same classes and calls)."""
    import torch

    if case == "sequence":
        explainer = api.SequenceClassificationExplainer(model, processor)
        return lambda: {"predicted": explainer(spec["text"], n_steps=n_steps)}
    if case == "pairwise":
        explainer = api.PairwiseSequenceClassificationExplainer(model, processor)
        return lambda: {"predicted": explainer(spec["text1"], spec["text2"], n_steps=n_steps)}
    if case == "multilabel":
        explainer = api.MultiLabelClassificationExplainer(model, processor)
        return lambda: explainer(spec["text"], n_steps=n_steps)
    if case == "zero_shot":
        explainer = api.ZeroShotClassificationExplainer(model, processor)
        return lambda: explainer(spec["text"], labels=spec["labels"], n_steps=n_steps)
    if case == "question_answering":
        explainer = api.QuestionAnsweringExplainer(model, processor)
        return lambda: explainer(spec["question"], spec["context"], n_steps=n_steps)
    if case == "token_classification":
        explainer = api.TokenClassificationExplainer(model, processor)

        def run():
            result = explainer(spec["text"], ignored_labels=spec["ignored_labels"],
                               n_steps=n_steps)
            return {k: v["attribution_scores"] for k, v in result.items()}

        return run
    explainer = api.ImageClassificationExplainer(model, processor)

    def image():
        with torch.random.fork_rng():
            torch.manual_seed(0)  # the noise tunnel's samples: both draw them the same way
            return {"pixels": explainer(spec["image"], n_steps=n_steps)}

    return image


def _ours(case: str, spec: dict, model, processor, n_steps: int):
    import explainlab

    return _same_api(explainlab.explain, case, spec, model, processor, n_steps)


def _ti(case: str, spec: dict, model, processor, n_steps: int):
    import transformers_interpret

    return _same_api(transformers_interpret, case, spec, model, processor, n_steps)


def _captum(case: str, spec: dict, model, processor, n_steps: int):
    """The loop a user writes with Captum alone: one attribute() call per explained label,
    the baseline ``[CLS] + [PAD]*n + [SEP]``, attributions summed and scaled to unit norm."""
    import torch
    from captum.attr import IntegratedGradients, LayerIntegratedGradients, NoiseTunnel

    tokenizer = processor

    def baseline(ids):
        special = torch.tensor(tokenizer.get_special_tokens_mask(
            ids[0].tolist(), already_has_special_tokens=True), dtype=torch.bool)
        return torch.where(special, ids, torch.full_like(ids, tokenizer.pad_token_id))

    def tokens(ids):
        return [t.replace("Ġ", "") for t in tokenizer.convert_ids_to_tokens(ids[0].tolist())]

    def unit(values):  # the word-embedding layer's attributions, (1, tokens, hidden)
        values = values.detach().sum(-1)[0]
        return list(zip(tokens_now, (values / values.norm()).tolist(), strict=True))

    def clean(text):
        import re

        return re.sub(r"\s{2,}", " ", re.sub(r"([.,!?()])", r" \1 ", text))

    def lig_for(encoding, forward, layer=None, extra=()):
        names = [k for k in ("token_type_ids",) if k in encoding and k in extra]
        ids = encoding["input_ids"]
        lig = LayerIntegratedGradients(forward, layer or model.get_input_embeddings())
        inputs = (ids, *[encoding[n] for n in names])
        return lig, inputs, (baseline(ids), *[encoding[n] for n in names])

    tokens_now: list[str] = []
    if case in ("sequence", "pairwise", "multilabel"):
        sigmoid = case == "multilabel"

        def run():
            nonlocal tokens_now
            args = ((clean(spec["text"]),) if case != "pairwise"
                    else (spec["text1"], spec["text2"]))
            encoding = tokenizer(*args, return_tensors="pt")
            names = [n for n in ("token_type_ids",) if n in encoding]

            def forward(ids, *segments):
                out = model(input_ids=ids, **dict(zip(names, segments, strict=True))).logits
                return torch.sigmoid(out) if sigmoid or out.shape[-1] == 1 else out.softmax(-1)

            lig, inputs, bases = lig_for(encoding, forward, extra=names)
            tokens_now = tokens(encoding["input_ids"])
            with torch.no_grad():
                scores = forward(*inputs)[0]
            targets = range(len(scores)) if sigmoid else [int(scores.argmax())]
            out = {}
            for target in targets:
                attributions = lig.attribute(inputs, baselines=bases, target=target,
                                             n_steps=n_steps)
                key = model.config.id2label[target] if sigmoid else "predicted"
                out[key] = unit(attributions)
            return out

        return run
    if case == "zero_shot":
        entailment = model.config.label2id["entailment"]

        def run():
            nonlocal tokens_now
            out = {}
            text = clean(spec["text"])
            for label in spec["labels"]:
                encoding = tokenizer(text, f"this text is about {label} .", return_tensors="pt")

                def forward(ids):
                    return model(input_ids=ids).logits.softmax(-1)

                lig = LayerIntegratedGradients(forward, model.get_input_embeddings())
                ids = encoding["input_ids"]
                attributions = lig.attribute(ids, baselines=baseline(ids), target=entailment,
                                             n_steps=n_steps)
                tokens_now = tokens(ids)
                end = tokens_now.index(tokenizer.sep_token)
                values = attributions.detach().sum(-1)[0, :end]
                out[label] = list(zip(tokens_now[:end], (values / values.norm()).tolist(),
                                      strict=True))
            return out

        return run
    if case == "question_answering":
        def run():
            nonlocal tokens_now
            encoding = tokenizer(spec["question"], spec["context"], return_tensors="pt")
            ids, segments = encoding["input_ids"], encoding["token_type_ids"]
            positions = torch.arange(ids.shape[1]).unsqueeze(0)
            tokens_now = tokens(ids)
            out = {}
            for which in ("start", "end"):
                def forward(i, s, p, which=which):
                    logits = getattr(model(input_ids=i, token_type_ids=s, position_ids=p),
                                     f"{which}_logits")
                    return logits.max(-1).values

                lig = LayerIntegratedGradients(forward, model.base_model.embeddings)
                attributions = lig.attribute(
                    (ids, segments, positions), n_steps=n_steps,
                    baselines=(baseline(ids), torch.zeros_like(segments),
                               torch.zeros_like(positions)))
                out[which] = unit(attributions)
            return out

        return run
    if case == "token_classification":
        def run():
            nonlocal tokens_now
            encoding = tokenizer(clean(spec["text"]), return_tensors="pt")
            ids = encoding["input_ids"]
            tokens_now = tokens(ids)
            with torch.no_grad():
                labels = model(**encoding).logits[0].argmax(-1).tolist()
            out = {}
            for position, label in enumerate(labels):
                if model.config.id2label[label] in spec["ignored_labels"]:
                    continue

                def forward(i, s, position=position):
                    return model(input_ids=i, token_type_ids=s).logits.softmax(-1)[:, position]

                lig = LayerIntegratedGradients(forward, model.get_input_embeddings())
                attributions = lig.attribute((ids, encoding["token_type_ids"]),
                                             baselines=(baseline(ids),
                                                        encoding["token_type_ids"]),
                                             target=label, n_steps=n_steps)
                out[tokens_now[position]] = unit(attributions)
            return out

        return run

    def image():
        pixels = processor(images=spec["image"], return_tensors="pt")["pixel_values"]
        with torch.no_grad():
            target = int(model(pixel_values=pixels).logits.argmax())
        tunnel = NoiseTunnel(IntegratedGradients(lambda x: model(pixel_values=x).logits))
        with torch.random.fork_rng():
            torch.manual_seed(0)
            return {"pixels": tunnel.attribute(pixels, nt_samples=10, nt_type="smoothgrad",
                                               target=target, n_steps=5)}

    return image


def _as_json(result) -> dict:
    """``{target: {"tokens": [...], "values": [...]}}`` (images: ``values`` only)."""
    import numpy as np

    out = {}
    for key, value in result.items():
        if hasattr(value, "shape"):
            out[key] = {"tokens": None, "values": np.asarray(
                value.detach().cpu() if hasattr(value, "detach") else value).ravel().tolist()}
        else:
            out[key] = {"tokens": [t for t, _ in value], "values": [float(v) for _, v in value]}
    return out


def worker(side: str, ti_dir: str | None, threads: int) -> None:
    """Answer JSON commands on stdin, one line each, on stdout; logs go to stderr."""
    protocol = sys.stdout
    sys.stdout = sys.stderr  # whatever the libraries print stays off the protocol
    if side == "ti":
        sys.path.insert(0, ti_dir)
    import warnings

    import torch
    import transformers
    from PIL import Image

    warnings.simplefilter("ignore")  # TI's own warnings (tensor to float) would flood the log
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(threads)
    torch.set_grad_enabled(True)
    meter = Meter()
    meter.wrap_grad(torch)
    runners = {}
    build = {"ours": _ours, "ti": _ti, "captum": _captum}[side]
    for line in sys.stdin:
        command = json.loads(line)
        answer: dict = {"ok": True}
        try:
            if command["cmd"] == "load":
                case, spec = command["case"], dict(command["spec"])
                auto = getattr(transformers, AUTO_CLASSES.get(
                    case, "AutoModelForSequenceClassification"))
                model = auto.from_pretrained(command["path"]).eval()
                if case == "image":
                    processor = transformers.AutoImageProcessor.from_pretrained(command["path"])
                    spec["image"] = Image.open(command["image"]).convert("RGB")
                else:
                    processor = transformers.AutoTokenizer.from_pretrained(command["path"])
                meter.attach(model)
                try:
                    runners[case] = build(case, spec, model, processor, command["n_steps"])
                except Exception as error:  # constructing the explainer failed
                    runners[case] = _raiser(error)
            elif command["cmd"] == "run":
                meter.reset()
                started, cpu = time.perf_counter(), meter.clock()
                result = runners[command["case"]]()
                wall, seconds = time.perf_counter() - started, meter.clock() - cpu
                answer.update(seconds=seconds, wall_s=wall, forward_s=meter.forward_s,
                              backward_s=meter.backward_s, forward_calls=meter.forward_calls,
                              forward_rows=meter.forward_rows,
                              backward_calls=meter.backward_calls)
                if command.get("results"):
                    answer["result"] = _as_json(result)
            elif command["cmd"] == "versions":
                import captum

                answer["versions"] = {"torch": torch.__version__,
                                      "transformers": transformers.__version__,
                                      "captum": captum.__version__}
                if side == "ti":
                    from importlib.metadata import version

                    answer["versions"]["transformers-interpret"] = version(
                        "transformers-interpret")
                    import transformers_interpret

                    answer["versions"]["ti_file"] = transformers_interpret.__file__
        except Exception as error:
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}".strip(),
                      "traceback": traceback.format_exc(limit=-3)}
        protocol.write(json.dumps(answer) + "\n")
        protocol.flush()


def _raiser(error: Exception):
    def run():
        raise error

    return run


# ---- orchestrator -----------------------------------------------------------------------
class Worker:
    def __init__(self, side: str, *, threads: int, log: Path):
        command = [sys.executable, __file__, "--worker", side, "--threads", str(threads)]
        if side == "ti":
            command += ["--ti-dir", str(TI_DIR)]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HUB_OFFLINE="1", OMP_WAIT_POLICY="PASSIVE",
                   OMP_NUM_THREADS=str(threads),
                   TRANSFORMERS_VERBOSITY="error", TOKENIZERS_PARALLELISM="false")
        self.log = open(log, "w", encoding="utf-8")  # closed in close()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.log, text=True, env=env, cwd=ROOT)

    def ask(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"worker died; see {self.log.name}")
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.log.close()


def install_ti() -> None:
    """TI into build/bench (never into .venv): ``pip install --no-deps --target``."""
    if (TI_DIR / "transformers_interpret").is_dir():
        return
    TI_DIR.parent.mkdir(parents=True, exist_ok=True)
    print(f"Installing transformers-interpret=={TI_VERSION} (--no-deps) into {TI_DIR} ...")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-compile", "--target", str(TI_DIR),
                    f"transformers-interpret=={TI_VERSION}"], check=True)


def cosine(a: list[float], b: list[float]) -> float | None:
    import math

    if len(a) != len(b):
        return None
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else None


def agreement(ours: dict, other: dict) -> tuple[dict, list[str]]:
    """Cosine per target, and notes. Where one side shows fewer tokens (TI's zero-shot
    explainer drops the text's last token), the cosine is taken over the tokens both show:
    unit-norm scaling does not change a cosine. ``None`` where the tokens disagree."""
    out, notes = {}, []
    for key, mine in ours.items():
        theirs = other.get(key)
        if theirs is None:
            out[key] = None
            notes.append(f"{key}: missing")
            continue
        a, b = mine["values"], theirs["values"]
        if mine["tokens"] is not None and mine["tokens"] != theirs["tokens"]:
            n = min(len(mine["tokens"]), len(theirs["tokens"]))
            if mine["tokens"][:n] != theirs["tokens"][:n]:
                out[key] = None
                notes.append(f"{key}: different tokens")
                continue
            notes.append(f"{key}: {len(mine['tokens'])} tokens here, {len(theirs['tokens'])} "
                         f"there (compared on the first {n})")
            a, b = a[:n], b[:n]
        out[key] = cosine(a, b)
    return out, notes


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _fmt(value, spec=".3f", none="-") -> str:
    return none if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed calls per side (7)")
    parser.add_argument("--n-steps", type=int, default=50, help="integration steps (50)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads in every worker (default 1: CPU time then "
                             "measures the work, even on a busy machine)")
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--json", type=Path, default=JSON_PATH)
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--ti-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.ti_dir, args.threads)
        return 0

    from explainlab.images import make_image

    install_ti()
    logs = ROOT / "build" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    image_path = logs / "image.png"
    spec = CASES["image"]
    make_image(spec["shape"], spec["colour"], seed=spec["seed"]).save(image_path)
    load_before = load_average()
    print(f"load average before: {load_before}; {os.cpu_count()} CPUs; torch threads "
          f"{args.threads}; n_steps {args.n_steps}; {args.repeats} timed calls per side")
    workers = {side: Worker(side, threads=args.threads, log=logs / f"worker-{side}.log")
               for side in SIDES}
    report: dict = {"n_steps": args.n_steps, "repeats": args.repeats, "threads": args.threads,
                    "cpus": os.cpu_count(), "machine": platform.machine(),
                    "python": platform.python_version(), "load_before": load_before,
                    "sides": SIDE_NAMES, "explainers": {}}
    try:
        versions = {side: w.ask(cmd="versions").get("versions") for side, w in workers.items()}
        report["versions"] = versions
        ti_file = (versions.get("ti") or {}).get("ti_file", "")
        if not ti_file.startswith(str(TI_DIR)):
            raise RuntimeError(f"the TI worker imported transformers_interpret from {ti_file}")
        for case in args.cases:
            report["explainers"][case] = run_case(case, workers, args)
            show_case(case, report["explainers"][case])
    finally:
        for w in workers.values():
            w.close()
    report["load_after"] = load_average()
    summarise(report)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nWrote {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    return 0


def run_case(case: str, workers: dict[str, Worker], args) -> dict:
    import explainlab

    spec = {k: v for k, v in CASES[case].items() if k != "role"}
    path = explainlab.resolve(CASES[case]["role"], profile="offline")
    image = str(ROOT / "build" / "bench" / "image.png")
    entry: dict = {"role": CASES[case]["role"], "sides": {}}
    results = {}
    for side, w in workers.items():
        loaded = w.ask(cmd="load", case=case, spec=spec, path=path, image=image,
                       n_steps=args.n_steps)
        if not loaded["ok"]:
            raise RuntimeError(f"{side} could not load {case}: {loaded['error']}")
        first = w.ask(cmd="run", case=case, results=True)  # warm-up, and the attributions
        entry["sides"][side] = {"ok": first["ok"], "runs": []}
        if first["ok"]:
            results[side] = first["result"]
        else:
            entry["sides"][side].update(error=first["error"], traceback=first["traceback"])
    order = [s for s in SIDES if entry["sides"][s]["ok"]]
    for repeat in range(args.repeats):
        shift = repeat % len(order)
        for side in order[shift:] + order[:shift]:
            answer = workers[side].ask(cmd="run", case=case)
            if not answer["ok"]:
                raise RuntimeError(f"{side} failed on {case} after a good run: "
                                   f"{answer['error']}")
            entry["sides"][side]["runs"].append({k: v for k, v in answer.items() if k != "ok"})
    for side in order:
        runs = entry["sides"][side]["runs"]
        entry["sides"][side].update(
            median_s=statistics.median(r["seconds"] for r in runs),
            min_s=min(r["seconds"] for r in runs),
            wall_median_s=statistics.median(r["wall_s"] for r in runs),
            forward_s=statistics.median(r["forward_s"] for r in runs),
            backward_s=statistics.median(r["backward_s"] for r in runs),
            forward_calls=runs[0]["forward_calls"], forward_rows=runs[0]["forward_rows"],
            backward_calls=runs[0]["backward_calls"])
    ours = entry["sides"]["ours"]
    for side in ("ti", "captum"):
        other = entry["sides"][side]
        if other["ok"] and ours["ok"]:
            other["ratio_to_ours"] = other["median_s"] / ours["median_s"]
            other["wall_ratio_to_ours"] = other["wall_median_s"] / ours["wall_median_s"]
            other["cosine"], other["cosine_notes"] = agreement(results["ours"], results[side])
    if case == "zero_shot":  # TI lays the pair out by hand; how does the tokenizer?
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(path)
        entry["pair_layout"] = " ".join(
            tokenizer.convert_ids_to_tokens(tokenizer("A", "B")["input_ids"])).replace("Ġ", "")
    target = TARGET_SPEEDUP.get(case, 1.0)
    ti = entry["sides"]["ti"]
    entry["target_speedup_vs_ti"] = target
    entry["target_met"] = (ti["ratio_to_ours"] >= target) if ti["ok"] else None
    cosines = [c for c in (ti.get("cosine") or {}).values() if c is not None]
    entry["ti_cosine_min"] = min(cosines) if cosines else None
    return entry


def show_case(case: str, entry: dict) -> None:
    sides = entry["sides"]
    parts = []
    for side in SIDES:
        s = sides[side]
        parts.append(f"{side} {s['median_s'] * 1000:.0f} ms" if s["ok"] else f"{side} crashed")
    print(f"{case:21s} " + ", ".join(parts), flush=True)


def summarise(report: dict) -> None:
    rows = report["explainers"]
    print("\nCPU time per call (median of the timed calls, ms; one torch thread) and ratios "
          "(other / ours: > 1 means ours is faster; wall-clock ratio in brackets)")
    head = (f"{'explainer':21s} {'ours':>6s} {'TI':>6s} {'Captum':>6s} {'TI/ours':>13s} "
            f"{'Captum/ours':>13s} {'target':>6s} {'met':>4s}")
    print(head)
    print("-" * len(head))

    def ratio(side: dict) -> str:
        if not side["ok"]:
            return f"{'crash':>13s}"
        return f"{side['ratio_to_ours']:5.2f} ({side['wall_ratio_to_ours']:5.2f})"

    for case, e in rows.items():
        o, t, c = (e["sides"][s] for s in SIDES)
        ms = [f"{s['median_s'] * 1000:6.0f}" if s["ok"] else f"{'-':>6s}" for s in (o, t, c)]
        met = {True: "yes", False: "NO", None: "-"}[e["target_met"]]
        print(f"{case:21s} {' '.join(ms)} {ratio(t)} {ratio(c)} "
              f"{e['target_speedup_vs_ti']:5.1f}x {met:>4s}")
    print("\nWhere the time goes (median ms: model forward passes / torch.autograd.grad / rest;"
          " forward rows and backward calls per explanation)")
    head = f"{'explainer':21s} " + " ".join(f"{SIDE_NAMES[s][:24]:>34s}" for s in SIDES)
    print(head)
    print("-" * len(head))
    for case, e in rows.items():
        cells = []
        for side in SIDES:
            s = e["sides"][side]
            if not s["ok"]:
                cells.append(f"{'crashed':>34s}")
                continue
            rest = s["median_s"] - s["forward_s"] - s["backward_s"]
            cells.append(f"{s['forward_s'] * 1000:5.0f}/{s['backward_s'] * 1000:5.0f}/"
                         f"{rest * 1000:4.0f}  {s['forward_rows']:4d} rows {s['backward_calls']:3d}"
                         f" bwd".rjust(34))
        print(f"{case:21s} " + " ".join(cells))
    print("\nAttribution agreement with ours (cosine per label; '-' where the tokens differ)")
    for case, e in rows.items():
        for side in ("ti", "captum"):
            s = e["sides"][side]
            if not s["ok"]:
                continue
            values = ", ".join(f"{k}: {_fmt(v, '.6f')}" for k, v in s["cosine"].items())
            print(f"{case:21s} {side:7s} {values}")
            if s["cosine_notes"]:
                print(f"{'':29s} ({'; '.join(dict.fromkeys(s['cosine_notes']))})")
    crashed = [(case, side, e["sides"][side]) for case, e in rows.items()
               for side in ("ti", "captum") if not e["sides"][side]["ok"]]
    if crashed:
        print(f"\nCrashes on transformers {report['versions']['ti']['transformers']}:")
        for case, side, s in crashed:
            print(f"  {case} ({SIDE_NAMES[side]}): {s['error']}")
            where = [line for line in s["traceback"].splitlines() if line.startswith("  File")]
            if where:
                print(f"    at{where[-1].strip()[4:]}")
    layout = rows.get("zero_shot", {}).get("pair_layout")
    if layout and (rows["zero_shot"]["ti_cosine_min"] or 1) < 0.999:
        print(f"\nzero_shot: TI builds the (text, hypothesis) pair by hand as "
              f"'[CLS] A [SEP] B [SEP]'; this tokenizer (the model's own) lays it out as "
              f"'{layout}'. So TI's model reads other tokens than the tokenizer makes, and "
              f"its attributions differ from ours (and from Captum on the tokenizer's pair).")
    missed = [case for case, e in rows.items() if e["target_met"] is False]
    low = [case for case, e in rows.items()
           if e["ti_cosine_min"] is not None and e["ti_cosine_min"] < 0.999]
    print(f"\nload average after: {report['load_after']}")
    print("Speed targets: " + ("all met" if not missed else "MISSED on " + ", ".join(missed)))
    print("Cosine >= 0.999 where TI runs: " + ("yes" if not low else "NO on " + ", ".join(low)))


if __name__ == "__main__":
    sys.exit(main())
