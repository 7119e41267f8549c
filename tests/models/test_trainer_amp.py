"""The trainer's --accumulate and --amp: N accumulated batches of B train exactly as one
batch of N·B (float64 model without batch statistics), mixed precision keeps float32
parameters and a loss curve close to float32's, fp16 checkpoints its GradScaler, and the
CLI resolves the flags."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad_models.train.checkpointing import load_checkpoint
from minigrad_models.train.cli import resolve_train_config
from minigrad_models.train.cli_parser import build_parser
from minigrad_models.train.trainer import run_training
from minigrad_models.registry import get_spec
from tests.models.test_trainer import Spec, config_for, no_plots, quiet  # noqa: F401


class _Double(nn.Module):
    def forward(self, x):
        return x.double()


def _float64_classifier():
    return nn.Sequential(nn.Flatten(), _Double(), nn.Linear(784, 16).double(), nn.Tanh(),
                         nn.Linear(16, 10).double())


def _classifier():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 24), nn.ReLU(), nn.Linear(24, 10))


F64 = Spec("tiny64", _float64_classifier, "classify", ("mnist",), {})
F32 = Spec("tiny", _classifier, "classify", ("mnist",), {})


def _params(trainer):
    return {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}


def test_accumulate_equals_a_batch_n_times_bigger(tmp_path, no_plots):  # noqa: F811
    big, _ = run_training(config_for(tmp_path, "big", model="tiny64", batch_size=32, epochs=1,
                                     accumulate=1), F64, log=quiet, progress=False)
    small, _ = run_training(config_for(tmp_path, "acc", model="tiny64", batch_size=8, epochs=1,
                                       accumulate=4), F64, log=quiet, progress=False)
    assert small.step == big.step == 8          # 230 images: 7 steps of 32 (4×8) and one of 6
    a, b = _params(big), _params(small)
    for key in a:
        assert a[key].dtype == np.float64
        np.testing.assert_allclose(b[key], a[key], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(small.step_losses, big.step_losses, rtol=1e-10)
    # and not vacuously: without accumulation, batches of 8 train differently
    plain, _ = run_training(config_for(tmp_path, "plain", model="tiny64", batch_size=8,
                                       epochs=1), F64, log=quiet, progress=False)
    assert plain.step == 29 and not np.allclose(_params(plain)["2.weight"], a["2.weight"])


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_amp_training_tracks_float32(tmp_path, no_plots, amp):  # noqa: F811
    reference, _ = run_training(config_for(tmp_path, "f32", epochs=1), F32, log=quiet,
                                progress=False)
    mixed, _ = run_training(config_for(tmp_path, amp, epochs=1, amp=amp, grad_clip=5.0), F32,
                            log=quiet, progress=False)
    assert all(p.dtype == mg.float32 for p in mixed.model.parameters())
    losses, ref = np.array(mixed.step_losses), np.array(reference.step_losses)
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    np.testing.assert_allclose(losses, ref, rtol=0.05 if amp == "bf16" else 0.01)
    scaler = load_checkpoint(tmp_path / amp)["scaler"]
    if amp == "fp16":   # float16 logits' gradients overflow at 2^16: the scale backs off
        assert set(scaler) == {"scale", "growth_factor", "backoff_factor", "growth_interval",
                               "_growth_tracker"}
        assert 1.0 <= scaler["scale"] <= 65536.0 and scaler["growth_interval"] == 2000
    else:
        assert scaler == {}


def test_cli_flags_resolve():
    parse = build_parser().parse_args
    spec = get_spec("cnn")
    config = resolve_train_config(spec, parse(["train", "cnn", "--amp", "--accumulate", "3"]))
    assert config["amp"] == "bf16" and config["accumulate"] == 3
    config = resolve_train_config(spec, parse(["train", "cnn", "--amp", "fp16"]))
    assert config["amp"] == "fp16" and config["accumulate"] == 1
    config = resolve_train_config(spec, parse(["train", "cnn"]))
    assert config["amp"] is None
