"""``--augment``: the training images are drawn through random transforms at every access,
the CLI flag reaches the config, and a resumed augmented run is still bit-exact."""
import numpy as np

import minigrad as mg
from minigrad_models.train.cli import resolve_train_config
from minigrad_models.train.cli_parser import build_parser
from minigrad_models.train.data import AugmentedImages, augmentation, prepare_data
from minigrad_models.train.trainer import run_training
from minigrad_models.registry import get_spec
from tests.models.test_trainer import CLASSIFIER, assert_bitwise_equal, config_for, params, quiet


def test_augmented_images_redraw_at_every_access_and_normalise():
    images = np.random.default_rng(0).random((3, 1, 28, 28), dtype=np.float32)
    ds = AugmentedImages(images, np.arange(3), augmentation("fashion-mnist"), 0.5, 0.25)
    mg.manual_seed(0)
    draws = [ds[1][0] for _ in range(8)]
    assert all(d.shape == (1, 28, 28) and d.dtype == np.float32 for d in draws)
    assert len({d.tobytes() for d in draws}) > 1
    assert ds[2][1] == 2
    # each draw is a crop/flip of the normalised image: values come from it or the padding
    allowed = set(((images[1] - 0.5) / 0.25).ravel().tolist()) | {-2.0}
    assert set(draws[0].ravel().tolist()) <= allowed


def test_cli_flag_reaches_the_config():
    args = build_parser().parse_args(["train", "resnet-small", "--augment"])
    assert resolve_train_config(get_spec("resnet-small"), args)["augment"] is True
    args = build_parser().parse_args(["train", "resnet-small"])
    assert resolve_train_config(get_spec("resnet-small"), args)["augment"] is False


def test_prepare_data_uses_augmented_training_set_only():
    splits = prepare_data(config_for(augment=True, subset=64, val_split=0.25))
    assert isinstance(splits.train.dataset, AugmentedImages) and len(splits.train.dataset) == 48
    x, y = next(iter(splits.train))
    assert tuple(x.shape) == (32, 1, 28, 28) and x.dtype == mg.float32 and y.dtype == mg.int64
    assert not isinstance(splits.test.dataset, AugmentedImages)


def test_augmented_run_resumes_bit_exact(tmp_path, monkeypatch):
    from minigrad_models.train import plots
    monkeypatch.setattr(plots, "write_run_plots", lambda *a, **k: None)
    small = dict(augment=True, subset=96, epochs=2)
    straight, _ = run_training(config_for(tmp_path, "straight", **small), CLASSIFIER,
                               log=quiet, progress=False)
    run_training(config_for(tmp_path, "split", **dict(small, epochs=1)), CLASSIFIER,
                 log=quiet, progress=False)
    from minigrad_models.train.checkpointing import load_checkpoint
    checkpoint = load_checkpoint(tmp_path / "split")
    config = dict(checkpoint["config"], epochs=2)
    resumed, _ = run_training(config, CLASSIFIER, checkpoint, log=quiet, progress=False)
    assert_bitwise_equal(params(straight), params(resumed))
