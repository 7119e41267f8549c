"""End to end: a DCGAN-style generator (ConvTranspose2d + BatchNorm2d + ReLU + Tanh, as in
pytorch/examples' dcgan) and a small encoder/decoder using Conv1d, GroupNorm, Upsample,
PixelShuffle and the new activations, built the same way in minigrad and torch from the
same weights: outputs and every parameter gradient agree in float64."""
import numpy as np
import pytest

import minigrad.nn as nn
from tests.nn.parity import compare_modules, leaf


def _generator(lib, nz=8, ngf=4, nc=3):
    return lib.Sequential(
        lib.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), lib.BatchNorm2d(ngf * 4),
        lib.ReLU(True),
        lib.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), lib.BatchNorm2d(ngf * 2),
        lib.ReLU(True),
        lib.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False), lib.Tanh())


def _decoder(lib):
    return lib.Sequential(
        lib.Conv2d(3, 8, 3, padding=1), lib.GroupNorm(2, 8), lib.Mish(),
        lib.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
        lib.Conv2d(8, 8, 3, padding=1, padding_mode="reflect"), lib.Hardswish(),
        lib.PixelShuffle(2), lib.InstanceNorm2d(2, affine=True), lib.SELU(),
        lib.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1), lib.Softsign())


def test_dcgan_generator_matches_torch(device):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ours, theirs = _generator(nn), _generator(torch.nn)
    z = leaf(np.random.default_rng(0).standard_normal((2, 8, 1, 1)), device=device)
    compare_modules(torch, ours, theirs, z)


def test_encoder_decoder_matches_torch(device):
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    ours, theirs = _decoder(nn), _decoder(torch.nn)
    x = leaf(np.random.default_rng(1).standard_normal((2, 3, 5, 6)), device=device)
    compare_modules(torch, ours, theirs, x)


def test_conv1d_sequence_model_matches_torch(device):
    torch = pytest.importorskip("torch")
    torch.manual_seed(2)

    def build(lib):
        return lib.Sequential(lib.Conv1d(4, 6, 3, padding="same"), lib.CELU(0.5),
                              lib.MaxPool1d(2), lib.Conv1d(6, 6, 3, groups=2, dilation=2),
                              lib.GLU(dim=1), lib.AdaptiveAvgPool1d(2), lib.Flatten(),
                              lib.Linear(6, 3), lib.LogSigmoid())

    ours, theirs = build(nn), build(torch.nn)
    x = leaf(np.random.default_rng(2).standard_normal((3, 4, 17)), device=device)
    compare_modules(torch, ours, theirs, x)
