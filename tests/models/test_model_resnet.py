"""ResNet-18/34/50 and SmallResNet: torchvision's layout (state_dict keys and shapes, parameter
counts), its initialisation, forward equality with a PyTorch twin, and (when torchvision
is installed) with torchvision itself."""
import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad_models import BasicBlock, Bottleneck, SmallResNet, resnet18, resnet34, resnet50

try:    # torch is the oracle, not a dependency: without it the needs_torch tests skip
    import torch
    import torch.nn.functional as TF
    from tests.models.torch_twins import (TorchBasicBlock, TorchBottleneck, TorchResNet,
                                          TorchSmallResNet, assert_close, assert_grads_close,
                                          copy_weights, n_params, randomise_batchnorm,
                                          state_shapes, to_torch)
except ImportError:
    torch = TorchBasicBlock = TorchBottleneck = None
needs_torch = pytest.mark.skipif(torch is None, reason="needs torch (the oracle)")

TWINS = {"resnet18": (resnet18, TorchBasicBlock, [2, 2, 2, 2], 11_689_512),
         "resnet34": (resnet34, TorchBasicBlock, [3, 4, 6, 3], 21_797_672),
         "resnet50": (resnet50, TorchBottleneck, [3, 4, 6, 3], 25_557_032)}


@needs_torch
@pytest.mark.parametrize("name", list(TWINS))
def test_state_dict_and_count_match_torchvision_layout(name):
    build, block, layers, count = TWINS[name]
    model, twin = build(), TorchResNet(block, layers)
    assert state_shapes(model) == state_shapes(twin)        # keys, order-free, and shapes
    assert list(model.state_dict()) == list(twin.state_dict())   # and the same order
    assert n_params(model) == n_params(twin) == count
    assert "layer2.0.downsample.0.weight" in model.state_dict()
    assert "layer1.0.downsample.0.weight" not in model.state_dict() or name == "resnet50"


def test_torchvision_init():
    model = resnet18(zero_init_residual=True)
    w = model.layer3[0].conv1.weight.detach().numpy()   # (256, 128, 3, 3)
    expected_std = math.sqrt(2.0 / (256 * 3 * 3))            # fan_out = out · kh · kw
    assert abs(w.std() / expected_std - 1) < 0.02
    assert np.all(model.bn1.weight.detach().numpy() == 1)
    assert np.all(model.bn1.bias.detach().numpy() == 0)
    assert np.all(model.layer1[0].bn2.weight.detach().numpy() == 0)  # zero_init_residual
    assert np.all(model.layer1[0].bn1.weight.detach().numpy() == 1)
    assert np.all(resnet50(zero_init_residual=True).layer4[2].bn3.weight.detach().numpy() == 0)
    assert np.all(resnet18().layer1[0].bn2.weight.detach().numpy() == 1)


def test_resnet_shapes_on_small_inputs(device):
    x = mg.randn(2, 3, 64, 64, device=device)
    model = resnet18(num_classes=7).to(device)
    model.eval()
    with mg.no_grad():
        assert tuple(model(x).shape) == (2, 7)
        # 28×28 greyscale through the ImageNet stem: 28 → 14 → 7 → 7 → 4 → 2 → 1
        small = resnet18(num_classes=10, in_channels=1).to(device)
        assert tuple(small(mg.randn(2, 1, 28, 28, device=device)).shape) == (2, 10)


def test_blocks_shapes(device):
    x = mg.randn(2, 16, 8, 8, device=device)
    down = nn.Sequential(nn.Conv2d(16, 32, 1, stride=2, bias=False), nn.BatchNorm2d(32))
    assert tuple(BasicBlock(16, 32, 2, down).to(device)(x).shape) == (2, 32, 4, 4)
    down = nn.Sequential(nn.Conv2d(16, 64, 1, stride=2, bias=False), nn.BatchNorm2d(64))
    assert tuple(Bottleneck(16, 16, 2, down).to(device)(x).shape) == (2, 64, 4, 4)


@needs_torch
@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_eval_forward_matches_torch_twin(name, device):
    build, block, layers, _ = TWINS[name]
    torch.manual_seed(0)
    model, twin = build(num_classes=10), TorchResNet(block, layers, num_classes=10)
    randomise_batchnorm(twin, torch.Generator().manual_seed(0))
    copy_weights(twin, model)
    model.to(device).eval()
    twin.eval()
    x = mg.randn(2, 3, 64, 64, device=device)
    with mg.no_grad(), torch.no_grad():
        assert_close(model(x), twin(to_torch(x)), rtol=1e-4, atol=1e-4)


@needs_torch
def test_small_resnet_train_step_matches_torch_twin(device):
    model, twin = SmallResNet(), TorchSmallResNet()
    assert n_params(model) == n_params(twin) == 309_162
    assert state_shapes(model) == state_shapes(twin)
    randomise_batchnorm(twin, torch.Generator().manual_seed(1))
    copy_weights(twin, model)
    model.to(device)
    x = mg.randn(4, 1, 28, 28, device=device)
    labels = np.array([0, 3, 9, 3])
    logits = model(x)
    assert tuple(logits.shape) == (4, 10)
    loss = F.cross_entropy(logits, mg.tensor(labels, device=device))
    t_loss = TF.cross_entropy(twin(to_torch(x)), torch.from_numpy(labels))
    assert_close(loss, t_loss, rtol=1e-4)
    loss.backward()
    t_loss.backward()
    assert_grads_close(model, twin, rtol=1e-3, atol=1e-5)
    # train-mode BN updated the running statistics the same way
    np.testing.assert_allclose(model.layer2[0].bn1.running_var.detach().cpu().numpy(),
                               twin.layer2[0].bn1.running_var.detach().numpy(), rtol=1e-4)


@needs_torch     # n_params comes with the twins
def test_small_resnet_shapes_and_identity_blocks(device):
    model = SmallResNet(blocks=(2, 1, 1)).to(device)        # zero_init_residual=True
    assert np.all(model.layer1[0].bn2.weight.detach().cpu().numpy() == 0)
    model.eval()
    x = mg.randn(2, 1, 28, 28, device=device)
    with mg.no_grad():
        h = model.relu(model.bn1(model.conv1(x)))
        assert tuple(h.shape) == (2, 32, 28, 28)
        h = model.layer1[0](h)
        assert tuple(h.shape) == (2, 32, 14, 14)
        # a block without a shortcut conv starts as relu(0 + x) = x
        np.testing.assert_allclose(model.layer1[1](h).cpu().numpy(), h.cpu().numpy(), atol=1e-6)
        h = model.layer2(h)
        assert tuple(h.shape) == (2, 64, 7, 7)
        assert tuple(model.layer3(h).shape) == (2, 128, 4, 4)
    assert n_params(SmallResNet(strides=(1, 2, 2))) == 308_074    # no shortcut conv in layer1


@pytest.mark.slow
@needs_torch
@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_matches_torchvision(name):
    """torchvision's own model: weights copied in, same output at 224×224 in eval mode."""
    torchvision = pytest.importorskip("torchvision")
    tv = getattr(torchvision.models, name)()
    randomise_batchnorm(tv, torch.Generator().manual_seed(2))
    tv.eval()
    model = TWINS[name][0]()
    assert state_shapes(model) == state_shapes(tv)
    copy_weights(tv, model)
    model.eval()
    x = mg.randn(1, 3, 224, 224)
    with mg.no_grad(), torch.no_grad():
        assert_close(model(x), tv(to_torch(x)), rtol=1e-3, atol=1e-3)
