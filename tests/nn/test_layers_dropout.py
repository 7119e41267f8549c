"""Dropout layers against torch.nn: reprs; train-mode masking and scaling, evaluation
identity, the probability check."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn


def test_dropout_layer(device):
    torch = pytest.importorskip("torch")
    for ours, theirs in ((nn.Dropout().to(device), torch.nn.Dropout()),
                         (nn.Dropout(0.2, inplace=True).to(device), torch.nn.Dropout(0.2, inplace=True)),
                         (nn.Dropout2d(0.3).to(device), torch.nn.Dropout2d(0.3))):
        assert repr(ours) == repr(theirs)
    layer = nn.Dropout(0.5).to(device)
    x = mg.ones(100, 100, device=device)
    assert layer.training
    y = layer(x).cpu().numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.4 < (y == 0).mean() < 0.6
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 2"):
        nn.Dropout(2).to(device)
