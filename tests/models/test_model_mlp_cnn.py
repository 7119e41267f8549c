"""SeedMLP, SeedBinaryMLP and SeedCNN against PyTorch twins: shapes, parameter counts,
forward values and gradients with copied weights, and a tiny memorisation run."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad_models import SeedBinaryMLP, SeedCNN, SeedMLP, odd_digit_target

try:    # torch is the oracle, not a dependency: without it the needs_torch tests skip
    import torch
    import torch.nn.functional as TF
    from tests.models.torch_twins import (TorchSeedMLP, assert_close, assert_grads_close,
                                          copy_weights, n_params, state_shapes, to_torch,
                                          torch_seed_cnn)
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="needs torch (the oracle)")


@pytest.fixture
def images(device):
    return mg.tensor(np.random.default_rng(0).random((6, 1, 28, 28), dtype=np.float32),
                     device=device)


@needs_torch
def test_seed_mlp_shape_and_count(images, device):
    model = SeedMLP().to(device)
    assert tuple(model(images).shape) == (6, 10)
    assert tuple(model(images.reshape(6, 784)).shape) == (6, 10)
    assert n_params(model) == n_params(TorchSeedMLP()) == 235_146
    assert state_shapes(model) == state_shapes(TorchSeedMLP())


@needs_torch
def test_binary_mlp_logit_and_proba(images, device):
    model = SeedBinaryMLP().to(device)
    assert n_params(model) == n_params(TorchSeedMLP((128, 64), 1)) == 108_801
    logits = model(images)
    assert tuple(logits.shape) == (6, 1)
    np.testing.assert_allclose(model.predict_proba(images).detach().cpu().numpy(),
                               1 / (1 + np.exp(-logits.detach().cpu().numpy())), rtol=1e-6)
    assert odd_digit_target(mg.tensor([0, 1, 2, 7, 9], device=device)).tolist() == [0, 1, 0, 1, 1]


@needs_torch
@pytest.mark.parametrize("dense", [64, 128])
def test_seed_cnn_shape_and_count(images, dense, device):
    model, twin = SeedCNN(dense=dense).to(device), torch_seed_cnn(dense)
    assert tuple(model(images).shape) == (6, 10)
    assert n_params(model) == n_params(twin) == {64: 121_930, 128: 225_034}[dense]
    assert state_shapes(model) == state_shapes(twin)
    assert tuple(model.features(images).shape) == (6, 64, 5, 5)


@needs_torch
@pytest.mark.parametrize("make", [
    lambda: (SeedMLP(), TorchSeedMLP()),
    lambda: (SeedCNN(dense=64), torch_seed_cnn(64)),
], ids=["mlp", "cnn"])
def test_forward_backward_match_torch(images, make, device):
    model, twin = make()
    copy_weights(twin, model)
    model.to(device)
    labels = np.array([3, 1, 4, 1, 5, 9])
    loss = F.cross_entropy(model(images), mg.tensor(labels, device=device))
    t_loss = TF.cross_entropy(twin(to_torch(images)), torch.from_numpy(labels))
    assert_close(loss, t_loss)
    loss.backward()
    t_loss.backward()
    assert_grads_close(model, twin)


@needs_torch
def test_binary_mlp_bce_with_logits_matches_torch(images, device):
    model, twin = SeedBinaryMLP(), TorchSeedMLP((128, 64), 1)
    copy_weights(twin, model)
    model.to(device)
    target = np.array([[1], [0], [1], [1], [0], [0]], dtype=np.float32)
    loss = F.binary_cross_entropy_with_logits(model(images), mg.tensor(target, device=device))
    t_loss = TF.binary_cross_entropy_with_logits(twin(to_torch(images)),
                                                 torch.from_numpy(target))
    assert_close(loss, t_loss)
    loss.backward()
    t_loss.backward()
    assert_grads_close(model, twin)


def test_seed_mlp_memorises_64_samples(device):
    """64 random 'images' with random labels: an MLP of this size can memorise them, so a
    few dozen Adam steps on the full batch must take training accuracy to 100%."""
    mg.manual_seed(0)
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.random((64, 1, 28, 28), dtype=np.float32), device=device)
    y = mg.tensor(rng.integers(0, 10, 64), device=device)
    model = SeedMLP().to(device)
    opt = mg.optim.Adam(model.parameters(), lr=1e-3)
    first = None
    for _ in range(40):
        loss = F.cross_entropy(model(x), y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with mg.no_grad():
        accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
    assert accuracy == 1.0
    assert loss.item() < 0.05 * first
