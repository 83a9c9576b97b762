"""Run Keras 3's own unit-test cases against unafraid and print the per-module table.

By hand, like a benchmark (Keras's tests are not in this repository)::

    git clone https://github.com/keras-team/keras && git -C keras checkout 250b42181ce9  # 3.15.1
    UNAFRAID_KERAS_SOURCE=keras python -m tests.keras_cases.run [--details] [PATTERN ...]

Each Keras test file (``keras/src/losses/losses_test.py``, ...; PATTERNs filter them by substring)
is rewritten by ``tests/keras_cases/rewrite.py`` into a temporary folder outside the repository
and run by pytest in a fresh Python (time limit ``KERAS_CASES_LIMIT_S``, default 300 s a file).
A case is a test method; one with parameters passes when all its parameter sets pass. Kinds, worst
first: ``number`` (unafraid gave a different number from Keras's expected value), ``explained`` (a
different number or config listed in ``EXPLAINED`` with its reason: Keras fixed its own value after
3.15.1, a documented deliberate difference, or a check resting on one seed's random draws),
``error``, ``missing`` (a Keras name, argument or attribute unafraid lacks), ``own message``
(unafraid raises the exception Keras expects, in its own words), ``out of scope`` (quantization,
LoRA, bfloat16, dtype policies, float16 loss scaling, sparse or ragged tensors:
``OUT_OF_SCOPE``), ``passed``; ``n/a`` when Keras skips every parameter set on the JAX backend
or on a backend without sparse tensors. The % is passed / (cases - n/a - out of scope).
``--details`` lists every case that did not pass.
Exits 1 when any case gives a different number.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from tests.keras_cases.rewrite import rewrite

REPO = Path(__file__).resolve().parents[2]
KERAS_COMMIT = "250b42181ce9f37df68319d8f4753ec89a349a43"  # tag v3.15.1, the Keras installed for tests
LIMIT_S = float(os.environ.get("KERAS_CASES_LIMIT_S", "300"))
TEST_FILES = [
    "keras/src/losses/losses_test.py",
    "keras/src/metrics/*_test.py",
    "keras/src/optimizers/*_test.py",
    "keras/src/optimizers/schedules/*_test.py",
    "keras/src/activations/activations_test.py",
    "keras/src/layers/activations/*_test.py",
    "keras/src/layers/core/*_test.py",
    "keras/src/layers/merging/*_test.py",
    "keras/src/layers/normalization/*_test.py",
    "keras/src/layers/regularization/*_test.py",
    "keras/src/layers/reshaping/*_test.py",
    "keras/src/layers/pooling/*_test.py",
    "keras/src/layers/convolutional/*_test.py",
]
SEVERITY = {"number": 4, "explained": 3.5, "error": 3, "missing": 2, "own message": 1.7,
            "out of scope": 1.5, "passed": 1, "n/a": 0}
# Cases where unafraid gives a different number from Keras 3.15.1's expected value, each explained.
EXPLAINED = {
    "TverskyTest.test_correctness_custom_coefficients": "Keras 3.15.1 swaps alpha and beta; fixed "
    "upstream after 3.15.1 (keras-team/keras#23333, commit fa9afd5a26); unafraid follows the paper "
    "and the fix",
    "TverskyTest.test_binary_segmentation_custom_coefficients": "as above (keras#23333)",
    "TverskyTest.test_binary_segmentation_custom_coefficients_with_axis": "as above (keras#23333)",
    "R2ScoreTest.test_r2_tfa_comparison": "Keras 3.15.1's adjusted R2 counts n as y_true's size (rows x "
    "outputs); fixed upstream after 3.15.1 (keras-team/keras#23334, commit 02fea07fe5) to the number of "
    "samples with a nonzero weight, as unafraid does",
    "CosineSimilarityTest.test_config": "Keras 3.15.1's get_config drops axis (a round trip loses it); "
    "fixed upstream after 3.15.1 (keras-team/keras#23286, commit c1a707e270), as unafraid does",
    "HuberLossTest.test_config": "Keras 3.15.1's get_config drops delta; fixed upstream after 3.15.1 "
    "(keras#23286), as unafraid does",
    "MeanSquaredErrorTest.test_base_function_reduction": "unafraid refuses (N,) targets against (N, 1) "
    "predictions in a loss called by hand, on purpose (docs/models.md); Keras broadcasts to (N, N)",
    "OptimizerTest.test_ema_with_model_fit": "the test fits (1, 2) predictions to (1, 1) targets with "
    "MSE; unafraid refuses mismatched shapes on purpose (docs/models.md), Keras broadcasts them",
    "SensitivityAtSpecificityTest.test_handles_sas_metrics": "the test compiles with "
    "loss='crossentropy', which unafraid refuses on purpose as ambiguous (docs/reliability.md)",
    "SparseCategoricalCrossentropyTest.test_binary_segmentation_different_axis": "on its JAX "
    "backend Keras refuses a class axis other than the last (the test expects that error); unafraid "
    "computes it, with the values of the test's Torch branch (tests/test_keras_cases_metrics_losses.py)",
    "SparseCategoricalCrossentropyTest.test_multi_class_segmentation_different_axis": "as above (a "
    "class axis other than the last)",
    "LambdaTest.test_correctness": "Lambda's get_config refuses on purpose: its config would hold "
    "code, and no unafraid file holds code (docs/models.md)",
    "LambdaTest.test_correctness_lambda_shape": "as above (a Lambda's config holds code)",
    "LambdaTest.test_from_config_fails_closed_without_safe_mode_scope": "as above",
    "LambdaTest.test_lambda_basics": "as above",
    "MetricTest.test_stateless_update_state": "the stateless update and its result pass; the test's "
    "JAX branch then traces the metric under jax.jit, and unafraid computes in NumPy, which JAX "
    "cannot trace (the branch runs on the JAX backend only)",
    "WrapperTest.test_wrapper_basics": "the test deserializes a Layer class it defines without "
    "registering it or passing custom_objects: Keras imports the module the config names, and "
    "unafraid never imports code a config names (docs/models.md); given custom_objects it passes",
    "DropoutTest.test_dropout_rescaling": "a statistical check on one seed's draws (mean within 0.02 = "
    "2 sd): unafraid's seed 1337 gives 0.973; over 200 seeds the mean is 0.999, sd 0.0094, as expected",
}
# assertRaisesRegex: unafraid raised the exception Keras expects, with its own message
OWN_MESSAGE = re.compile(r'^AssertionError: ".*" does not match "', re.S)
# Keras features outside unafraid's scope (a CPU library for scientists): the case is counted apart.
OUT_OF_SCOPE = [
    ("quantiz", "weight quantization (int8/int4/float8)"), ("Quantiz", "weight quantization"),
    ("float8", "weight quantization"), ("int4", "weight quantization"), ("gptq", "weight quantization"),
    ("awq", "weight quantization"), ("lora", "LoRA adapters"), ("bfloat16", "bfloat16 (NumPy has none)"),
    ("dtype_polic", "mixed-precision dtype policies"), ("DTypePolicy", "mixed-precision dtype policies"),
    ("AutocastScope", "mixed-precision dtype policies"),
    ("mixed_float16", "mixed-precision dtype policies"),
    # e.g. FlattenTest passes input_sparse=True to run_layer_test for its dense parameter set too
    ("sparse or ragged tensors", "sparse or ragged tensors (unafraid has neither)"),
    ("LossScaleOptimizer", "loss scaling for float16 mixed-precision training"),
]


def test_files(root: Path, patterns: list[str]) -> list[Path]:
    files = [path for glob in TEST_FILES for path in sorted(root.glob(glob))]
    return [f for f in files if not patterns or any(p in str(f.relative_to(root)) for p in patterns)]


def run_file(root: Path, path: Path, tmp: Path) -> list[dict]:
    """Rewrite one Keras test file, run it, and return its items' records."""
    relative = path.relative_to(root)
    target = tmp / ("_".join(relative.parts[2:]))
    target.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
    out = tmp / (target.stem + ".jsonl")
    env = dict(os.environ, PYTHONPATH=str(REPO), UNAFRAID_KERAS_SOURCE=str(root),
               KERAS_CASES_OUT=str(out), KERAS_BACKEND=os.environ.get("KERAS_BACKEND", "jax"))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
               "tests.keras_cases.plugin", "-W", "ignore", "--rootdir", str(tmp), "-o", "addopts=",
               str(target)]
    try:
        subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, timeout=LIMIT_S)
    except subprocess.TimeoutExpired:
        return [{"file": str(relative), "method": "<file>", "kind": "error",
                 "detail": f"ran past {LIMIT_S:.0f} s"}]
    records = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    for record in records:
        record["file"] = str(relative)
    return records or [{"file": str(relative), "method": "<file>", "kind": "error", "detail": "no results"}]


def explain(record: dict) -> dict:
    """The record with its kind changed when the case is explained or out of scope."""
    if record["kind"] in ("number", "error") and record["method"] in EXPLAINED:
        return {**record, "kind": "explained", "detail": EXPLAINED[record["method"]]}
    if record["kind"] == "error" and OWN_MESSAGE.search(record["detail"]):
        return {**record, "kind": "own message"}
    if record["kind"] in ("missing", "error"):
        text = record["method"] + " " + record["detail"]
        for needle, why in OUT_OF_SCOPE:
            if needle in text:
                return {**record, "kind": "out of scope", "detail": why}
    return record


def by_method(records: list[dict]) -> dict[tuple[str, str], dict]:
    """One record per test method: the worst of its items (n/a only when all are n/a)."""
    methods: dict[tuple[str, str], dict] = {}
    for record in map(explain, records):
        key = (record["file"], record["method"])
        kept = methods.get(key)
        if kept is None or SEVERITY[record["kind"]] > SEVERITY[kept["kind"]]:
            methods[key] = record
    return methods


def module_of(file: str) -> str:
    parts = Path(file).parts
    return "/".join(parts[2:4]) if parts[2] == "layers" else "/".join(parts[2:-1]) + "/" + parts[-1]


def table(methods: dict[tuple[str, str], dict]) -> str:
    counts: dict[str, Counter] = defaultdict(Counter)
    for (file, _), record in methods.items():
        counts[module_of(file)][record["kind"]] += 1
    lines = ["| module | cases | n/a | out of scope | applicable | passed | % | own message | missing | "
             "error | explained difference | different number |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    total: Counter = Counter()
    for module in sorted(counts):
        total.update(counts[module])
        lines.append(_row(module, counts[module]))
    lines.append(_row("**all**", total))
    return "\n".join(lines)


def _row(name: str, c: Counter) -> str:
    cases = sum(c.values())
    applicable = cases - c["n/a"] - c["out of scope"]
    share = f"{100 * c['passed'] / applicable:.0f}" if applicable else "-"
    return (f"| {name} | {cases} | {c['n/a']} | {c['out of scope']} | {applicable} | {c['passed']} | "
            f"{share} | {c['own message']} | {c['missing']} | {c['error']} | {c['explained']} | "
            f"{c['number']} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("patterns", nargs="*")
    parser.add_argument("--details", action="store_true", help="list every case that did not pass")
    parser.add_argument("--json", help="also write every item's record to this file")
    args = parser.parse_args(argv)
    source = os.environ.get("UNAFRAID_KERAS_SOURCE")
    if not source or not (Path(source) / "keras" / "src").is_dir():
        print("Set UNAFRAID_KERAS_SOURCE to a Keras checkout (a folder holding keras/src), "
              f"at commit {KERAS_COMMIT} (v3.15.1).", file=sys.stderr)
        return 2
    root = Path(source).resolve()
    records: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="keras_cases_") as tmp:
        for path in test_files(root, args.patterns):
            print(f"running {path.relative_to(root)}", file=sys.stderr, flush=True)
            records += run_file(root, path, Path(tmp))
    methods = by_method(records)
    print(table(methods))
    if args.json:
        Path(args.json).write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    if args.details:
        missing = Counter(r["detail"].split(" (")[0] for r in methods.values() if r["kind"] == "missing")
        print("\nmissing features (cases):")
        for name, n in missing.most_common():
            print(f"  {n:4d}  {name}")
        for kind in ("number", "explained", "error", "own message", "out of scope", "n/a"):
            print(f"\n{kind}:")
            for (file, method), record in sorted(methods.items()):
                if record["kind"] == kind:
                    print(f"  {module_of(file)} {method}: {record['detail'][:300]}")
    return 1 if any(r["kind"] == "number" for r in methods.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
