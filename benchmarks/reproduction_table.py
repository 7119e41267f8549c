"""Turn the JSON files of ``benchmarks.reproduce_seeds`` into the table in
``docs/reproduction.md`` (minigrad and PyTorch side by side, measured in the same run)."""
import glob
import json
import os

ORDER = ["mlp", "cnn", "binary-mlp", "resnet-small", "gpt", "transformer"]
# What a row's numbers alone do not say (measured beside the run; see each text).
NOTES = {
    "transformer": (
        "Seed 003's recipe (Adam lr 0.001 with no warm-up on a post-norm Transformer) trains "
        "this 30 M-parameter model poorly on 1,600 pairs: both libraries reach the plateau of "
        "always predicting `<eos>`, the most frequent target symbol (one per line: 10.11% of "
        "the held-out tokens, exactly the accuracy in the row). PyTorch's run began to leave "
        "it from epoch 3 (15.39% after 10 epochs); minigrad's did not (it also spent epoch 3 "
        "predicting `,`, 7.21%). The two runs start identical (first-step loss 9.423152 / "
        "9.423151) and part during epochs 2–3. That is this recipe's sensitivity to float32 "
        "round-off, not a difference between the libraries: Adam's first updates are close "
        "to lr·sign(gradient), so round-off in near-zero gradients flips whole updates. "
        "Measured over the first 60 steps with the same batches, PyTorch against itself from "
        "initial weights perturbed by a relative 1e-7 parts just as fast as minigrad against "
        "PyTorch: after step 1 the decoder's last `linear2.weight` differs by 1.6e-3 "
        "(max relative) between the two PyTorch runs and 1.5e-3 between minigrad and PyTorch; "
        "after 60 steps by 44% and 38%, with train-loss gaps of 0.053 and 0.080. Which run "
        "leaves the plateau first is chance."),
}

HEADER = ("| seed | model | data | recipe | seed reports | minigrad | PyTorch | final train loss "
          "(minigrad / PyTorch) | s per epoch, GPT: whole run (minigrad / PyTorch) | time ratio |\n"
          "|---|---|---|---|---|---|---|---|---|---|")


def _recipe_text(recipe, result):
    parts = [recipe["optimizer"].upper() if recipe["optimizer"] == "sgd" else
             {"adam": "Adam", "adamw": "AdamW"}[recipe["optimizer"]], f"lr {recipe['lr']}"]
    if recipe.get("momentum"):
        parts.append(f"momentum {recipe['momentum']}")
    parts.append(f"batch {recipe['batch_size']}")
    parts.append(f"{result['iters']} iters" if "iters" in result else f"{result['epochs']} epochs")
    if "setup" in result:   # seq2seq: how much of the text, at what length
        setup = result["setup"]
        parts.append(f"{setup['train_pairs']:,} line pairs of ≤ {setup['max_len']} words, "
                     f"vocab {setup['vocab_size']:,}")
    if recipe.get("val_split"):
        parts.append(f"{int(recipe['val_split'] * 100)}% val split")
    if recipe.get("schedule"):
        parts.append(f"{recipe['schedule']} schedule")
    return ", ".join(parts)


def _row(result):
    recipe = result["recipe"]
    mg_last, pt_last = result["history"]["minigrad"][-1], result["history"]["pytorch"][-1]
    if "val_loss" in mg_last:  # language model: held-out loss, one "epoch" = the run
        score = lambda r: f"val loss {r['val_loss']:.4f}"  # noqa: E731
        per_epoch = lambda side: side[-1]["seconds"]  # noqa: E731
        gap = abs(mg_last["val_loss"] / pt_last["val_loss"] - 1)
        extra = f" (gap {gap:.2%})"
    elif "test_loss" in mg_last:  # seq2seq: held-out token accuracy and loss
        score = lambda r: f"token acc {r['test_accuracy']:.2%}, loss {r['test_loss']:.4f}"  # noqa: E731
        per_epoch = lambda side: sum(r["seconds"] for r in side) / len(side)  # noqa: E731
        extra = ""
    else:
        score = lambda r: f"{r['test_accuracy']:.2%}"  # noqa: E731
        per_epoch = lambda side: sum(r["seconds"] for r in side) / len(side)  # noqa: E731
        extra = ""
    mg_s = per_epoch(result["history"]["minigrad"])
    pt_s = per_epoch(result["history"]["pytorch"])
    first = "" if extra else f"{result['history']['minigrad'][0]['train_loss']:.4f} → "
    reported = recipe.get("reported", recipe.get("target", "")) or (
        "target: held-out loss within 2% of PyTorch's" if extra else "")
    return (f"| {recipe.get('seed_ref', '')} | {result['experiment']} | {result['dataset']} | "
            f"{_recipe_text(recipe, result)} | {reported} | "
            f"{score(mg_last)}{extra} | {score(pt_last)} | "
            f"{first}{mg_last['train_loss']:.4f} / {pt_last['train_loss']:.4f} | "
            f"{mg_s:.1f} / {pt_s:.1f} | {mg_s / pt_s:.2f} |")


def load_results(directory):
    results = {}
    for path in glob.glob(os.path.join(directory, "*.json")):
        with open(path) as f:
            result = json.load(f)
        results[result["experiment"]] = result
    return [results[name] for name in ORDER if name in results]


def write_table(directory, path=os.path.join("docs", "reproduction.md")):
    results = load_results(directory)
    lines = ["# The seeds' experiments, reproduced", "",
             "Each row trains the seed's model with the seed's recipe (from `models/registry.py`) "
             "in minigrad and in PyTorch (CPU, eager) in the same process, from the same initial "
             "weights and the same batch order, one BLAS/torch thread each. Accuracy is on the "
             "test split after the last epoch; the GPT row compares held-out loss on the last 10% "
             "of the Shakespeare text (256 evenly spaced windows). The transformer row (seed "
             "003 at the seed's size: d_model 512, 8 heads, 2 + 2 layers, 30 M parameters) "
             "maps a spoken Shakespeare line to the next one over a word vocabulary of "
             "10,000 (the 9,996 most frequent lower-cased words and punctuation marks of the "
             "training split, plus pad/bos/eos/unk), dropout 0, teacher forcing; it scores "
             "token accuracy and cross-entropy over the non-pad target tokens of line pairs "
             "from the held-out last 10% of the text. The seed's own task is unspecified and "
             "its accuracy is not a prediction accuracy (docs/seeds.md#seed-003), so its "
             "numbers are not a target here.", "", HEADER]
    lines += [_row(r) for r in results]
    notes = [f"- **{r['experiment']}**: {NOTES[r['experiment']]}" for r in results
             if r["experiment"] in NOTES]
    if notes:
        lines += ["", "Notes:", ""] + notes
    lines += ["", "Commands (each writes `benchmarks/results/reproduce/NAME.json`):", ""]
    lines += [f"- `{r['command']}` ({r['wall_seconds'] / 60:.1f} min wall, both libraries)"
              for r in results]
    lines += ["", "Regenerate this page with `python -m benchmarks.reproduce_seeds --table`.", ""]
    text = "\n".join(lines)
    with open(path, "w") as f:
        f.write(text)
    return text
