"""Run real PyTorch programs unchanged on minigrad and on PyTorch; tabulate the results.

    python -m minigrad_benchmarks.programs.run --prepare          # get the programs
    python -m minigrad_benchmarks.programs.run --all              # run all, both backends
    python -m minigrad_benchmarks.programs.run mnist vae          # run some
    python -m minigrad_benchmarks.programs.run --table            # write docs/programs.md

``--prepare`` copies each program's folder out of a git copy of its public repository into
the git-ignored ``benchmarks/programs/_fetched/src/`` (nothing of theirs is committed here).
A repository ``owner/name`` is looked up as ``$MINIGRAD_PROGRAMS_MIRROR/owner+name/repo``
(a bare git directory) or ``$MINIGRAD_PROGRAMS_MIRROR/owner+name`` (a clone); the default
mirror folder is ``/work/.mirror``. torchvision's ``models/resnet.py`` (for
siamese_network's resnet18) is taken from the torchvision wheel with ``pip download``.

Each run copies the program's folder to ``_fetched/runs/<program>/<backend>/``, runs its
steps there through ``alias_torch`` in a fresh interpreter (``torch`` -> minigrad, or the real
PyTorch), times them, reads the program's own metric from its output, and on a failure keeps
the last line of the traceback and the program's frame that raised it (the first blocker).
Results go to ``benchmarks/results/programs/<program>.json``; ``--table`` renders them.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
FETCHED = HERE / "_fetched"
RESULTS = REPO_ROOT / "benchmarks" / "results" / "programs"
DOC = REPO_ROOT / "docs" / "programs.md"
TORCHVISION_WHEEL = "torchvision==0.28.0"   # the release paired with torch 2.13
# Both backends run with one thread per pool unless these are set: on a shared 2-core
# machine PyTorch's two OpenMP threads ran its mnist step ~4x slower than one thread.
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "NUMBA_NUM_THREADS")


@dataclass
class Step:
    script: str                      # path in the run folder, or "-m module"
    args: list[str] = field(default_factory=list)
    stop_after: str | None = None    # regex: end the step (successfully) at this output line
    pythonpath: str | None = None    # folder (relative to the run folder) put on PYTHONPATH


@dataclass
class Program:
    name: str
    repo: str
    folder: str                      # the repository folder the program lives in
    steps: list[Step]
    metric: str                      # regex on the output; its last match is the metric
    metric_fmt: str                  # how to show the groups, e.g. "acc {0}/{1}"
    exercises: str
    setting: str                     # the short setting, as the table shows it
    note: str = ""
    data: str | None = None          # a data stand-in to lay into the run folder
    timeout: int = 420
    env: dict = field(default_factory=dict)   # extra environment for both backends


EX = "pytorch/examples"
PROGRAMS = [
    Program("mnist", EX, "mnist",
            [Step("main.py", ["--epochs", "1", "--log-interval", "200"])],
            r"Test set: Average loss: ([\d.]+), Accuracy: (\d+)/(\d+)",
            "test acc {1}/{2}, loss {0}",
            "Conv2d, Dropout, max_pool2d, log_softmax, nll_loss, Adadelta, StepLR, DataLoader",
            "1 epoch"),
    Program("mnist_forward_forward", EX, "mnist_forward_forward",
            [Step("main.py", ["--epochs", "20", "--train_size", "10000"])],
            r"test error: ([\d.]+)", "test error {0}",
            "forward-forward training of Linear layers, Adam, Lambda transform, full-batch loader",
            "20 epochs/layer, 10k train"),
    Program("mnist_rnn", EX, "mnist_rnn",
            [Step("main.py", ["--epochs", "1", "--log-interval", "200"])],
            r"Test set: Average loss: ([\d.]+), Accuracy: (\d+)/(\d+)",
            "test acc {1}/{2}, loss {0}",
            "LSTM over image rows, Adadelta, StepLR", "1 epoch"),
    Program("regression", EX, "regression", [Step("main.py")],
            r"Loss: ([\d.]+) after (\d+) batches", "loss {0} after {1} batches",
            "Linear, smooth_l1_loss, manual SGD on p.data / p.grad", "to convergence"),
    Program("time_sequence_prediction", EX, "time_sequence_prediction",
            [Step("generate_sine_wave.py"), Step("train.py", ["--steps", "2"])],
            r"test loss: ([\d.eE+-]+)", "test loss {0}",
            "LSTMCell, float64, LBFGS with closure, torch.save/load of an array", "2 LBFGS steps",
            env={"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"},
            note="unchanged, this program fails on PyTorch >= 2.6 (`torch.load` of a numpy "
                 "array is refused by the new `weights_only=True` default); both runs set "
                 "PyTorch's switch TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1"),
    Program("vae", EX, "vae",
            [Step("main.py", ["--epochs", "1", "--log-interval", "100"])],
            r"Test set loss: ([\d.]+)", "test loss {0}",
            "VAE: Linear, reparameterisation (randn_like), binary_cross_entropy, save_image",
            "1 epoch"),
    Program("siamese_network", EX, "siamese_network",
            [Step("main.py", ["--epochs", "1", "--dry-run"])],
            r"Test set: Average loss: ([\d.]+), Accuracy: (\d+)/(\d+)",
            "test acc {1}/{2}, loss {0}",
            "torchvision resnet18 (its own resnet.py), BatchNorm, BCELoss, Adadelta, module apply",
            "--dry-run (1 batch)"),
    Program("word_language_model_lstm", EX, "word_language_model",
            [Step("main.py", ["--model", "LSTM", "--epochs", "1", "--dry-run"]),
             Step("generate.py", ["--words", "50"])],
            r"End of training \| test loss\s+([\d.]+) \| test ppl\s+([\d.]+)",
            "test ppl {1}", "Embedding, LSTM, clip_grad_norm_, manual SGD, save/load whole "
            "model, generate.py: multinomial sampling", "--dry-run (1 batch), 50 words"),
    Program("word_language_model_lstm_epoch", EX, "word_language_model",
            [Step("main.py", ["--model", "LSTM", "--epochs", "1"])],
            r"End of training \| test loss\s+([\d.]+) \| test ppl\s+([\d.]+)",
            "test ppl {1}", "the LSTM language model trained for a whole epoch",
            "1 epoch (310 batches)", timeout=600),
    Program("word_language_model_gru", EX, "word_language_model",
            [Step("main.py", ["--model", "GRU", "--epochs", "1", "--dry-run"]),
             Step("generate.py", ["--words", "50"])],
            r"End of training \| test loss\s+([\d.]+) \| test ppl\s+([\d.]+)",
            "test ppl {1}", "GRU language model, generate.py", "--dry-run (1 batch), 50 words"),
    Program("word_language_model_transformer", EX, "word_language_model",
            [Step("main.py", ["--model", "Transformer", "--epochs", "1", "--dry-run"]),
             Step("generate.py", ["--words", "50"])],
            r"End of training \| test loss\s+([\d.]+) \| test ppl\s+([\d.]+)",
            "test ppl {1}", "nn.TransformerEncoder, MultiheadAttention, PositionalEncoding",
            "--dry-run (1 batch), 50 words"),
    Program("dcgan", EX, "dcgan",
            [Step("main.py", ["--dataset", "fake", "--niter", "1", "--manualSeed", "1",
                              "--ngf", "16", "--ndf", "16"])],
            r"Loss_D: ([\d.]+) Loss_G: ([\d.]+)", "Loss_D {0}, Loss_G {1}",
            "ConvTranspose2d, BatchNorm2d, BCELoss, two Adam optimizers, weights_init on .data",
            "FakeData, 1 epoch of 16 batches, ngf=ndf=16"),
    Program("gat", EX, "gat",
            [Step("main.py", ["--epochs", "5", "--val-every", "5"])],
            r"Test set results: loss ([\d.]+) accuracy ([\d.]+)", "test acc {1}, loss {0}",
            "graph attention: sparse @ dense, LeakyReLU, masked softmax, Adam weight decay",
            "5 epochs", data="cora_synthetic",
            note="Cora needs a network download (no registry ships it): run on a synthetic "
                 "graph in Cora's file format (2708 nodes, 1433 features, 7 classes)"),
    Program("reinforce", EX, "reinforcement_learning",
            [Step("reinforce.py", [], stop_after=r"^Episode 50\t")],
            r"Episode (\d+)\tLast reward: ([\d.]+)\tAverage reward: ([\d.]+)",
            "avg reward {2} at episode {0}",
            "policy gradient on gymnasium CartPole, distributions.Categorical",
            "first 50 episodes"),
    Program("mingpt_adder", "karpathy/minGPT", ".",
            [Step("projects/adder/adder.py", ["--trainer.max_iters=501"], pythonpath=".")],
            r"test final score: (\d+)/(\d+) = ([\d.]+)% correct", "test {0}/{1} correct",
            "GPT (minGPT): causal self-attention, AdamW param groups, generate, Trainer",
            "501 iterations"),
    Program("micrograd_test_engine", "karpathy/micrograd", ".",
            [Step("-m pytest", ["-q", "-p", "no:cacheprovider", "test/test_engine.py"],
                  pythonpath=".")],
            r"(\d+) passed", "{0} tests passed",
            "micrograd's tests use torch as the oracle: scalar ops, relu, pow, backward",
            "its 2 tests"),
]
BY_NAME = {p.name: p for p in PROGRAMS}


# ---------------------------------------------------------------------------- fetching
def _git_dir(repo: str) -> Path:
    root = Path(os.environ.get("MINIGRAD_PROGRAMS_MIRROR", "/work/.mirror"))
    base = root / repo.replace("/", "+")
    for cand in (base / "repo", base / ".git", base):
        if (cand / "HEAD").is_file():
            return cand
    raise SystemExit(f"no git copy of {repo} under {root}: clone it to {base} "
                     f"(or set $MINIGRAD_PROGRAMS_MIRROR)")


def _src(prog: Program) -> Path:
    return FETCHED / "src" / prog.repo.replace("/", "+") / prog.folder


def prepare() -> None:
    """Copy every program's folder out of its repository, plus torchvision's resnet.py."""
    for repo in sorted({p.repo for p in PROGRAMS}):
        folders = sorted({p.folder for p in PROGRAMS if p.repo == repo})
        dest = FETCHED / "src" / repo.replace("/", "+")
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        git_dir = _git_dir(repo)
        paths = [] if folders == ["."] else folders
        commit = subprocess.run(["git", f"--git-dir={git_dir}", "rev-parse", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        listing = subprocess.run(["git", f"--git-dir={git_dir}", "ls-tree", "-r", "-z",
                                  "HEAD", "--", *paths],
                                 capture_output=True, check=True).stdout.decode()
        for entry in filter(None, listing.split("\0")):
            meta, path = entry.split("\t", 1)
            mode, kind, obj = meta.split()
            if kind != "blob" or mode == "120000":
                continue
            blob = subprocess.run(["git", f"--git-dir={git_dir}", "cat-file", "blob", obj],
                                  capture_output=True)
            if blob.returncode != 0:      # a snapshot may lack its largest files
                print(f"  {repo}: {path} is absent from this copy")
                continue
            target = dest / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.stdout)
        (dest / "COMMIT").write_text(commit + "\n")
        print(f"{repo} @ {commit[:10]}: {', '.join(folders)} -> {dest}")
    _fix_wikitext()
    _fetch_resnet()


def _fix_wikitext() -> None:
    """The stored snapshot of pytorch/examples lacks wikitext-2/train.txt (its largest
    file); stand in valid.txt for it, and say so in the results."""
    d = FETCHED / "src" / "pytorch+examples" / "word_language_model" / "data" / "wikitext-2"
    if d.is_dir() and not (d / "train.txt").is_file():
        shutil.copy(d / "valid.txt", d / "train.txt")
        (d / "TRAIN_IS_VALID").write_text("train.txt is a copy of valid.txt\n")
        print("wikitext-2: train.txt absent from the snapshot; using valid.txt as train.txt")


def _fetch_resnet() -> None:
    dest = FETCHED / "torchvision" / "models" / "resnet.py"
    if dest.is_file():
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        TORCHVISION_WHEEL, "-d", tmp], check=True)
        wheel = next(Path(tmp).glob("torchvision-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            source = zf.read("torchvision/models/resnet.py")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(source)
    print(f"torchvision/models/resnet.py from {wheel.name} -> {dest}")


def _synthetic_cora(folder: Path, seed: int = 0) -> None:
    """A random graph in Cora's file format (cora.content, cora.cites): 2708 papers with
    1433 binary word features and 7 classes whose features depend on the class, 5429
    citations mostly within a class. Not Cora; a stand-in with its shape."""
    rng = np.random.RandomState(seed)
    n, f, k, e = 2708, 1433, 7, 5429
    labels = rng.randint(0, k, n)
    centers = rng.rand(k, f) < 0.02
    feats = (rng.rand(n, f) < 0.005) | (centers[labels] & (rng.rand(n, f) < 0.5))
    ids = rng.choice(10**6, n, replace=False)
    names = [f"Class_{c}" for c in range(k)]
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "cora.content", "w") as fh:
        for i in range(n):
            fh.write(f"{ids[i]}\t" + "\t".join(map(str, feats[i].astype(int)))
                     + f"\t{names[labels[i]]}\n")
    with open(folder / "cora.cites", "w") as fh:
        for _ in range(e):
            a = rng.randint(n)
            same = np.flatnonzero(labels == labels[a])
            b = rng.choice(same) if rng.rand() < 0.8 else rng.randint(n)
            fh.write(f"{ids[a]}\t{ids[b]}\n")


# ---------------------------------------------------------------------------- static scan
def _program_files(prog: Program) -> list[Path]:
    src = _src(prog)
    if prog.repo == "karpathy/minGPT":
        return sorted((src / "mingpt").glob("*.py")) + [src / "projects/adder/adder.py"]
    if prog.repo == "karpathy/micrograd":
        return [src / "test" / "test_engine.py"]
    return sorted(src.glob("*.py"))


def missing_names(prog: Program) -> list[str]:
    """``torch.*`` names the program's source uses that minigrad lacks, by a static scan:
    every import from ``torch`` and every attribute chain on a name bound to a torch
    module (``torch.x``, ``nn.X``, ``F.x``, ``optim.X`` ...) is resolved in minigrad.
    Tensor methods are not seen (their receivers' types are unknown statically)."""
    import ast
    import importlib

    def resolve(dotted: str) -> bool:
        parts = dotted.split(".")
        obj = importlib.import_module("minigrad")
        for i, part in enumerate(parts[1:], 1):
            if hasattr(obj, part):
                obj = getattr(obj, part)
                continue
            try:
                obj = importlib.import_module("minigrad." + ".".join(parts[1:i + 1]))
            except ImportError:
                return False
        return True

    missing = set()
    for path in _program_files(prog):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {}                 # local name -> dotted torch module path
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name == "torch" or a.name.startswith("torch."):
                        if a.asname:
                            modules[a.asname] = a.name
                        else:
                            modules["torch"] = "torch"
                        if not resolve(a.name):
                            missing.add(a.name)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and (
                    node.module == "torch" or node.module.startswith("torch.")):
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    if not resolve(full):
                        missing.add(full)
                    else:
                        modules[a.asname or a.name] = full
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                chain, cur = [], node
                while isinstance(cur, ast.Attribute):
                    chain.append(cur.attr)
                    cur = cur.value
                if isinstance(cur, ast.Name) and cur.id in modules:
                    dotted = ".".join([modules[cur.id], *reversed(chain)])
                    if not resolve(dotted):
                        # report the shortest unresolved prefix
                        parts = dotted.split(".")
                        for k in range(2, len(parts) + 1):
                            if not resolve(".".join(parts[:k])):
                                missing.add(".".join(parts[:k]))
                                break
    return sorted(missing)


# ---------------------------------------------------------------------------- running
_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+), in (\S+)')


def _first_blocker(stderr: str, run_dir: Path) -> str:
    """The exception line and the innermost frame of the program's own code that raised."""
    lines = re.sub(r"\x1b\[[0-9;]*m", "", stderr).rstrip().splitlines()
    tb_start = max((i for i, l in enumerate(lines) if l.startswith("Traceback")), default=None)
    if tb_start is None:
        return lines[-1][:300] if lines else ""
    tb = lines[tb_start:]
    frames = [i for i, l in enumerate(tb) if _FRAME.match(l)]
    # the exception starts after the last frame's line (and its source line, if shown)
    i = frames[-1] + 1 if frames else 1
    while i < len(tb) and (tb[i].startswith("    ") or not tb[i].strip()
                           or set(tb[i].strip()) <= set("^~ ")):
        i += 1
    exc = tb[i] if i < len(tb) else tb[-1]
    where = ""
    for i, line in enumerate(tb):
        m = _FRAME.match(line)
        # the innermost frame of the program's code (or of torchvision's resnet.py)
        if m and str(FETCHED) in m.group(1):
            src = tb[i + 1].strip() if i + 1 < len(tb) and not _FRAME.match(tb[i + 1]) else ""
            path = Path(m.group(1))
            path = path.relative_to(run_dir if run_dir in path.parents else FETCHED)
            where = f"{path}:{m.group(2)} `{src}`"
    return f"{exc.strip()[:300]}" + (f" at {where}" if where else "")


def _run_step(step: Step, run_dir: Path, backend: str, timeout: float, extra_env=None):
    cmd = [sys.executable, "-m", "minigrad_benchmarks.programs.alias_torch",
           "--backend", backend]
    cmd += ["-m", step.script[3:]] if step.script.startswith("-m ") else [step.script]
    cmd += step.args
    env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg", **(extra_env or {}))
    for var in THREAD_VARS:      # one thread for both backends (see THREAD_VARS)
        env.setdefault(var, "1")
    if step.pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(run_dir / step.pythonpath), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    t0 = time.perf_counter()
    out_path, err_path = run_dir / "_stdout.txt", run_dir / "_stderr.txt"
    with open(out_path, "a") as out, open(err_path, "w") as err:
        proc = subprocess.Popen(cmd, cwd=run_dir, env=env, stdout=subprocess.PIPE,
                                stderr=err, text=True, start_new_session=True)
        stopped, timed_out = False, False
        deadline = t0 + timeout
        stop_re = re.compile(step.stop_after, re.M) if step.stop_after else None
        captured = []
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        while True:
            if time.perf_counter() > deadline:
                timed_out = True
                break
            if not sel.select(timeout=1.0):
                if proc.poll() is not None:
                    break
                continue
            line = proc.stdout.readline()
            if not line:
                break
            captured.append(line)
            out.write(line)
            if stop_re and stop_re.search(line):
                stopped = True
                break
        if stopped or timed_out:
            os.killpg(proc.pid, 9)
        proc.wait()
    seconds = time.perf_counter() - t0
    stdout, stderr = "".join(captured), err_path.read_text()
    ok = stopped or (proc.returncode == 0 and not timed_out)
    return ok, timed_out, seconds, stdout, stderr


def run_program(prog: Program, backend: str) -> dict:
    src = _src(prog)
    if not src.is_dir():
        raise SystemExit(f"{src} missing: run with --prepare first")
    run_dir = FETCHED / "runs" / prog.name / backend
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.copytree(src, run_dir)
    if prog.data == "cora_synthetic":
        _synthetic_cora(run_dir / "cora")
    result = {"backend": backend, "ok": True, "seconds": 0.0, "metric": None,
              "blocker": None, "steps": []}
    stdout_all = ""
    for step in prog.steps:
        ok, timed_out, secs, stdout, stderr = _run_step(
            step, run_dir, backend, prog.timeout - result["seconds"], prog.env)
        result["seconds"] += secs
        stdout_all += stdout
        result["steps"].append({"script": step.script, "args": step.args, "ok": ok,
                                "seconds": round(secs, 2)})
        if not ok:
            result["ok"] = False
            result["blocker"] = (f"timed out after {prog.timeout} s" if timed_out
                                 else _first_blocker(stderr, run_dir))
            result["failed_step"] = step.script
            break
    matches = re.findall(prog.metric, stdout_all)
    if matches:
        groups = matches[-1] if isinstance(matches[-1], tuple) else (matches[-1],)
        result["metric"] = prog.metric_fmt.format(*groups)
    result["seconds"] = round(result["seconds"], 2)
    return result


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def run(names: list[str], backends: list[str]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in names:
        prog = BY_NAME[name]
        path = RESULTS / f"{name}.json"
        record = json.loads(path.read_text()) if path.is_file() else {}
        record.update(program=name, repo=prog.repo, folder=prog.folder,
                      exercises=prog.exercises, setting=prog.setting, note=prog.note)
        commit_file = FETCHED / "src" / prog.repo.replace("/", "+") / "COMMIT"
        if commit_file.is_file():
            record["commit"] = commit_file.read_text().strip()
        if prog.folder == "word_language_model" and (_src(prog) / "data" / "wikitext-2" /
                                                     "TRAIN_IS_VALID").is_file():
            record["note"] = ("wikitext-2 train.txt is absent from the stored snapshot: "
                              "valid.txt stands in for it")
        record["torch_version"] = _version("torch")
        record["minigrad_commit"] = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True).stdout.strip() or None
        record["missing_static"] = missing_names(prog)
        for backend in backends:
            print(f"--- {name} [{backend}] ...", flush=True)
            res = run_program(prog, backend)
            record[backend] = res
            status = "ok" if res["ok"] else f"FAILED: {res['blocker']}"
            print(f"    {res['seconds']:.1f} s, metric {res['metric']}; {status}", flush=True)
        path.write_text(json.dumps(record, indent=1) + "\n")


# ---------------------------------------------------------------------------- table
def _md(s) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _row(prog: Program, rec: dict) -> str:
    pt, mg = rec.get("torch", {}), rec.get("minigrad", {})
    if mg.get("ok") and pt.get("ok") and pt["seconds"]:
        ratio = f"{mg['seconds'] / pt['seconds']:.1f}x ({mg['seconds']:.0f} s / {pt['seconds']:.0f} s)"
    else:
        ratio = "–"
    if not mg:
        status = "not run"
    elif mg.get("ok"):
        status = "**runs**"
    else:
        later = (f" (after {', '.join(s['script'] for s in mg['steps'][:-1])} ran)"
                 if len(mg.get("steps", [])) > 1 else "")
        status = f"stops in {mg.get('failed_step')}{later}: {mg.get('blocker')}"
    torch_metric = (pt.get("metric") or "–") if pt.get("ok") else (
        f"fails: {pt.get('blocker')}" if pt else "not run")
    return (f"| {prog.name} ({prog.setting}) | {_md(prog.exercises)} | {_md(torch_metric)} | "
            f"{_md(mg.get('metric') or '–')} | {ratio} | {_md(status)} |")


def _records():
    for prog in PROGRAMS:
        path = RESULTS / f"{prog.name}.json"
        if path.is_file():
            yield prog, json.loads(path.read_text())


def table() -> str:
    header = ("| program (setting) | what it exercises | PyTorch's metric | minigrad's metric "
              "| time minigrad / PyTorch | status on minigrad (first blocker) |\n"
              "|---|---|---|---|---|---|")
    rows = [_row(prog, rec) for prog, rec in _records()]
    notes = [f"- **{prog.name}**: {rec['note']}" for prog, rec in _records() if rec.get("note")]
    text = header + "\n" + "\n".join(rows) + "\n"
    if notes:
        text += "\nNotes on data and settings:\n\n" + "\n".join(notes) + "\n"
    missing = [f"- {prog.name}: " + ", ".join(f"`{n}`" for n in rec["missing_static"])
               for prog, rec in _records() if rec.get("missing_static")]
    text += ("\n`torch.*` names the programs' source uses that minigrad lacks (a static scan "
             "of imports and attribute chains on torch modules; Tensor methods and "
             "behaviour are not covered, so a program can stop before or beyond these):\n\n"
             + ("\n".join(missing) if missing else "- none") + "\n")
    return text


def write_doc() -> None:
    recs = list(_records())
    runs = sum(1 for _, rec in recs if rec.get("minigrad", {}).get("ok"))
    versions = sorted({(str(rec.get("torch_version") or "?"), str(rec.get("minigrad_commit") or "?"))
                       for _, rec in recs})
    text = DOC_TEMPLATE.format(
        table=table(), runs=runs, total=len(recs),
        versions="; ".join(f"PyTorch {t}, minigrad at {c}" for t, c in versions))
    DOC.write_text(text)
    print(f"wrote {DOC}")


DOC_TEMPLATE = """# Real PyTorch programs on minigrad

<!-- generated by `python -m minigrad_benchmarks.programs.run --table` from
benchmarks/results/programs/*.json; edit benchmarks/programs/run.py, not this file -->

Public PyTorch programs (pytorch/examples, karpathy/minGPT, karpathy/micrograd), run
**unchanged** with `torch` resolving to minigrad, and the same files run with the real
PyTorch for comparison. `benchmarks/programs/alias_torch.py` installs a `sys.meta_path`
finder that maps every module name `torch[.x.y]` to `minigrad[.x.y]` (so `import torch.nn as
nn`, `from torch.utils.data import DataLoader` get minigrad's modules) and runs the file with
`runpy.run_path` and its arguments, as `python main.py ...` would.

Only torchvision is stood in for, by `benchmarks/programs/tv_shim/torchvision` (a labelled
shim, used by both runs alike): MNIST/FashionMNIST from `minigrad.datasets`, `FakeData`,
`ToTensor`/`Normalize`/`Compose`/`Lambda`, `save_image`; `models.resnet18` is
torchvision's own `resnet.py` (from its wheel) executed under the alias.

How to read the table:

- **Settings are short** (one epoch, `--dry-run` where a program has it: one training
  batch, then the full evaluation) so each program finishes within minutes on a shared
  2-core machine. The metric is the program's own printout, last occurrence.
- **Metrics agree within run-to-run noise, not digit for digit**: minigrad's random number
  generator is not PyTorch's bit stream, so weights, dropout masks, shuffling and sampling
  differ. After a dry run (one batch) a metric mostly reflects the random initialisation;
  `regression` also draws a different target polynomial; `mnist_forward_forward` needs
  hundreds of epochs, and after 20 both backends are still at the majority-class error.
- **Time** is the wall time of the whole run (interpreter start and imports, data,
  training, evaluation), both backends with one thread per pool
  (`OMP/MKL/OPENBLAS/NUMBA_NUM_THREADS=1`), one after the other on a machine shared with
  other work: ratios within ~2x of 1 are noise. PyTorch's import alone takes ~2–3 s.
  (A backend can be rerun alone, `--backend minigrad`: then the two columns come from
  different passes on the same machine.)
- **Status**: for a program that stops on minigrad, the first error and the program line
  that raised it: the next thing minigrad lacks. (Later calls can need more.)

**{runs} of {total} run to completion on minigrad** ({versions}).

{table}
## Reproduce

```bash
pip install -e .[test] gymnasium        # torch (the comparison), gymnasium (reinforce)
# a git copy of each repository (pytorch/examples, karpathy/minGPT, karpathy/micrograd)
# under $MINIGRAD_PROGRAMS_MIRROR/<owner>+<name>; nothing of theirs is committed here
python -m minigrad_benchmarks.programs.run --prepare    # -> benchmarks/programs/_fetched/
python -m minigrad_benchmarks.programs.run --all        # -> benchmarks/results/programs/*.json
python -m minigrad_benchmarks.programs.run --table      # -> docs/programs.md
python -m minigrad_benchmarks.programs.run mnist --backend minigrad   # one program
# or by hand, in a program's folder:
python -m minigrad_benchmarks.programs.alias_torch --backend minigrad main.py --epochs 1
```

`--prepare` copies the programs' folders into the git-ignored `benchmarks/programs/_fetched/`
(and torchvision's `resnet.py` out of its wheel via `pip download`); each run works in a fresh
copy under `_fetched/runs/<program>/<backend>/`, where its output (`_stdout.txt`,
`_stderr.txt`) stays. `tests/benchmarks/test_programs_alias.py` checks the alias itself.
"""


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("programs", nargs="*", help=f"any of: {', '.join(BY_NAME)}")
    parser.add_argument("--prepare", action="store_true", help="fetch the programs first")
    parser.add_argument("--all", action="store_true", help="run every program")
    parser.add_argument("--backend", choices=("both", "minigrad", "torch"), default="both")
    parser.add_argument("--scan", action="store_true",
                        help="only redo the static scan of missing names in the results")
    parser.add_argument("--table", action="store_true", help="write docs/programs.md")
    ns = parser.parse_args(argv)
    unknown = [n for n in ns.programs if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown program(s) {unknown}; known: {list(BY_NAME)}")
    if ns.prepare:
        prepare()
    names = list(BY_NAME) if ns.all else ns.programs
    backends = ["torch", "minigrad"] if ns.backend == "both" else [ns.backend]
    if ns.scan:
        for prog, rec in list(_records()):
            rec["missing_static"] = missing_names(prog)
            (RESULTS / f"{prog.name}.json").write_text(json.dumps(rec, indent=1) + "\n")
    elif names:
        run(names, backends)
    if ns.table:
        write_doc()


if __name__ == "__main__":
    main()
