"""models.train.trainer, checkpointing and data: bit-exact resume (between and inside
epochs), Ctrl-C checkpoints, the run folder, and the data pipeline's splits and shapes.

Tiny stand-in models (a spec object with the registry's fields) keep every run to about
a second; the dropout layer makes the exactness tests depend on minigrad's generator."""
import os
import signal
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad_models.train import plots
from minigrad_models.train.data import (EpochSampler, char_windows, normalize_images, prepare_data,
                               seq2seq_tensors)
from minigrad_models.train.tasks import generate
from minigrad_models.train.checkpointing import (TrainingInterrupted, interrupts_deferred,
                                                load_checkpoint)
from minigrad_models.train.trainer import run_training


@dataclass(frozen=True)
class Spec:
    name: str
    build: Callable
    task: str
    datasets: tuple
    recipe: dict
    description: str = ""


def tiny_classifier():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 24), nn.ReLU(), nn.Dropout(0.25),
                         nn.Linear(24, 10))


def tiny_char_rnn(vocab_size):
    from minigrad_models.rnn import CharRNN
    return CharRNN(vocab_size, embed_dim=8, hidden_size=16, num_layers=1, cell="gru")


CLASSIFIER = Spec("tiny", tiny_classifier, "classify", ("mnist", "fashion-mnist"), {})
LM = Spec("tiny-lm", tiny_char_rnn, "lm", ("shakespeare",), {})


def config_for(tmp_path=None, name="run", **changes):
    config = {"model": "tiny", "task": "classify", "dataset": "mnist", "optimizer": "adam",
              "lr": 3e-3, "momentum": 0.0, "weight_decay": 0.0, "batch_size": 32,
              "eval_batch_size": 256, "epochs": 2, "normalize": "mnist-0.5", "val_split": 0.1,
              "seed": 7, "subset": 256, "device": "cpu", "model_args": {},
              "grad_clip": None, "out": str(tmp_path / name) if tmp_path else "unused"}
    config.update(changes)
    return config


@pytest.fixture
def no_plots(monkeypatch):
    """The exactness tests need no pictures (matplotlib costs seconds on a busy machine)."""
    monkeypatch.setattr(plots, "write_run_plots", lambda *a, **k: None)


def quiet(*args):
    pass


def params(trainer):
    return {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}


def assert_bitwise_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].tobytes() == b[key].tobytes(), key


def stripped(history):
    """Epoch records without the wall-clock fields."""
    return [{k: v for k, v in r.items() if k not in ("seconds", "samples_per_s")}
            for r in history]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The reference: two epochs in one go."""
    import minigrad_models.train.plots as plots_module
    saved = plots_module.write_run_plots
    plots_module.write_run_plots = lambda *a, **k: None
    try:
        trainer, report = run_training(config_for(tmp_path_factory.mktemp("straight")),
                                       CLASSIFIER, log=quiet, progress=False)
    finally:
        plots_module.write_run_plots = saved
    return trainer, report


def test_resume_between_epochs_is_bit_exact(tmp_path, straight, no_plots):
    reference, reference_report = straight
    run_training(config_for(tmp_path, epochs=1), CLASSIFIER, log=quiet, progress=False)
    checkpoint = load_checkpoint(tmp_path / "run")
    assert checkpoint["epoch"] == 1 and checkpoint["rng"]["sampler"]["consumed"] == 0
    config = dict(checkpoint["config"], epochs=2)
    resumed, report = run_training(config, CLASSIFIER, checkpoint, log=quiet, progress=False)
    assert resumed.step == reference.step == 2 * 8     # 230 training images, batches of 32
    assert_bitwise_equal(params(resumed), params(reference))
    assert stripped(resumed.history) == stripped(reference.history)
    assert resumed.step_losses == reference.step_losses
    assert report["accuracy"] == reference_report["accuracy"]


@pytest.mark.parametrize("stop_at", [3, 8, 13])   # inside epoch 1, its end, inside epoch 2
def test_interrupt_saves_checkpoint_and_resume_is_bit_exact(tmp_path, straight, no_plots,
                                                            stop_at):
    reference, _ = straight

    def interrupt(event, trainer):
        if event == "step" and trainer.step == stop_at:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as caught:
        run_training(config_for(tmp_path), CLASSIFIER, callbacks=[interrupt], log=quiet,
                     progress=False)
    assert caught.value.step == stop_at
    assert os.path.basename(caught.value.checkpoint) == "last.ckpt"
    checkpoint = load_checkpoint(tmp_path / "run")
    assert checkpoint["step"] == stop_at
    # Samples of the current epoch trained on: 8 steps of 32 cover the 230 of an epoch.
    assert checkpoint["rng"]["sampler"]["consumed"] == {3: 96, 8: 230, 13: 160}[stop_at]
    # metrics.json is written on the way out too.
    assert (tmp_path / "run" / "metrics.json").exists()

    resumed, _ = run_training(checkpoint["config"], CLASSIFIER, checkpoint, log=quiet,
                              progress=False)
    assert_bitwise_equal(params(resumed), params(reference))
    assert stripped(resumed.history) == stripped(reference.history)
    assert resumed.step_losses == reference.step_losses


def test_checkpoint_holds_the_optimizer_state(tmp_path, no_plots):
    run_training(config_for(tmp_path, epochs=1), CLASSIFIER, log=quiet, progress=False)
    checkpoint = load_checkpoint(tmp_path / "run" / "checkpoints" / "epoch-001.ckpt")
    state = checkpoint["optimizer"]["state"]
    assert len(state) == 4 and all("exp_avg" in s and "exp_avg_sq" in s for s in state.values())
    assert float(state[0]["step"]) == 8


def test_run_folder_holds_every_artifact(tmp_path):
    trainer, report = run_training(config_for(tmp_path, epochs=1), CLASSIFIER, log=quiet,
                                   progress=False)
    run = tmp_path / "run"
    for name in ("config.json", "metrics.json", "loss_curve.png", "predictions_grid.png",
                 "confusion_matrix.png", "checkpoints/epoch-001.ckpt", "checkpoints/last.ckpt"):
        assert (run / name).is_file(), name
    import json
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] == report["accuracy"]
    assert len(metrics["history"]) == 1 and metrics["test"]["num_samples"] == 10000
    assert len(metrics["test"]["confusion_matrix"]) == 10
    config = json.loads((run / "config.json").read_text())
    assert config["sizes"] == {"train": 230, "val": 26, "test": 10000}
    checkpoints = run / "checkpoints"
    assert os.path.samefile(checkpoints / "last.ckpt", checkpoints / "epoch-001.ckpt")
    assert (run / "predictions_grid.png").read_bytes()[:4] == b"\x89PNG"


def test_deferred_interrupt_lets_the_block_finish():
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            finished.append(True)        # still runs: the signal waits for the block's end
    assert finished == [True]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_language_model_run_and_generation(tmp_path, no_plots):
    config = config_for(tmp_path, model="tiny-lm", task="lm", dataset="shakespeare",
                        block_size=16, subset=64, epochs=1, lr=1e-2, batch_size=16,
                        eval_samples=256)
    trainer, report = run_training(config, LM, log=quiet, progress=False)
    assert np.isfinite(report["loss"]) and report["perplexity"] == pytest.approx(
        np.exp(report["loss"]))
    assert report["num_tokens"] == 256 * 16
    assert trainer.splits.sizes == {"train": 64, "val": 256, "test": 256}
    assert (tmp_path / "run" / "samples.txt").read_text().strip()
    ids = generate(trainer.model, "lm", [0, 1, 2], 20, "cpu", temperature=1.0, top_k=5, seed=3)
    again = generate(trainer.model, "lm", [0, 1, 2], 20, "cpu", temperature=1.0, top_k=5, seed=3)
    assert ids == again and len(ids) == 20 and max(ids) < config["num_classes"]
    greedy = generate(trainer.model, "lm", [0], 5, "cpu", temperature=0)
    assert len(greedy) == 5


# ---------------------------------------------------------------------------- data

def test_epoch_sampler_resumes_inside_an_epoch():
    sampler = EpochSampler(10, seed=[1, 2])
    first = list(sampler)
    sampler.end_epoch()
    it = iter(sampler)
    second_head = [next(it) for _ in range(4)]
    sampler.consumed = 4
    state = sampler.state_dict()
    rest = list(it)
    other = EpochSampler(10, seed=[9])
    other.load_state_dict(state)
    assert len(other) == 6 and list(other) == rest
    assert sorted(first) == sorted(second_head + rest) == list(range(10))


def test_image_splits_shapes_and_normalisation():
    splits = prepare_data(config_for())
    x, y = next(iter(splits.train))
    assert x.shape == (32, 1, 28, 28) and x.dtype == mg.float32 and y.dtype == mg.int64
    assert splits.sizes == {"train": 230, "val": 26, "test": 10000}
    assert -1.0 <= float(x.min()) and float(x.max()) <= 1.0          # mnist-0.5
    images = np.array([[[0, 255]]], dtype=np.uint8)
    np.testing.assert_array_equal(normalize_images(images, 0.5, 0.5), [[[[-1.0, 1.0]]]])


def test_binary_split_targets_are_odd_digits():
    config = config_for(task="binary", dataset="mnist-binary")
    splits = prepare_data(config, need_train=False)
    from minigrad.datasets import MNIST
    y = splits.test.dataset.tensors[1].numpy()
    assert y.shape == (10000, 1) and y.dtype == np.float32
    np.testing.assert_array_equal(y[:, 0], MNIST(train=False).targets % 2)
    assert splits.class_names == ["even", "odd"] and splits.num_classes == 2


def test_dataset_must_fit_the_task():
    with pytest.raises(ValueError, match="does not fit"):
        prepare_data(config_for(dataset="shakespeare"))
    with pytest.raises(ValueError, match="unknown dataset"):
        prepare_data(config_for(dataset="cifar"))


def test_char_windows_and_seq2seq_tensors():
    ids = np.arange(11)
    x, y = char_windows(ids, 3)
    assert x.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert y.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    stoi = {"a": 0, "b": 1}
    src, tgt_in, tgt_out = seq2seq_tensors([("ab", "b"), ("aaaa", "ba")], stoi, max_len=3,
                                           pad_id=2, bos_id=3, eos_id=4)
    assert src.tolist() == [[0, 1, 2], [0, 0, 0]]
    assert tgt_in.tolist() == [[3, 1, 2, 2], [3, 1, 0, 2]]
    assert tgt_out.tolist() == [[1, 4, 2, 2], [1, 0, 4, 2]]


def test_interrupt_inside_a_forward_pass_resumes_bit_exact(tmp_path, straight, no_plots):
    """Ctrl-C after dropout has drawn from the generator but before the step: the
    checkpoint must hold the generator as it was at the last whole step."""
    reference, _ = straight
    calls = {"n": 0}

    class Interrupting(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = tiny_classifier()

        def forward(self, x):
            y = self.net(x)              # dropout draws here
            calls["n"] += 1
            if calls["n"] == 5 and self.training:
                raise KeyboardInterrupt
            return y

    spec = Spec("tiny", Interrupting, "classify", ("mnist",), {})
    with pytest.raises(TrainingInterrupted) as caught:
        run_training(config_for(tmp_path), spec, log=quiet, progress=False)
    assert caught.value.step == 4
    checkpoint = load_checkpoint(tmp_path / "run")
    resumed, _ = run_training(checkpoint["config"], spec, checkpoint, log=quiet, progress=False)
    got = {k.removeprefix("net."): v for k, v in params(resumed).items()}
    assert_bitwise_equal(got, params(reference))


def test_cosine_schedule_and_nesterov_resume_bit_exact(tmp_path, no_plots):
    """The scheduler's position is part of the checkpoint too."""
    config = dict(optimizer="sgd", lr=0.05, momentum=0.9, nesterov=True, schedule="cosine")
    straight, _ = run_training(config_for(tmp_path, "a", **config), CLASSIFIER, log=quiet,
                               progress=False)
    lrs = [r["lr"] for r in straight.history]
    assert lrs[0] == pytest.approx(0.05 * (1 + np.cos(np.pi / 2)) / 2)   # half-way: 0.025
    assert lrs[1] == pytest.approx(0.0, abs=1e-12)

    def interrupt(event, trainer):
        if event == "step" and trainer.step == 5:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted):
        run_training(config_for(tmp_path, "b", **config), CLASSIFIER, callbacks=[interrupt],
                     log=quiet, progress=False)
    checkpoint = load_checkpoint(tmp_path / "b")
    assert checkpoint["scheduler"]["last_epoch"] == 5
    resumed, _ = run_training(checkpoint["config"], CLASSIFIER, checkpoint, log=quiet,
                              progress=False)
    assert_bitwise_equal(params(resumed), params(straight))
    assert [r["lr"] for r in resumed.history] == lrs


def test_seq2seq_run_and_decoding(tmp_path, no_plots):
    from minigrad_models.transformer import Seq2SeqTransformer

    def tiny_transformer(vocab_size, pad_idx):
        return Seq2SeqTransformer(vocab_size, vocab_size, d_model=16, nhead=2, num_layers=1,
                                  dim_feedforward=32, dropout=0.1, max_len=64, pad_idx=pad_idx)

    spec = Spec("tiny-s2s", tiny_transformer, "seq2seq", ("shakespeare",), {})
    config = config_for(tmp_path, model="tiny-s2s", task="seq2seq", dataset="shakespeare",
                        max_len=24, subset=64, epochs=1, batch_size=16, eval_samples=32)
    trainer, report = run_training(config, spec, log=quiet, progress=False)
    specials = config["special_tokens"]
    assert specials == {"pad": 75, "bos": 76, "eos": 77} and config["num_classes"] == 78
    assert np.isfinite(report["loss"]) and 0 < report["num_tokens"] < 32 * 25
    src, tgt_in, tgt_out = (t.numpy() for t in trainer.splits.test.dataset.tensors)
    assert src.shape == (32, 24) and tgt_in.shape == tgt_out.shape == (32, 25)
    assert (tgt_in[:, 0] == specials["bos"]).all()
    samples = (tmp_path / "run" / "samples.txt").read_text()
    assert samples.count("predicted:") == 5
    sampled = generate(trainer.model, "seq2seq", [1, 2, 3], 10, "cpu", temperature=1.0,
                       seed=1, special_tokens=specials, max_len=24)
    assert len(sampled) <= 10 and specials["eos"] not in sampled
    greedy = generate(trainer.model, "seq2seq", [1, 2, 3], 10, "cpu", temperature=0,
                      special_tokens=specials, max_len=24)
    assert len(greedy) <= 10 and specials["eos"] not in greedy
