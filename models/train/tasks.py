"""What a task means to the training loop: its loss, what counts as a correct prediction,
how a whole split is scored, and (for text) how new tokens are drawn.

============  =====================================  ========================================
task          model call → output                    loss (mean over the batch)
============  =====================================  ========================================
classify      ``model(x)`` → logits (N, C)           ``F.cross_entropy(logits, y)``
binary        ``model(x)`` → one logit (N, 1)        ``F.binary_cross_entropy_with_logits``
reconstruct   ``model(x)`` → x̂ (N, 1, 28, 28)        ``F.mse_loss(x̂, x)`` (labels unused)
lm            ``model(x)`` → (logits (N, T, V), …)   cross-entropy over all N·T tokens
seq2seq       ``model(src, tgt_in)`` → logits        cross-entropy over non-pad tokens
============  =====================================  ========================================

Losses always come from logits (log-softmax / softplus inside the loss), never from
probabilities. A prediction is the arg-max class (``logit > 0`` for binary); for text, the
arg-max next token, so "accuracy" there is next-token accuracy.
"""
import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

from .metrics import classification_report, perplexity, roc_auc_score

__all__ = ["TEXT_TASKS", "batch_loss", "evaluate", "generate", "text_samples", "to_numpy"]

TEXT_TASKS = ("lm", "seq2seq")


def to_numpy(tensor):
    """A tensor's values as a host numpy array (a copy off the GPU)."""
    return tensor.detach().cpu().numpy()


def _logits(output):
    """Sequence models return ``(logits, state…)``; classifiers return the logits."""
    return output[0] if isinstance(output, (tuple, list)) else output


def _score(model, task, batch, pad_id):
    """Run one batch (already on the model's device): ``(mean loss tensor, predictions,
    target, mask, logits)``, where ``mask`` marks the target positions that count (None:
    all)."""
    if task == "seq2seq":
        src, tgt_in, target = batch
        logits = _logits(model(src, tgt_in))
    else:
        x, target = batch
        logits = _logits(model(x))
    if task == "reconstruct":
        return F.mse_loss(logits, x), None, target, None, logits
    if task == "binary":
        loss = F.binary_cross_entropy_with_logits(logits, target)
        return loss, (logits > 0).long(), target.long(), None, logits
    if task == "classify":
        return F.cross_entropy(logits, target), logits.argmax(dim=1), target, None, logits
    flat_logits, flat_target = logits.reshape(-1, logits.shape[-1]), target.reshape(-1)
    if task == "seq2seq":
        loss = F.cross_entropy(flat_logits, flat_target, ignore_index=pad_id)
        return loss, logits.argmax(dim=-1), target, target != pad_id, logits
    return F.cross_entropy(flat_logits, flat_target), logits.argmax(dim=-1), target, None, logits


def _class_scores(task, logits):
    """Per-sample scores for ROC: the logit (binary) or softmax probabilities (classify),
    float64 numpy."""
    logits = logits.double()
    if task == "binary":
        return to_numpy(logits).ravel()
    return to_numpy(F.softmax(logits, dim=1))


def _count(prediction, target, mask):
    """``(correct, counted)`` as Python ints (no prediction, as for reconstruction: 0
    correct of the batch's samples)."""
    if prediction is None:
        return 0, int(target.shape[0])
    hits = prediction == target
    if mask is not None:
        return int((hits & mask).sum().item()), int(mask.sum().item())
    return int(hits.sum().item()), int(target.numel())


def batch_loss(model, task, batch, pad_id=None):
    """One training batch: ``(loss tensor, correct, counted)``."""
    loss, prediction, target, mask, _ = _score(model, task, batch, pad_id)
    with mg.no_grad():
        correct, counted = _count(prediction, target, mask)
    return loss, correct, counted


def evaluate(model, task, loader, device, num_classes=None, class_names=None, pad_id=None,
             keep=0, scores=False):
    """Score ``model`` on every batch of ``loader`` in eval mode without gradients.

    Returns a JSON-ready report: ``loss`` (mean per sample, or per token for text) and
    ``accuracy``; for ``classify``/``binary`` also the full ``classification_report``
    (macro P/R/F1, per class, confusion matrix); for text ``perplexity``. With ``keep=k``
    the report also carries ``"predictions"``, the first k predicted labels (numpy,
    for the predictions grid). The model's train/eval mode is restored afterwards."""
    was_training = model.training
    model.eval()
    loss_sum, correct, counted = 0.0, 0, 0
    truths, predictions, outputs = [], [], []
    try:
        with mg.no_grad():
            for batch in loader:
                batch = [t.to(device) for t in batch]
                loss, prediction, target, mask, logits = _score(model, task, batch, pad_id)
                hits, n = _count(prediction, target, mask)
                loss_sum += float(loss.item()) * n
                correct += hits
                counted += n
                if task in ("classify", "binary"):
                    truths.append(to_numpy(target).astype(np.int64).ravel())
                    predictions.append(to_numpy(prediction).astype(np.int64).ravel())
                    outputs.append(_class_scores(task, logits))
    finally:
        model.train(was_training)
    mean_loss = loss_sum / counted if counted else float("nan")
    if task == "reconstruct":
        return _reconstruction_report(model, loader, device, mean_loss, keep)
    if task in ("classify", "binary"):
        y_true, y_pred = np.concatenate(truths), np.concatenate(predictions)
        report = classification_report(y_true, y_pred, num_classes, class_names)
        report["loss"] = mean_loss
        probabilities = np.concatenate(outputs)
        present = np.unique(y_true)
        if task == "binary" and len(present) == 2:
            report["roc_auc"] = roc_auc_score(y_true, probabilities)
        elif task == "classify" and len(present) == probabilities.shape[1]:
            report["roc_auc"] = roc_auc_score(y_true, probabilities, multi_class="ovr")
            report["roc_auc_weighted"] = roc_auc_score(y_true, probabilities,
                                                       multi_class="ovr", average="weighted")
        if scores:
            report["scores"] = probabilities
        if keep:
            report["predictions"] = y_pred[:keep]
        return report
    return {"loss": mean_loss, "perplexity": perplexity(mean_loss),
            "accuracy": correct / counted if counted else 0.0, "num_tokens": counted}


def _reconstruction_report(model, loader, device, mse, keep):
    """``{"loss", "mse"}`` (mean squared error per pixel); with ``keep=k`` also the first k
    inputs and reconstructions (``"originals"``, ``"reconstructions"``) and every
    sample's code and label (``"codes"``, ``"labels"``) for the run's pictures."""
    report = {"loss": mse, "mse": mse}
    if not keep:
        return report
    was_training = model.training
    model.eval()
    codes, labels, originals, outputs = [], [], [], []
    try:
        with mg.no_grad():
            for x, y in loader:
                x = x.to(device)
                z = model.encode(x)
                codes.append(to_numpy(z))
                labels.append(to_numpy(y).astype(np.int64).ravel())
                if sum(len(o) for o in originals) < keep:
                    originals.append(to_numpy(x))
                    outputs.append(to_numpy(model.decode(z)))
    finally:
        model.train(was_training)
    report.update(codes=np.concatenate(codes), labels=np.concatenate(labels),
                  originals=np.concatenate(originals)[:keep],
                  reconstructions=np.concatenate(outputs)[:keep])
    return report


def generate(model, task, prompt_ids, max_new_tokens, device, temperature=1.0, top_k=None,
             seed=0, special_tokens=None, max_len=None):
    """New token ids (a list of ints) after ``prompt_ids``, reproducible for a ``seed``
    (it seeds minigrad's generator, from which ``models.sampling`` draws).

    ``lm``: the model's own ``generate(idx, max_new_tokens, temperature, top_k)`` (the
    registry's shared interface; a GPT crops its context to its block, an RNN carries its
    state). ``seq2seq``: the prompt is the source line (cut to ``max_len``), encoded once;
    the decoder starts from BOS and stops at EOS or after ``max_new_tokens``; temperature
    0 is the model's ``greedy_decode``."""
    mg.manual_seed(seed)
    if task == "lm":
        idx = mg.tensor(np.asarray([prompt_ids], dtype=np.int64), device=device)
        out = model.generate(idx, max_new_tokens, temperature=temperature, top_k=top_k)
        return to_numpy(out)[0, len(prompt_ids):].tolist()
    bos, eos = special_tokens["bos"], special_tokens["eos"]
    src_ids = list(prompt_ids)[:max_len] or [special_tokens["pad"]]
    src = mg.tensor(np.asarray([src_ids], dtype=np.int64), device=device)
    if temperature == 0:
        out = to_numpy(model.greedy_decode(src, max_new_tokens + 1, bos, eos))[0, 1:].tolist()
        return out[:out.index(eos)] if eos in out else out
    from ..sampling import sample_next_token
    was_training = model.training
    model.eval()
    decoded = mg.tensor([[bos]], dtype=mg.int64, device=device)
    try:
        with mg.no_grad():
            memory = model.encode(src)
            for _ in range(max_new_tokens):
                logits = model.decode(decoded, memory, src)[:, -1]
                token = sample_next_token(logits, temperature, top_k)
                if int(token.item()) == eos:
                    break
                decoded = mg.cat([decoded, token], dim=1)
    finally:
        model.train(was_training)
    return to_numpy(decoded)[0, 1:].tolist()


def text_samples(model, config, splits, count=5):
    """What a text model writes, for the run folder's ``samples.txt``: an ``lm`` run's
    200 characters after a newline (temperature 0.8, top-k 10, the run's seed); a
    ``seq2seq`` run's greedy next line for the first ``count`` test lines."""
    vocab = config["vocab"]

    def decode(ids):
        return "".join(vocab[i] for i in ids if i < len(vocab))

    device = config["device"]
    if config["task"] == "lm":
        ids = generate(model, "lm", [vocab.index("\n")], 200, device, temperature=0.8,
                       top_k=10, seed=config["seed"])
        return decode(ids) + "\n"
    lines = []
    sources = splits.test.dataset.tensors[0][:count].numpy()
    targets = splits.test.dataset.tensors[2][:count].numpy()
    for src, tgt in zip(sources, targets):
        reply = generate(model, "seq2seq", [int(i) for i in src if i < len(vocab)],
                         config["max_len"], device, temperature=0,
                         special_tokens=config["special_tokens"], max_len=config["max_len"])
        lines += [f"line:      {decode(src)}", f"next:      {decode(tgt)}",
                  f"predicted: {decode(reply)}", ""]
    return "\n".join(lines)
