"""The convolutional autoencoder: shapes, registry entry, learning on a fixed batch, and a
tiny ``reconstruct`` run that writes its reconstruction grid and latent scatter."""
import json

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad_models.autoencoder import ConvAutoencoder
from minigrad_models.registry import get_spec
from minigrad_models.train.trainer import run_training
from tests.models.test_trainer import config_for, quiet


def test_shapes_and_parameter_count():
    mg.manual_seed(0)
    model = ConvAutoencoder()
    x = mg.rand(3, 1, 28, 28)
    z = model.encode(x)
    assert tuple(z.shape) == (3, 2)
    out = model(x)
    assert tuple(out.shape) == (3, 1, 28, 28) and out.dtype == mg.float32
    assert 0.0 <= float(out.min().item()) and float(out.max().item()) <= 1.0
    assert sum(p.numel() for p in model.parameters()) == 17411
    assert tuple(ConvAutoencoder(latent_dim=5, width=4).encode(x).shape) == (3, 5)


def test_registry_entry():
    spec = get_spec("autoencoder")
    assert spec.task == "reconstruct" and spec.datasets[0] == "mnist"
    assert isinstance(spec.build(latent_dim=3), ConvAutoencoder)


def test_reconstruction_loss_falls_on_a_fixed_batch():
    mg.manual_seed(1)
    model = ConvAutoencoder(latent_dim=4, width=4)
    bars = np.zeros((8, 1, 28, 28), dtype=np.float32)    # two patterns, four copies each
    bars[0::2, 0, 10:18, :] = 1.0
    bars[1::2, 0, :, 10:18] = 1.0
    x = mg.tensor(bars)
    optimizer = mg.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(25):
        loss = F.mse_loss(model(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    assert losses[-1] < 0.7 * losses[0]


def test_reconstruct_run_writes_its_pictures(tmp_path):
    spec = get_spec("autoencoder")
    config = config_for(tmp_path, model="autoencoder", task="reconstruct", normalize="unit",
                        subset=64, epochs=1, val_split=0.25, model_args={"width": 4},
                        eval_samples=200)
    trainer, report = run_training(config, spec, log=quiet, progress=False)
    assert 0.0 < report["mse"] < 0.3 and report["codes"].shape == (200, 2)
    assert report["reconstructions"].shape == (16, 1, 28, 28)
    out = tmp_path / "run"
    for picture in ("reconstructions.png", "latent_space.png", "loss_curve.png"):
        assert (out / picture).stat().st_size > 1000
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["test"]) == {"loss", "mse"}
    assert np.isfinite(metrics["history"][0]["val_loss"])
