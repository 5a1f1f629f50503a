"""NLU quality benchmark: our pipeline against an alternative of ours and Rasa's default config, on the same data.

For each configuration, in one run:
- a 5-fold cross-validation over data/nlu/ (`rasa test nlu --cross-validation`): intent accuracy and
  product-entity F1 on the held-out folds;
- an NLU model trained on all of data/nlu/, scored on tests/nlu_holdout.yml (sentences never used in
  training) as `make holdout` scores it (scripts/holdout_report.py): intent accuracy, and the F1 of the
  product values the bot ends up with (every extractor merged, after synonyms);
- parse latency of that model, in this process, over the held-out sentences (ms per message).

"xiangxin_80_epochs" is config.yml with the pipeline it had before (LexicalSyntacticFeaturizer, DIET with
two 256-wide transformer layers for 80 epochs): the side-by-side check that the lighter DIET of
config.yml loses nothing. "Rasa's default config" is what `rasa init` writes (language en, no pipeline:
Rasa fills in its default pipeline, WhitespaceTokenizer … DIETClassifier). On unsegmented Chinese it is the honest
baseline a team starting from `rasa init` would have.

The report is printed (via `python -m bench nlu_bench`) and written to bench/reports/nlu_bench.json
and bench/reports/nlu_bench.md. Training runs take most of the time: about 18 models, an hour or more
on two shared cores.

A cross-validation whose reports, or a trained model, newer than the training data and the configuration
is reused (as the knowledge benchmark reuses its generated database), with the training time measured
when it was trained; the JSON report says so ("reused", "train_reused").

Environment:
  NLU_BENCH_FOLDS           folds of the cross-validation (default 5)
  NLU_BENCH_CONFIGS         comma-separated subset of "xiangxin,xiangxin_80_epochs,rasa_default" (default all)
  NLU_BENCH_CROSS_VALIDATE  the configurations that get the cross-validation (default: all of them);
                            the others are trained on everything and scored on the held-out set only
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List, Optional

from bench._report import write_report
from scripts.holdout_report import held_out_scores

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = PROJECT_ROOT / "var" / "bench" / "nlu"
NLU_DATA = PROJECT_ROOT / "data" / "nlu"
HOLDOUT = PROJECT_ROOT / "tests" / "nlu_holdout.yml"
TARGETS = {"cv_intent_accuracy": 0.90, "holdout_intent_accuracy": 0.97, "holdout_product_f1": 0.98,
           "train_seconds": 180}

# What `rasa init` writes into config.yml, comments left out: Rasa fills the empty pipeline in.
RASA_INIT_CONFIG = "recipe: default.v1\nassistant_id: placeholder_default\nlanguage: en\npipeline:\npolicies:\n"
# What config.yml's pipeline had before issue 14's data: these components where the DIET now is.
PIPELINE_80_EPOCHS = [
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char", "min_ngram": 1, "max_ngram": 3},
    {"name": "DIETClassifier", "epochs": 80, "random_seed": 2024, "constrain_similarities": True},
]

logger = logging.getLogger(__name__)


def _rasa(*args: str, log: Path) -> None:
    """Run Rasa's CLI from the project root (the pipeline's paths are relative to it), as `make train` does.

    Through rasa_extensions.cli: our fixes of Rasa train the same weights faster (fast_training.py), for every
    configuration alike, so the accuracies compare as before and the training time is what `make train` takes.
    """
    command = [sys.executable, "-m", "rasa_extensions.cli", *args]
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", TQDM_DISABLE="1")
    with log.open("w", encoding="utf-8") as handle:
        result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                check=False)
    if result.returncode != 0:
        raise RuntimeError(f"rasa {' '.join(args[:2])} failed ({result.returncode}); see {log}:\n"
                           + log.read_text(encoding="utf-8")[-2000:])


def scores(report_dir: Path) -> Dict[str, Any]:
    """Intent accuracy and the product entity's F1 (best extractor, and each one) from `rasa test nlu` reports."""
    intents = json.loads((report_dir / "intent_report.json").read_text(encoding="utf-8"))
    product_f1: Dict[str, float] = {}
    for report in sorted(report_dir.glob("*_report.json")):
        extractor = report.stem.replace("_report", "")
        if extractor in ("intent", "response_selection"):
            continue
        product = json.loads(report.read_text(encoding="utf-8")).get("product")
        if isinstance(product, dict) and "f1-score" in product:
            product_f1[extractor] = round(product["f1-score"], 4)
    return {
        "intent_accuracy": round(intents["accuracy"], 4),
        "intent_macro_f1": round(intents["macro avg"]["f1-score"], 4),
        # The answer the bot acts on merges every extractor (regex lookups and DIET); the best one
        # is what a farmer sees, each one is listed too.
        "product_f1": max(product_f1.values()) if product_f1 else 0.0,
        "product_f1_by_extractor": product_f1,
    }


def _holdout_texts() -> List[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [example.get("text") for example in load_data(str(HOLDOUT)).intent_examples]


def parse_latency(model: Path, texts: List[str]) -> Dict[str, float]:
    """Milliseconds per parsed message (p50, p95), the model loaded in this process; 20 warm-up parses."""
    from rasa.core.agent import Agent

    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    cwd = os.getcwd()
    os.chdir(PROJECT_ROOT)  # the pipeline's jieba dictionary path is relative to the project
    try:
        agent = Agent.load(str(model))

        async def parse_all() -> List[float]:
            for text in texts[:20]:
                await agent.parse_message(text)
            samples = []
            for text in texts:
                started = time.perf_counter()
                await agent.parse_message(text)
                samples.append((time.perf_counter() - started) * 1000)
            return samples

        samples = sorted(asyncio.run(parse_all()))
    finally:
        os.chdir(cwd)
    return {"n": len(samples), "p50_ms": round(statistics.median(samples), 2),
            "p95_ms": round(samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))], 2)}


def _write_if_changed(path: Path, text: str) -> Path:
    """Write `text` unless the file holds it already: its age decides whether a cross-validation is reused."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def config_80_epochs() -> str:
    """config.yml (NLU part) with PIPELINE_80_EPOCHS in place of its featurizers and DIET."""
    import yaml

    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    replaced = {"LexicalSyntacticFeaturizer", "CountVectorsFeaturizer", "DIETClassifier"}
    pipeline = config["pipeline"]
    first = next(i for i, component in enumerate(pipeline) if component["name"] in replaced)
    kept = [component for component in pipeline if component["name"] not in replaced]
    config["pipeline"] = kept[:first] + PIPELINE_80_EPOCHS + kept[first:]
    config["assistant_id"] = "placeholder_80_epochs"
    config.pop("policies", None)
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False)


def _newest_input_mtime(config: Path) -> float:
    """When the training data or the configuration last changed."""
    return max(path.stat().st_mtime for path in [config, *NLU_DATA.rglob("*.yml")])


def cross_validate(work: Path, config: Path, folds: int) -> Dict[str, Any]:
    """A `folds`-fold cross-validation over data/nlu/, reusing reports newer than the data and config."""
    report, folds_file = work / "cv" / "intent_report.json", work / "cv.folds"
    up_to_date = report.exists() and report.stat().st_mtime > _newest_input_mtime(config)
    if up_to_date and folds_file.exists() and folds_file.read_text(encoding="utf-8").strip() == str(folds):
        return {"folds": folds, **scores(work / "cv"), "reused": True}
    started = time.perf_counter()
    _rasa("test", "nlu", "--nlu", str(NLU_DATA), "--config", str(config), "--cross-validation",
          "--folds", str(folds), "--out", str(work / "cv"), "--no-plot", log=work / "cv.log")
    (work / "cv.folds").write_text(str(folds), encoding="utf-8")
    return {"folds": folds, **scores(work / "cv"), "seconds": round(time.perf_counter() - started, 1)}


def evaluate(name: str, config: Path, folds: int, with_cross_validation: bool = True) -> Dict[str, Any]:
    """Cross-validate (if asked), train on everything, score the held-out set, time parsing: one configuration."""
    work = WORK_DIR / name
    work.mkdir(parents=True, exist_ok=True)
    result: Dict[str, Any] = {"config": str(config.relative_to(PROJECT_ROOT))}

    if with_cross_validation:
        result["cross_validation"] = cross_validate(work, config, folds)
        logger.info("%s cross-validation %s", name, result["cross_validation"])

    model, train_seconds = work / f"{name}.tar.gz", work / "train.seconds"
    if model.exists() and train_seconds.exists() and model.stat().st_mtime > _newest_input_mtime(config):
        result["train_seconds"], result["train_reused"] = float(train_seconds.read_text(encoding="utf-8")), True
    else:
        started = time.perf_counter()
        _rasa("train", "nlu", "--nlu", str(NLU_DATA), "--config", str(config), "--out", str(work),
              "--fixed-model-name", name, log=work / "train.log")
        result["train_seconds"] = round(time.perf_counter() - started, 1)
        train_seconds.write_text(str(result["train_seconds"]), encoding="utf-8")

    result["holdout"] = {key: value for key, value in asdict(held_out_scores(model, HOLDOUT)).items()
                         if not key.startswith("wrong_")}
    result["parse_latency"] = parse_latency(model, _holdout_texts())
    logger.info("%s holdout %s latency %s", name, result["holdout"], result["parse_latency"])
    return result


def _markdown(report: Dict[str, Any]) -> str:
    def cv(key: str):
        return lambda r: f"{r['cross_validation'][key]:.2%}" if "cross_validation" in r else "not run"

    rows = [
        (f"{report['folds']}-fold CV intent accuracy", cv("intent_accuracy")),
        (f"{report['folds']}-fold CV product F1", cv("product_f1")),
        ("held-out intent accuracy", lambda r: f"{r['holdout']['intent_accuracy']:.2%}"),
        ("held-out product F1 (after synonyms)", lambda r: f"{r['holdout']['product_f1']:.2%}"),
        ("parse latency p50 / p95", lambda r: f"{r['parse_latency']['p50_ms']} / {r['parse_latency']['p95_ms']} ms"),
        ("training time (NLU only)", lambda r: f"{r['train_seconds']} s"),
    ]
    names = list(report["configs"])
    lines = [
        "# NLU benchmark",
        "",
        f"Generated {report['generated_at']} by `{report['command']}` on {report['cpus']} shared cores; "
        f"{report['training_examples']} training examples in data/nlu/, {report['holdout_examples']} held-out "
        "sentences in tests/nlu_holdout.yml (never trained on).",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(report["configs"][name]) for name in names) + " |")
    lines += ["", f"Targets for xiangxin (config.yml): {report['folds']}-fold CV intent accuracy ≥ "
              f"{TARGETS['cv_intent_accuracy']:.0%}, held-out intent accuracy ≥ "
              f"{TARGETS['holdout_intent_accuracy']:.0%}, held-out product F1 ≥ {TARGETS['holdout_product_f1']:.0%}, "
              f"NLU training ≤ {TARGETS['train_seconds']} s. Met: {report['targets_met']}.", ""]
    return "\n".join(lines)


def main() -> Dict[str, Any]:
    """Run the NLU benchmark and write its report under bench/reports/."""
    from rasa.shared.nlu.training_data.loading import load_data

    folds = int(os.environ.get("NLU_BENCH_FOLDS", "5"))
    every_config = "xiangxin,xiangxin_80_epochs,rasa_default"
    wanted = [name.strip() for name in os.environ.get("NLU_BENCH_CONFIGS", every_config).split(",")]
    cross_validated = [name.strip() for name in os.environ.get("NLU_BENCH_CROSS_VALIDATE", ",".join(wanted)).split(",")]
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    configs = {"xiangxin": PROJECT_ROOT / "config.yml",
               "xiangxin_80_epochs": _write_if_changed(WORK_DIR / "config_80_epochs.yml", config_80_epochs()),
               "rasa_default": _write_if_changed(WORK_DIR / "rasa_init_config.yml", RASA_INIT_CONFIG)}

    report: Dict[str, Any] = {
        "generated_at": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "command": " ".join([*(f"{name}={os.environ[name]}" for name in sorted(os.environ)
                               if name.startswith("NLU_BENCH_")), "python -m bench nlu_bench"]),
        "cpus": os.cpu_count(),
        "training_examples": len(load_data(str(NLU_DATA)).intent_examples),
        "holdout_examples": len(_holdout_texts()),
        "folds": folds,
        "targets": TARGETS,
        "configs": {name: evaluate(name, configs[name], folds, name in cross_validated)
                    for name in wanted if name in configs},
    }
    ours: Optional[Dict[str, Any]] = report["configs"].get("xiangxin")
    report["targets_met"] = bool(ours) and "cross_validation" in ours and (
        ours["cross_validation"]["intent_accuracy"] >= TARGETS["cv_intent_accuracy"]
        and ours["holdout"]["intent_accuracy"] >= TARGETS["holdout_intent_accuracy"]
        and ours["holdout"]["product_f1"] >= TARGETS["holdout_product_f1"]
        and ours["train_seconds"] <= TARGETS["train_seconds"]
    )
    report["ok"] = report["targets_met"]
    write_report("nlu_bench", report, _markdown(report))
    return report


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    print(json.dumps(main(), ensure_ascii=False, indent=2))
