"""Transfer learning (models.train.finetune): a new head, frozen layers that do not move and
get no gradient, an optimizer that skips them, and the pretrain → finetune commands."""
import json

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad_models.cnn import SeedCNN
from minigrad_models.train.cli import main
from minigrad_models.train.finetune import freeze, replace_head, trainable_parameters


def _snapshot(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def _steps(model, optimizer, n=3):
    mg.manual_seed(0)
    x, y = mg.randn(8, 1, 28, 28), mg.randint(0, 5, (8,))
    for _ in range(n):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_new_head_replaces_the_last_linear():
    mg.manual_seed(0)
    model = SeedCNN(dense=8)
    old = model.classifier[3]
    name, head = replace_head(model, 5)
    assert name == "classifier.3" and model.classifier[3] is head and head is not old
    assert tuple(model(mg.randn(2, 1, 28, 28)).shape) == (2, 5)


@pytest.mark.parametrize("all_params", [False, True])
def test_frozen_features_do_not_change_and_get_no_gradient(all_params):
    mg.manual_seed(1)
    model = SeedCNN(dense=8)
    _, head = replace_head(model, 5)
    frozen = freeze(model, "features", head)
    assert frozen == ["features.0.weight", "features.0.bias", "features.3.weight",
                      "features.3.bias"]
    features, classifier = _snapshot(model.features), _snapshot(model.classifier)
    # with every parameter handed over (and weight decay), the optimizer must skip the
    # frozen ones, which backward leaves without .grad
    params = list(model.parameters()) if all_params else trainable_parameters(model)
    optimizer = mg.optim.Adam(params, lr=1e-2, weight_decay=0.1)
    _steps(model, optimizer)
    assert all(p.grad is None for p in model.features.parameters())
    assert all(p.grad is not None for p in model.classifier.parameters())
    for key, before in features.items():
        np.testing.assert_array_equal(model.features.state_dict()[key].numpy(), before)
    assert any(not np.array_equal(model.classifier.state_dict()[k].numpy(), v)
               for k, v in classifier.items())


def test_freeze_modes():
    mg.manual_seed(2)
    model = SeedCNN(dense=8)
    _, head = replace_head(model, 3)
    freeze(model, "all-but-head", head)
    assert [p for p in model.parameters() if p.requires_grad] == list(head.parameters())
    assert freeze(SeedCNN(dense=8), "none", head) == []
    with pytest.raises(ValueError, match="freeze must be"):
        freeze(model, "everything", head)
    with pytest.raises(ValueError, match="no 'features'"):
        freeze(mg.nn.Sequential(mg.nn.Linear(2, 2)), "features", head)


@pytest.mark.slow
def test_pretrain_then_finetune_commands(tmp_path, capsys):
    run = tmp_path / "pre"
    assert main(["train", "cnn", "--classes", "0-4", "--subset", "64", "--epochs", "1",
                 "--out", str(run), "--no-progress", "--eval-samples", "200"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["classes"] == [0, 1, 2, 3, 4] and config["sizes"]["test"] == 200
    out = tmp_path / "tune.json"
    assert main(["finetune", "cnn", "--checkpoint", str(run), "--classes", "5-9", "--subset",
                 "64", "--epochs", "1", "--output", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["pretrained_classes"] == [0, 1, 2, 3, 4] and result["classes"] == [5, 6, 7, 8, 9]
    assert result["frozen_parameters"][0] == "features.0.weight"
    assert result["trainable_parameters"] == 1600 * 64 + 64 + 64 * 5 + 5
    assert result["test_samples"] == 4861 and 0.0 <= result["test_accuracy"] <= 1.0
    assert main(["finetune", "cnn", "--checkpoint", str(run), "--classes", "5-9", "--subset",
                 "64", "--epochs", "1", "--scratch"]) == 0
    assert "cnn scratch" in capsys.readouterr().out
    assert main(["finetune", "cnn", "--checkpoint", str(run), "--classes", "5-11"]) == 2


def test_classes_option_keeps_only_those_labels_in_every_split():
    from minigrad_models.train.cli_parser import class_list
    from minigrad_models.train.data import prepare_data
    from tests.models.test_trainer import config_for
    assert class_list("5-9") == [5, 6, 7, 8, 9] and class_list("3,1,3") == [1, 3]
    splits = prepare_data(config_for(classes=[0, 1], subset=100, val_split=0.2))
    for loader in (splits.train, splits.val, splits.test):
        labels = np.concatenate([y.numpy() for _, y in loader])
        assert set(labels.tolist()) == {0, 1}
    assert splits.sizes["test"] == 980 + 1135     # every test 0 and 1
