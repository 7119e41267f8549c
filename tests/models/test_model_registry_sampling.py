"""The registry contract the CLI codes against, and the token sampler."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad_models import MODELS, ModelSpec, get_spec, sample_next_token

NAMES = ["mlp", "binary-mlp", "cnn", "resnet-small", "resnet18", "resnet34", "resnet50",
         "autoencoder", "lstm", "gru", "transformer", "gpt"]
TASKS = {"classify", "binary", "reconstruct", "lm", "seq2seq"}
DATASETS = {"mnist", "fashion-mnist", "mnist-binary", "shakespeare"}


def test_names_and_fields():
    assert list(MODELS) == NAMES
    for name, spec in MODELS.items():
        assert isinstance(spec, ModelSpec) and spec.name == name and get_spec(name) is spec
        assert spec.task in TASKS and spec.description
        assert spec.datasets and set(spec.datasets) <= DATASETS
        recipe = spec.recipe
        assert recipe["optimizer"] in {"sgd", "adam", "adamw"}
        assert recipe["lr"] > 0 and recipe["batch_size"] > 0 and recipe["seed_ref"]
        assert ("epochs" in recipe) or ("iters" in recipe)
        assert recipe["normalize"] in ({None} if spec.task in {"lm", "seq2seq"}
                                       else {"unit", "mnist-0.5", "standard"})
    with pytest.raises(AttributeError):
        get_spec("mlp").name = "x"                      # frozen


def test_seed_recipes():
    mlp = get_spec("mlp").recipe
    assert (mlp["optimizer"], mlp["lr"], mlp["momentum"], mlp["batch_size"], mlp["epochs"],
            mlp["normalize"]) == ("sgd", 0.001, 0.9, 64, 10, "mnist-0.5")
    cnn = get_spec("cnn").recipe
    assert (cnn["optimizer"], cnn["lr"], cnn["batch_size"], cnn["epochs"], cnn["normalize"],
            cnn["val_split"]) == ("adam", 0.001, 64, 10, "unit", 0.2)
    assert get_spec("binary-mlp").datasets == ("mnist-binary",)
    assert get_spec("transformer").recipe["seed_model"]["d_model"] == 512


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="resnet-small"):
        get_spec("resnet-tiny")


@pytest.mark.parametrize("name", ["mlp", "binary-mlp", "cnn", "resnet-small"])
def test_image_models_build_and_run(name):
    spec = get_spec(name)
    model = spec.build()
    assert isinstance(model, nn.Module)
    out = model(mg.randn(2, 1, 28, 28))
    assert tuple(out.shape) == ((2, 1) if spec.task == "binary" else (2, 10))


@pytest.mark.parametrize("name", ["lstm", "gru", "gpt"])
def test_lm_models_share_one_interface(name):
    model = get_spec(name).build(vocab_size=30)
    idx = mg.randint(0, 30, (2, 8))
    logits, loss = model(idx, idx)
    assert tuple(logits.shape) == (2, 8, 30) and loss.ndim == 0
    assert tuple(model.generate(idx[:, :2], 3, temperature=1.0, top_k=5).shape) == (2, 5)


def test_seq2seq_builds():
    spec = get_spec("transformer")
    model = spec.build(vocab_size=30, pad_idx=0)
    assert model.d_model == spec.recipe["model"]["d_model"]
    assert tuple(model(mg.randint(1, 30, (2, 5)), mg.randint(1, 30, (2, 4))).shape) == (2, 4, 30)
    assert spec.build(vocab_size=30, size="seed", d_model=64, nhead=2).d_model == 64


def test_imagenet_resnets_are_built_for_28x28_greyscale():
    assert get_spec("resnet18").build().conv1.weight.shape == (64, 1, 7, 7)


# ---------------------------------------------------------------- sampling
def test_sampler_follows_the_distribution():
    probs = np.array([0.1, 0.6, 0.3])
    logits = mg.tensor(np.log(np.tile(probs, (4000, 1))), dtype=mg.float32)
    mg.manual_seed(0)
    ids = sample_next_token(logits).numpy().ravel()
    assert np.abs(np.bincount(ids, minlength=3) / 4000 - probs).max() < 0.03


def test_sampler_top_k_and_temperature():
    logits = mg.tensor([[0.0, 3.0, 1.0, 2.9, -1.0]])
    mg.manual_seed(0)
    draws = {sample_next_token(logits, top_k=2).item() for _ in range(200)}
    assert draws == {1, 3}
    assert sample_next_token(logits, temperature=0).item() == 1
    mg.manual_seed(0)
    cold = [sample_next_token(logits, temperature=0.01).item() for _ in range(50)]
    assert cold.count(1) >= 45
    out = sample_next_token(logits)
    assert out.dtype == mg.int64 and tuple(out.shape) == (1, 1)
    with pytest.raises(ValueError):
        sample_next_token(logits, top_k=0)
