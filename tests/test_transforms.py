"""minigrad.transforms against torchvision's documented semantics (torchvision is not
installed: its tensor path's affine warp is rebuilt from torch's ``affine_grid``-style grid
and ``grid_sample``, which is what torchvision calls) and against exact numpy identities."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import transforms as T


def _image(shape=(1, 8, 8), seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def _torchvision_affine(image, angle, translate, scale, shear, mode):
    """torchvision.transforms.functional.affine's tensor path, step by step:
    ``_get_inverse_affine_matrix(center=(0, 0), -angle, ...)``, ``_gen_affine_grid`` and
    ``grid_sample(align_corners=False, padding_mode='zeros')``."""
    torch = pytest.importorskip("torch")
    c, h, w = image.shape
    m = T._inverse_affine_matrix((0.0, 0.0), -angle, translate, scale, shear)
    theta = torch.tensor(m, dtype=torch.float64).reshape(1, 2, 3)
    base = torch.empty(1, h, w, 3, dtype=torch.float64)
    base[..., 0] = torch.linspace(-w * 0.5 + 0.5, w * 0.5 - 0.5, steps=w, dtype=torch.float64)
    base[..., 1] = torch.linspace(-h * 0.5 + 0.5, h * 0.5 - 0.5, steps=h,
                                  dtype=torch.float64).unsqueeze(-1)
    base[..., 2] = 1
    rescaled = theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h], dtype=torch.float64)
    grid = base.view(1, h * w, 3).bmm(rescaled).view(1, h, w, 2)
    out = torch.nn.functional.grid_sample(torch.from_numpy(image[None].astype(np.float64)),
                                          grid, mode=mode, padding_mode="zeros",
                                          align_corners=False)
    return out[0].numpy()


def test_compose_applies_in_order():
    pipeline = T.Compose([lambda x: x + 1, lambda x: x * 2])
    assert pipeline(np.float32(1)) == 4
    assert "Compose" in repr(T.Compose([T.RandomHorizontalFlip()]))


def test_to_tensor_scales_uint8_and_moves_channels():
    hwc = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    out = T.ToTensor()(hwc)
    assert isinstance(out, mg.Tensor) and out.dtype == mg.float32 and out.shape == (4, 2, 3)
    np.testing.assert_allclose(out.numpy(), hwc.transpose(2, 0, 1) / 255, rtol=1e-6)
    grey = T.ToTensor()(np.full((5, 6), 255, dtype=np.uint8))
    assert grey.shape == (1, 5, 6) and float(grey.numpy().max()) == 1.0
    floats = T.ToTensor()(np.full((2, 2), 7.0, dtype=np.float32))   # not rescaled
    assert float(floats.numpy()[0, 0, 0]) == 7.0
    with pytest.raises(ValueError, match="shape"):
        T.ToTensor()(np.zeros(4, dtype=np.uint8))


def test_normalize_per_channel_keeps_kind_and_dtype():
    x = _image((2, 3, 4, 4))
    mean, std = [0.1, 0.2, 0.3], [0.5, 0.25, 2.0]
    out = T.Normalize(mean, std)(x)
    expected = (x - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    tensor_out = T.Normalize(mean, std)(mg.tensor(x))
    assert isinstance(tensor_out, mg.Tensor) and tensor_out.dtype == mg.float32
    np.testing.assert_allclose(tensor_out.numpy(), expected, rtol=1e-6)
    t = mg.tensor(x)
    assert T.Normalize(mean, std, inplace=True)(t) is t
    np.testing.assert_allclose(t.numpy(), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize([0.0], [0.0])(x[:, :1])


def test_random_crop_with_padding_is_a_window_of_the_padded_image():
    x = _image((1, 6, 6))
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2)))
    seen = set()
    for seed in range(12):
        mg.manual_seed(seed)
        out = T.RandomCrop(6, padding=2)(x)
        mg.manual_seed(seed)
        i, j, h, w = T.RandomCrop.get_params(padded, (6, 6))
        assert out.shape == (1, 6, 6) and out.dtype == np.float32
        np.testing.assert_array_equal(out, padded[:, i:i + h, j:j + w])
        seen.add((i, j))
    assert len(seen) > 3 and all(0 <= i <= 4 and 0 <= j <= 4 for i, j in seen)


def test_random_crop_padding_forms_and_modes():
    x = _image((1, 4, 5))
    mg.manual_seed(0)
    out = T.RandomCrop((8, 7), padding=(1, 2))(x)        # left/right 1, top/bottom 2
    assert out.shape == (1, 8, 7)
    np.testing.assert_array_equal(out, np.pad(x, ((0, 0), (2, 2), (1, 1))))
    full = T.RandomCrop((5, 9), padding=(1, 0, 3, 1), padding_mode="reflect")(x)
    np.testing.assert_array_equal(full, np.pad(x, ((0, 0), (0, 1), (1, 3)), mode="reflect"))
    grown = T.RandomCrop(6, pad_if_needed=True, fill=-1.0)(x)
    assert grown.shape == (1, 6, 6) and (grown == -1.0).any()
    with pytest.raises(ValueError, match="larger than input"):
        T.RandomCrop(9)(x)


def test_random_crop_is_reproducible_under_manual_seed():
    x = _image((3, 1, 10, 10))
    crop = T.RandomCrop(7)
    mg.manual_seed(5)
    first = [crop(x) for _ in range(4)]
    mg.manual_seed(5)
    second = [crop(x) for _ in range(4)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_flips_are_exact():
    x = _image((2, 1, 3, 5))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x), x[..., ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(x), x[..., ::-1, :])
    assert T.RandomHorizontalFlip(p=0.0)(x) is x
    mg.manual_seed(0)
    flips = [not np.array_equal(T.RandomHorizontalFlip()(x), x) for _ in range(200)]
    assert 70 < sum(flips) < 130
    t = T.RandomHorizontalFlip(p=1.0)(mg.tensor(x))
    assert isinstance(t, mg.Tensor)
    np.testing.assert_array_equal(t.numpy(), x[..., ::-1])


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_rotation_by_90_degrees_is_rot90(mode):
    x = _image((2, 1, 6, 6))
    for angle, k in ((90, 1), (-90, -1), (180, 2)):
        out = T.RandomRotation((angle, angle), interpolation=mode)(x)
        np.testing.assert_allclose(out, np.rot90(x, k, axes=(-2, -1)), atol=1e-6)


def test_affine_identity_and_integer_translation():
    x = _image((1, 5, 7))
    np.testing.assert_array_equal(T.affine(x, 0, (0, 0), 1.0, 0), x)
    np.testing.assert_allclose(T.affine(x, 0, (0, 0), 1.0, 0, "bilinear"), x, atol=1e-6)
    shifted = T.affine(x, 0, (2, -1), 1.0, 0, fill=9.0)     # right 2, up 1
    np.testing.assert_array_equal(shifted[:, :-1, 2:], x[:, 1:, :-2])
    assert (shifted[:, :, :2] == 9.0).all() and (shifted[:, -1] == 9.0).all()
    identity = T.RandomAffine(degrees=0)(x)
    np.testing.assert_array_equal(identity, x)


@pytest.mark.parametrize("seed", range(6))
def test_affine_matches_torchvisions_grid_sample_path(seed):
    rng = np.random.default_rng(seed)
    x = _image((2, 9, 11), seed)
    angle, scale = float(rng.uniform(-180, 180)), float(rng.uniform(0.7, 1.3))
    translate = [int(rng.integers(-2, 3)), int(rng.integers(-2, 3))]
    shear = [float(rng.uniform(-20, 20)), float(rng.uniform(-20, 20))]
    ours = T.affine(x, angle, translate, scale, shear, T.InterpolationMode.BILINEAR)
    reference = _torchvision_affine(x, angle, translate, scale, shear, "bilinear")
    np.testing.assert_allclose(ours, reference, atol=1e-5)
    nearest = T.affine(x, angle, translate, scale, shear, "nearest")
    agree = np.isclose(nearest, _torchvision_affine(x, angle, translate, scale, shear,
                                                    "nearest"), atol=1e-6)
    assert agree.mean() > 0.97   # only exact .5 ties may round the other way


def test_random_affine_draws_within_ranges_and_reproduces():
    mg.manual_seed(3)
    params = [T.RandomAffine.get_params((-10, 10), (0.1, 0.2), (0.9, 1.1), (-5, 5, -3, 3),
                                        (28, 20)) for _ in range(50)]
    for angle, (tx, ty), scale, (sx, sy) in params:
        assert -10 <= angle <= 10 and abs(tx) <= 3 and abs(ty) <= 4
        assert isinstance(tx, int) and 0.9 <= scale <= 1.1 and abs(sx) <= 5 and abs(sy) <= 3
    x = _image((1, 12, 12))
    pipeline = T.RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5)
    mg.manual_seed(1)
    a = pipeline(x)
    mg.manual_seed(1)
    b = pipeline(x)
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and a.dtype == x.dtype and not np.array_equal(a, x)
    with pytest.raises(ValueError, match="translate"):
        T.RandomAffine(0, translate=(1.5, 0))


def test_uint8_images_stay_uint8():
    x = (np.arange(36, dtype=np.uint8) * 7).reshape(1, 6, 6)
    out = T.RandomRotation((30, 30), interpolation="bilinear")(x)
    assert out.dtype == np.uint8 and out.shape == x.shape
    assert math.isclose(float(np.rot90(x).sum()), float(T.affine(x, 90, (0, 0), 1.0, 0).sum()))


def test_dataset_transform_runs_per_image():
    from minigrad.datasets import MNIST
    try:
        ds = MNIST(train=False, download=False,
                   transform=T.Compose([T.RandomCrop(28, padding=2), T.Normalize([0.1307], [0.3081])]))
    except RuntimeError:
        pytest.skip("MNIST is not cached on this machine")
    image, label = ds[0]
    assert isinstance(image, mg.Tensor) and image.shape == (1, 28, 28) and label == 7
