"""Reproduce the seeds' experiments with each seed's own recipe, in minigrad and in PyTorch,
in the same script, from the same initial weights and the same batch order.

    python -m benchmarks.reproduce_seeds EXPERIMENT [--epochs N] [--iters N] [--threads 1]
    python -m benchmarks.reproduce_seeds --table        # results/*.json → docs/reproduction.md

EXPERIMENT is a registry name: ``mlp`` (seed 004), ``binary-mlp`` (seed 002), ``cnn``
(seed 001), ``resnet-small`` (seed 000's residual design on Fashion-MNIST), ``gpt``
(character GPT on Shakespeare) or ``transformer`` (seed 003's encoder-decoder at the seed's
size, Shakespeare line → next line over a 10,000-word vocabulary; ``--pairs``,
``--eval-pairs`` and ``--max-len`` size it, see ``run_seq2seq``). The recipe (optimizer, lr, batch size, epochs,
normalisation, validation split, schedule) comes from ``models/registry.py``; the PyTorch
twin from ``benchmarks/torch_twins.py`` receives minigrad's initial weights. Each run writes
``benchmarks/results/reproduce/EXPERIMENT.json`` with per-epoch loss, accuracy and seconds.
"""
import argparse
import json
import os
import sys
import time

if __name__ == "__main__":  # BLAS fixes its thread pool when numpy loads
    _threads = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--threads=")), "1")
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = _threads

import re  # noqa: E402
from collections import Counter  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad.datasets import MNIST, FashionMNIST, Shakespeare  # noqa: E402
from minigrad_models.mlp import odd_digit_target  # noqa: E402
from minigrad_models.registry import TRANSFORMER_SEED_SIZE, get_spec  # noqa: E402
from minigrad_models.train.data import seq2seq_tensors  # noqa: E402

RESULTS = os.path.join("benchmarks", "results", "reproduce")
DATASETS = {"mnist": MNIST, "fashion-mnist": FashionMNIST, "mnist-binary": MNIST}


# ---------------------------------------------------------------- data
def image_arrays(dataset, normalize, val_split, seed):
    """(train, val, test) splits of (x float32 (N,1,28,28), y) normalised per the recipe."""
    def load(train):
        ds = DATASETS[dataset](train=train, download=True)
        return ds.data.astype(np.float32)[:, None] / 255.0, ds.targets.astype(np.int64)
    (x, y), (x_test, y_test) = load(True), load(False)
    if normalize == "mnist-0.5":
        x, x_test = (x - 0.5) / 0.5, (x_test - 0.5) / 0.5
    elif normalize == "standard":
        mean, std = x.mean(), x.std()
        x, x_test = (x - mean) / std, (x_test - mean) / std
    if dataset == "mnist-binary":
        y, y_test = odd_digit_target(y), odd_digit_target(y_test)
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = int(round(len(x) * (val_split or 0)))
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val]), (x_test, y_test)


WORD = re.compile(r"[a-z]+(?:'[a-z]+)*|[^\sa-z]")
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")


def words(line):
    """Lower-cased word tokens of a line: letter runs with inner apostrophes ("o'er",
    "i'll") and every other non-space character (punctuation, digits) on its own."""
    return WORD.findall(line.lower())


def word_vocabulary(pairs, size):
    """``size`` symbols: the 4 specials (pad 0, bos 1, eos 2, unk 3), then the
    ``size − 4`` most frequent words of the pairs' lines (ties by first appearance)."""
    counts = Counter(t for pair in pairs for line in pair for t in words(line))
    return list(SPECIALS) + [w for w, _ in counts.most_common(size - len(SPECIALS))]


def word_pair_arrays(pairs, stoi, max_len):
    """``seq2seq_tensors`` over word tokens, words outside the vocabulary as ``<unk>``:
    ``src (N, max_len)``, ``tgt_in (N, max_len + 1)``, ``tgt_out (N, max_len + 1)``."""
    def known(line):
        return [t if t in stoi else "<unk>" for t in words(line)]
    return seq2seq_tensors([(known(a), known(b)) for a, b in pairs], stoi, max_len,
                           stoi["<pad>"], stoi["<bos>"], stoi["<eos>"])


# ---------------------------------------------------------------- the two libraries
def make_optimizer(lib, params, recipe):
    name = recipe["optimizer"]
    wd = recipe.get("weight_decay", 0.0)
    if name == "sgd":
        return lib.optim.SGD(params, lr=recipe["lr"], momentum=recipe.get("momentum", 0.0),
                             nesterov=recipe.get("nesterov", False), weight_decay=wd)
    if name == "adam":
        return lib.optim.Adam(params, lr=recipe["lr"], betas=recipe.get("betas", (0.9, 0.999)),
                              weight_decay=wd)
    return lib.optim.AdamW(params, lr=recipe["lr"], betas=recipe.get("betas", (0.9, 0.999)),
                           weight_decay=wd)


class Side:
    """One library's model, optimizer and loss, driven by arrays."""

    def __init__(self, lib, model, recipe, task, total_steps):
        self.lib, self.model, self.task = lib, model, task
        self.optimizer = make_optimizer(lib, list(model.parameters()), recipe)
        self.scheduler = (lib.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, total_steps)
                          if recipe.get("schedule") == "cosine" else None)
        self.clip = recipe.get("grad_clip")
        self.pad_id = None   # seq2seq: the padding id the loss ignores
        self.seconds = 0.0

    def tensor(self, array):
        return self.lib.tensor(array) if self.lib is mg else self.lib.from_numpy(np.ascontiguousarray(array))

    def loss(self, x, y, reduction="mean"):
        F = self.lib.nn.functional
        if self.task == "seq2seq":   # x = (src, tgt_in), y = tgt_out; padding not scored
            logits = self.model(self.tensor(x[0]), self.tensor(x[1]))
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                   self.tensor(y).reshape(-1), ignore_index=self.pad_id,
                                   reduction=reduction), logits
        if self.task == "binary":
            logits = self.model(self.tensor(x))
            return F.binary_cross_entropy_with_logits(logits, self.tensor(y.astype(np.float32)[:, None]))
        if self.task == "lm":
            out = self.model(self.tensor(x))
            logits = out[0] if isinstance(out, tuple) else out
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), self.tensor(y).reshape(-1))
        return F.cross_entropy(self.model(self.tensor(x)), self.tensor(y))

    def step(self, x, y):
        start = time.perf_counter()
        self.model.train()
        self.optimizer.zero_grad()
        loss = self.loss(x, y)
        if self.task == "seq2seq":
            loss = loss[0]
        loss.backward()
        if self.clip:
            self.lib.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        self.seconds += time.perf_counter() - start
        return float(loss.item())

    def evaluate(self, x, y, batch=500):
        """Accuracy for image tasks, mean loss for language modelling, ``(mean loss, token
        accuracy)`` over the non-pad target tokens for seq2seq (x = (src, tgt_in))."""
        self.model.eval()
        with self.lib.no_grad():
            if self.task == "seq2seq":
                total = correct = count = 0
                for i in range(0, len(y), batch):
                    rows = slice(i, i + batch)
                    loss, logits = self.loss((x[0][rows], x[1][rows]), y[rows], "sum")
                    keep = y[rows] != self.pad_id
                    total += float(loss.item())
                    correct += int((logits.numpy().argmax(-1)[keep] == y[rows][keep]).sum())
                    count += int(keep.sum())
                return total / count, correct / count
            if self.task == "lm":
                return float(np.mean([self.loss(x[i:i + batch], y[i:i + batch]).item()
                                      for i in range(0, len(x), batch)]))
            correct = 0
            for i in range(0, len(x), batch):
                out = self.model(self.tensor(x[i:i + batch])).numpy()
                pred = (out[:, 0] > 0).astype(np.int64) if self.task == "binary" else out.argmax(1)
                correct += int((pred == y[i:i + batch]).sum())
        return correct / len(x)


def torch_twin(name, mg_model):
    import torch
    from minigrad_benchmarks import torch_twins as twins
    if name == "mlp":
        model = twins.TorchSeedMLP()
    elif name == "binary-mlp":
        model = twins.TorchSeedMLP(hidden=(128, 64), out=1)
    elif name == "cnn":
        model = twins.torch_seed_cnn()
    elif name == "resnet-small":
        model = twins.TorchSmallResNet()
    elif name == "transformer":
        layer = mg_model.transformer.encoder.layers[0]
        model = twins.TorchSeq2Seq(
            mg_model.src_embedding.num_embeddings, mg_model.tgt_embedding.num_embeddings,
            mg_model.d_model, layer.self_attn.num_heads, len(mg_model.transformer.encoder.layers),
            layer.linear1.out_features, mg_model.max_len, mg_model.pad_idx)
    else:
        c = mg_model.config
        model = twins.TorchGPT(c.vocab_size, c.block_size, c.n_layer, c.n_head, c.n_embd)
    state = {k: torch.from_numpy(np.array(v.numpy())) for k, v in mg_model.state_dict().items()}
    model.load_state_dict(state, strict=False)
    missing = set(model.state_dict()) - set(state)
    if missing:
        raise RuntimeError(f"{name}: twin has parameters minigrad's model lacks: {sorted(missing)}")
    return model


# ---------------------------------------------------------------- experiments
def run_images(name, spec, epochs, seed):
    import torch
    recipe = spec.recipe
    dataset = spec.datasets[0]
    train, val, test = image_arrays(dataset, recipe["normalize"], recipe.get("val_split"), seed)
    steps_per_epoch = -(-len(train[0]) // recipe["batch_size"])
    mg.manual_seed(seed)
    torch.manual_seed(seed)
    model = spec.build()
    sides = {"minigrad": Side(mg, model, recipe, spec.task, steps_per_epoch * epochs),
             "pytorch": Side(torch, torch_twin(name, model), recipe, spec.task, steps_per_epoch * epochs)}
    history = {k: [] for k in sides}
    rng = np.random.default_rng(seed)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(train[0]))
        totals = {k: 0.0 for k in sides}
        before = {k: s.seconds for k, s in sides.items()}
        for first in range(0, len(order), recipe["batch_size"]):
            idx = order[first:first + recipe["batch_size"]]
            for k, side in sides.items():
                totals[k] += side.step(train[0][idx], train[1][idx])
        for k, side in sides.items():
            record = {"epoch": epoch, "train_loss": totals[k] / steps_per_epoch,
                      "seconds": side.seconds - before[k],
                      "test_accuracy": side.evaluate(*test)}
            if len(val[0]):
                record["val_accuracy"] = side.evaluate(*val)
            history[k].append(record)
            print(f"[{name}] {k:8s} epoch {epoch}: loss {record['train_loss']:.4f}  "
                  f"test acc {record['test_accuracy']:.4f}  {record['seconds']:.1f} s", flush=True)
    return {"dataset": dataset, "epochs": epochs, "history": history}


def run_gpt(name, spec, iters, seed, eval_windows=256):
    import torch
    recipe = spec.recipe
    train_ds, val_ds = Shakespeare(train=True, download=True), Shakespeare(train=False, download=True)
    train_ids, val_ids = train_ds.data, val_ds.data
    block, batch = recipe["block_size"], recipe["batch_size"]
    mg.manual_seed(seed)
    torch.manual_seed(seed)
    model = spec.build(vocab_size=train_ds.vocab_size, block_size=block)
    sides = {"minigrad": Side(mg, model, recipe, "lm", iters),
             "pytorch": Side(torch, torch_twin(name, model), recipe, "lm", iters)}
    # nanoGPT decays only matrices: rebuild both optimizers with that grouping.
    for side in sides.values():
        groups = [[p for p in side.model.parameters() if p.ndim >= 2],
                  [p for p in side.model.parameters() if p.ndim < 2]]
        side.optimizer = side.lib.optim.AdamW(
            [{"params": groups[0], "weight_decay": recipe["weight_decay"]},
             {"params": groups[1], "weight_decay": 0.0}], lr=recipe["lr"], betas=recipe["betas"])
        side.scheduler = side.lib.optim.lr_scheduler.CosineAnnealingLR(side.optimizer, iters)
    starts = np.linspace(0, len(val_ids) - block - 2, eval_windows).astype(np.int64)
    val_x = np.stack([val_ids[s:s + block] for s in starts])
    val_y = np.stack([val_ids[s + 1:s + block + 1] for s in starts])
    rng = np.random.default_rng(seed)
    losses = {k: [] for k in sides}
    for it in range(1, iters + 1):
        starts = rng.integers(0, len(train_ids) - block - 1, batch)
        x = np.stack([train_ids[s:s + block] for s in starts])
        y = np.stack([train_ids[s + 1:s + block + 1] for s in starts])
        for k, side in sides.items():
            losses[k].append(side.step(x, y))
        if it % 250 == 0 or it == iters:
            print(f"[gpt] iter {it}: " + "  ".join(f"{k} {np.mean(v[-50:]):.4f}" for k, v in losses.items()),
                  flush=True)
    history = {k: [{"iters": iters, "train_loss": float(np.mean(losses[k][-100:])),
                    "val_loss": side.evaluate(val_x, val_y), "seconds": side.seconds}]
               for k, side in sides.items()}
    return {"dataset": "shakespeare", "iters": iters, "history": history}


def run_seq2seq(name, spec, epochs, seed, pairs, eval_pairs, max_len, vocab_size=10_000,
                size=None):
    """Seed 003's Transformer on Shakespeare: a spoken line → the next line, word-level.

    The seed's data is unspecified but its vocabulary is 10,000; the character pipeline of
    ``models/train/data.py`` has 78 symbols, so this run tokenises words instead
    (``words``) and keeps the 9,996 most frequent words of the training split's lines plus
    pad/bos/eos/unk: exactly 10,000 symbols (the split has ~24,000 word types). ``pairs``
    random training pairs (seeded) are trained on for ``epochs`` epochs in the recipe's
    batches; ``eval_pairs`` evenly spaced pairs of the held-out split (the text's last
    10%) are scored after each epoch: mean cross-entropy and accuracy over the non-pad
    target tokens (eos included, teacher forcing). Lines are cut to ``max_len`` words.
    Dropout is 0 (the seed's default is 0.1) so both libraries follow one trajectory."""
    import torch
    recipe = spec.recipe
    train_ds, test_ds = Shakespeare(train=True, download=True), Shakespeare(train=False, download=True)
    train_pairs, test_pairs = train_ds.line_pairs(), test_ds.line_pairs()
    itos = word_vocabulary(train_pairs, vocab_size)
    stoi = {w: i for i, w in enumerate(itos)}
    rng = np.random.default_rng(seed)
    chosen = [train_pairs[i] for i in rng.permutation(len(train_pairs))[:pairs]]
    held_out = [test_pairs[i] for i in np.arange(eval_pairs) * len(test_pairs) // eval_pairs]
    src, tgt_in, tgt_out = word_pair_arrays(chosen, stoi, max_len)
    test_src, test_in, test_out = word_pair_arrays(held_out, stoi, max_len)
    pad = stoi["<pad>"]
    test_tokens = test_out[test_out != pad]
    unk_rate = float(np.mean(test_tokens == stoi["<unk>"]))
    batch = recipe["batch_size"]
    steps_per_epoch = -(-len(src) // batch)
    mg.manual_seed(seed)
    torch.manual_seed(seed)
    shape = {**TRANSFORMER_SEED_SIZE, **(size or {}), "dropout": 0.0}
    model = spec.build(vocab_size=len(itos), size="seed", max_len=max_len + 1, pad_idx=pad,
                       **shape)
    sides = {"minigrad": Side(mg, model, recipe, spec.task, steps_per_epoch * epochs),
             "pytorch": Side(torch, torch_twin(name, model), recipe, spec.task, steps_per_epoch * epochs)}
    for side in sides.values():
        side.pad_id = pad
    history = {k: [] for k in sides}
    first_step = {}
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(src))
        totals = {k: 0.0 for k in sides}
        before = {k: s.seconds for k, s in sides.items()}
        for first in range(0, len(order), batch):
            idx = order[first:first + batch]
            for k, side in sides.items():
                loss = side.step((src[idx], tgt_in[idx]), tgt_out[idx])
                first_step.setdefault(k, loss)
                totals[k] += loss
        for k, side in sides.items():
            test_loss, test_accuracy = side.evaluate((test_src, test_in), test_out, batch=128)
            record = {"epoch": epoch, "train_loss": totals[k] / steps_per_epoch,
                      "seconds": side.seconds - before[k], "test_loss": test_loss,
                      "test_accuracy": test_accuracy}
            history[k].append(record)
            print(f"[{name}] {k:8s} epoch {epoch}: loss {record['train_loss']:.4f}  test loss "
                  f"{test_loss:.4f}  token acc {test_accuracy:.4f}  {record['seconds']:.1f} s",
                  flush=True)
    setup = {"vocab_size": len(itos), "tokens": "lower-cased words and punctuation",
             "max_len": max_len, "train_pairs": len(src), "test_pairs": len(test_src),
             "test_tokens": int(len(test_tokens)), "test_unk_rate": unk_rate,
             "model": shape, "parameters": int(sum(p.numel() for p in model.parameters())),
             "first_step_loss": first_step}
    return {"dataset": "shakespeare-words", "epochs": epochs, "setup": setup,
            "history": history}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", nargs="?",
                        choices=["mlp", "binary-mlp", "cnn", "resnet-small", "gpt", "transformer"])
    parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    parser.add_argument("--iters", type=int, default=None, help="gpt only; default: the recipe's")
    parser.add_argument("--pairs", type=int, default=1600,
                        help="transformer only: training (line, next line) pairs")
    parser.add_argument("--eval-pairs", type=int, default=512,
                        help="transformer only: held-out pairs scored after each epoch")
    parser.add_argument("--max-len", type=int, default=12,
                        help="transformer only: words kept per line")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", default="1", help="--threads=N (read before numpy loads)")
    parser.add_argument("--table", action="store_true", help="write docs/reproduction.md from results")
    args = parser.parse_args(argv)
    if args.table:
        from minigrad_benchmarks.reproduction_table import write_table
        print(write_table(RESULTS))
        return
    if args.experiment is None:
        parser.error("name an experiment or pass --table")
    spec = get_spec(args.experiment)
    start = time.time()
    if args.experiment == "gpt":
        result = run_gpt(args.experiment, spec, args.iters or spec.recipe["iters"], args.seed)
    elif args.experiment == "transformer":
        result = run_seq2seq(args.experiment, spec, args.epochs or spec.recipe["epochs"],
                             args.seed, args.pairs, args.eval_pairs, args.max_len)
    else:
        result = run_images(args.experiment, spec, args.epochs or spec.recipe["epochs"], args.seed)
    result.update(experiment=args.experiment, recipe={k: v for k, v in spec.recipe.items()},
                  threads=os.environ.get("OPENBLAS_NUM_THREADS"), wall_seconds=time.time() - start,
                  command="python -m benchmarks.reproduce_seeds " + " ".join(argv or sys.argv[1:]))
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"{args.experiment}.json"), "w") as f:
        json.dump(result, f, indent=1, default=str)


if __name__ == "__main__":
    main()
