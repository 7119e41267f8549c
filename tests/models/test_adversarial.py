"""models.adversarial: FGSM is ε·sign(∇ₓ loss) clipped to the input range (against torch's
input gradient), PGD stays in the ε-ball and the range, attacks lower the accuracy of a
trained model, and the adversarial-training loss is Goodfellow's mix."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad_models.adversarial import adversarial_loss, fgsm, input_gradient, pgd

try:
    import torch
except ImportError:
    pytest.skip("torch is the oracle here", allow_module_level=True)


def twins(seed=0):
    """A small minigrad MLP and its torch copy."""
    mg.manual_seed(seed)
    ours = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 3))
    theirs = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 8), torch.nn.Tanh(),
                                 torch.nn.Linear(8, 3)).double()
    for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        q.data = torch.tensor(p.detach().numpy(), dtype=torch.float64)
    return ours, theirs


def data(n=16, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (n, 1, 3, 4)), rng.integers(0, 3, n)


def test_fgsm_is_eps_sign_gradient_clipped():
    ours, theirs = twins()
    x, y = data()
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.cross_entropy(theirs(xt), torch.tensor(y)).backward()
    for eps in (0.03, 0.3):
        want = torch.clamp(xt.detach() + eps * xt.grad.sign(), 0, 1).numpy()
        got = fgsm(ours.double(), mg.tensor(x), mg.tensor(y), eps).numpy()
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    grad, _ = input_gradient(ours, mg.tensor(x), mg.tensor(y))
    np.testing.assert_allclose(grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert all(p.grad is None for p in ours.parameters())        # parameters untouched


def test_fgsm_respects_a_normalised_range_and_restores_training_mode():
    ours, _ = twins()
    ours.train()
    x, y = data()
    x = (x - 0.5) / 0.5
    adv = fgsm(ours, mg.tensor(x, dtype=mg.float32), mg.tensor(y), 0.4, -1.0, 1.0).numpy()
    assert adv.min() >= -1 and adv.max() <= 1 and ours.training
    moved = np.abs(adv - x)
    inside = (adv > -1) & (adv < 1)
    np.testing.assert_allclose(moved[inside], 0.4, atol=1e-6)


@pytest.mark.parametrize("eps,steps", [(0.05, 3), (0.2, 7)])
def test_pgd_stays_in_the_eps_ball_and_the_range(eps, steps):
    ours, _ = twins()
    x, y = data()
    mg.manual_seed(3)
    adv = pgd(ours, mg.tensor(x, dtype=mg.float32), mg.tensor(y), eps, steps=steps).numpy()
    assert np.abs(adv - x).max() <= eps + 1e-6
    assert adv.min() >= 0 and adv.max() <= 1
    assert np.abs(adv - x).max() > eps / 2                      # it did move


def blobs(n, seed):
    """Three classes of 3×4 images in [0, 1]: class c is bright in row c, dark elsewhere."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    pattern = np.full((3, 3, 4), 0.25)
    for c in range(3):
        pattern[c, c] = 0.75
    x = np.clip(pattern[y] + 0.1 * rng.standard_normal((n, 3, 4)), 0, 1)
    return x.reshape(n, 1, 3, 4).astype(np.float32), y


def test_attacks_lower_the_accuracy_of_a_trained_model():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = mg.optim.Adam(model.parameters(), lr=0.05)
    x, y = blobs(300, 0)
    for _ in range(60):
        loss = F.cross_entropy(model(mg.tensor(x)), mg.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    xt, yt = blobs(200, 1)

    def acc(inputs):
        with mg.no_grad():
            return (model(inputs).numpy().argmax(1) == yt).mean()

    clean = acc(mg.tensor(xt))
    assert clean > 0.95
    fgsm_acc = acc(fgsm(model, mg.tensor(xt), mg.tensor(yt), 0.25))
    pgd_acc = acc(pgd(model, mg.tensor(xt), mg.tensor(yt), 0.25, steps=10))
    assert fgsm_acc < clean - 0.3 and pgd_acc <= fgsm_acc + 0.02


def test_adversarial_loss_is_the_even_mix():
    ours, _ = twins()
    x, y = data()
    x, y = mg.tensor(x, dtype=mg.float32), mg.tensor(y)
    adv = fgsm(ours, x, y, 0.1)
    want = 0.5 * F.cross_entropy(ours(x), y) + 0.5 * F.cross_entropy(ours(adv), y)
    got = adversarial_loss(ours, x, y, 0.1)
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-6)
    got.backward()
    assert all(p.grad is not None for p in ours.parameters())
