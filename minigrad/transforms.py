"""Image transforms and augmentation with torchvision's names and defaults
(``torchvision.transforms``): ``Compose``, ``ToTensor``, ``Normalize``, ``RandomCrop``,
``RandomHorizontalFlip``, ``RandomVerticalFlip``, ``RandomRotation``, ``RandomAffine``.

An image is an array ``(..., C, H, W)`` or ``(H, W)``: a numpy array or a minigrad Tensor
(the result has the input's kind; a Tensor's values are transformed on the host and come
back on its device, without gradient). Leading dimensions are a batch that shares one
random draw, as in torchvision, where a transform called on a ``(N, C, H, W)`` tensor draws
its parameters once. For a different draw per image, transform each image (a data set's
``transform=`` does: ``MNIST(transform=...)`` calls it on every ``(1, 28, 28)`` image).

Random draws come from minigrad's default generator, so ``minigrad.manual_seed(s)`` makes
a pipeline reproducible (torchvision draws from torch's global generator the same way).

Geometry follows torchvision's tensor path exactly: an angle is in degrees,
counter-clockwise positive; the centre of rotation is the image centre
``((W − 1)/2, (H − 1)/2)``; each output pixel ``p`` (relative to the centre) reads the
input at ``M⁻¹ p`` where ``M = T · C · R S Sh · C⁻¹`` (torchvision's
``_get_inverse_affine_matrix``), sampled by ``nearest`` (default; rounds half to even like
``grid_sample``) or ``bilinear`` interpolation; points outside the image read ``fill``.
"""
import enum
import math
import numbers

import numpy as np

from .creation import default_generator, tensor as make_tensor
from .tensor import Tensor

__all__ = ["Compose", "ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomRotation", "RandomAffine", "InterpolationMode",
           "affine"]


class InterpolationMode(enum.Enum):
    """torchvision's interpolation names (the two an affine warp here supports)."""
    NEAREST = "nearest"
    BILINEAR = "bilinear"


def _host(image):
    """``(numpy array, back)`` where ``back(array)`` returns the input's kind (a Tensor on
    its device, or the array)."""
    if isinstance(image, Tensor):
        device, dtype = image.device, image.dtype

        def back(array):
            return make_tensor(np.ascontiguousarray(array), dtype=dtype, device=device)
        return image.detach().cpu().numpy(), back
    if isinstance(image, np.ndarray):
        return image, lambda array: array
    raise TypeError(f"expected a numpy array or a minigrad Tensor image, got "
                    f"{type(image).__name__}")


def _check_image(array, name):
    if array.ndim < 2:
        raise ValueError(f"{name}: an image needs at least 2 dimensions (H, W), got shape "
                         f"{array.shape}")


def _uniform(low, high):
    return float(default_generator().uniform(low, high))


class Compose:
    """``Compose(transforms)``: apply each transform in turn."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, image):
        for transform in self.transforms:
            image = transform(image)
        return image

    def __repr__(self):
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class ToTensor:
    """``ToTensor()``: an ``(H, W)`` or ``(H, W, C)`` numpy image → a float32 Tensor
    ``(C, H, W)``; uint8 values are divided by 255 (to [0, 1]), other dtypes keep their
    values (torchvision's rule for arrays). A Tensor passes through unchanged."""

    def __call__(self, picture):
        if isinstance(picture, Tensor):
            return picture
        if not isinstance(picture, np.ndarray):
            raise TypeError(f"ToTensor: expected a numpy array, got {type(picture).__name__}")
        if picture.ndim not in (2, 3):
            raise ValueError(f"ToTensor: expected an (H, W) or (H, W, C) image, got shape "
                             f"{picture.shape}")
        array = picture[:, :, None] if picture.ndim == 2 else picture
        array = np.ascontiguousarray(array.transpose(2, 0, 1))
        if array.dtype == np.uint8:
            return make_tensor(array.astype(np.float32) / np.float32(255))
        return make_tensor(array)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Normalize:
    """``Normalize(mean, std, inplace=False)``: ``out[c] = (x[c] − mean[c]) / std[c]``
    over the channel dimension (−3) of a ``(..., C, H, W)`` float image. ``inplace`` writes
    into the input's storage."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, image):
        array, back = _host(image)
        if array.ndim < 3:
            raise ValueError(f"Normalize: expected a (..., C, H, W) image, got shape "
                             f"{array.shape}")
        if array.dtype.kind not in "fV":
            raise TypeError(f"Normalize: input should be a float image, got {array.dtype}")
        mean = np.asarray(self.mean, dtype=array.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=array.dtype).reshape(-1, 1, 1)
        if (std == 0).any():
            raise ValueError(f"std evaluated to zero after conversion to {array.dtype}, "
                             f"leading to division by zero.")
        if self.inplace and isinstance(image, Tensor):
            image.array[...] = (image.array - image.xp.asarray(mean)) / image.xp.asarray(std)
            return image
        if self.inplace:
            array -= mean
            array /= std
            return array
        return back((array - mean) / std)

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


def _pad_amounts(padding):
    """torchvision's padding: int (all sides), (left/right, top/bottom) or
    (left, top, right, bottom) → (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4
    padding = tuple(int(p) for p in padding)
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return padding
    raise ValueError(f"padding must be an int or a 2 or 4 element tuple, got {len(padding)} "
                     f"elements")


_PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect",
              "symmetric": "symmetric"}


def _pad(array, left, top, right, bottom, fill, padding_mode):
    widths = [(0, 0)] * (array.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode == "constant":
        return np.pad(array, widths, mode="constant", constant_values=fill)
    return np.pad(array, widths, mode=_PAD_MODES[padding_mode])


def _pair(size, name):
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    size = tuple(int(s) for s in size)
    if len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(f"{name}: please provide only two dimensions (h, w) for size")
    return size


class RandomCrop:
    """``RandomCrop(size, padding=None, pad_if_needed=False, fill=0,
    padding_mode='constant')``: pad (optionally), then cut a ``size`` window at a uniformly
    drawn position ``i ~ U{0..H−h}``, ``j ~ U{0..W−w}``. ``size`` is an int (square) or
    (h, w); ``padding_mode`` is constant (with ``fill``), edge, reflect or symmetric."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0,
                 padding_mode="constant"):
        self.size = _pair(size, "RandomCrop")
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"padding_mode should be constant, edge, reflect or symmetric, "
                             f"got {padding_mode!r}")
        self.padding = padding
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode

    @staticmethod
    def get_params(image, output_size):
        """``(i, j, h, w)`` of a random crop of ``output_size`` from ``image``."""
        array, _ = _host(image)
        height, width = array.shape[-2:]
        th, tw = output_size
        if height < th or width < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(height, width)}")
        if height == th and width == tw:
            return 0, 0, height, width
        rng = default_generator()
        return int(rng.integers(0, height - th + 1)), int(rng.integers(0, width - tw + 1)), th, tw

    def __call__(self, image):
        array, back = _host(image)
        _check_image(array, "RandomCrop")
        if self.padding is not None:
            array = _pad(array, *_pad_amounts(self.padding), self.fill, self.padding_mode)
        height, width = array.shape[-2:]
        th, tw = self.size
        if self.pad_if_needed and width < tw:
            extra = tw - width
            array = _pad(array, extra, 0, extra, 0, self.fill, self.padding_mode)
        if self.pad_if_needed and height < th:
            extra = th - height
            array = _pad(array, 0, extra, 0, extra, self.fill, self.padding_mode)
        i, j, h, w = self.get_params(array, self.size)
        return back(np.ascontiguousarray(array[..., i:i + h, j:j + w]))

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """``RandomHorizontalFlip(p=0.5)``: with probability ``p`` reverse the width axis."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, image):
        array, back = _host(image)
        _check_image(array, type(self).__name__)
        if default_generator().random() < self.p:
            return back(np.ascontiguousarray(np.flip(array, axis=-1)))
        return image

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """``RandomVerticalFlip(p=0.5)``: with probability ``p`` reverse the height axis."""

    def __call__(self, image):
        array, back = _host(image)
        _check_image(array, type(self).__name__)
        if default_generator().random() < self.p:
            return back(np.ascontiguousarray(np.flip(array, axis=-2)))
        return image


def _inverse_affine_matrix(center, angle, translate, scale, shear):
    """torchvision's ``_get_inverse_affine_matrix``: the 2×3 matrix taking an output point
    to the input point it reads (coordinates as in the module docstring)."""
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty)
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty)
    matrix[2] += cx
    matrix[5] += cy
    return matrix


def _interpolation(mode):
    value = mode.value if isinstance(mode, InterpolationMode) else mode
    if value not in ("nearest", "bilinear"):
        raise ValueError(f"interpolation must be InterpolationMode.NEAREST or BILINEAR, got "
                         f"{mode!r}")
    return value


def affine(image, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST,
           fill=0, center=None):
    """torchvision's ``functional.affine``: rotate by ``angle`` degrees (counter-clockwise),
    translate by ``translate`` = (dx, dy) pixels, scale, and shear by ``shear`` degrees
    (a number: x only, or (sx, sy)); ``center`` (x, y) in pixels, default the image
    centre. Returns the input's kind, shape and dtype."""
    array, back = _host(image)
    _check_image(array, "affine")
    if isinstance(shear, numbers.Number):
        shear = (float(shear), 0.0)
    shear = tuple(float(s) for s in shear) + (0.0,) * (2 - len(tuple(shear)))
    height, width = array.shape[-2:]
    offset = ((width - 1) * 0.5, (height - 1) * 0.5)
    # The tensor path: coordinates relative to the image centre, the angle negated (y down).
    center_f = (0.0, 0.0) if center is None else (center[0] - offset[0], center[1] - offset[1])
    m = _inverse_affine_matrix(center_f, -angle, [float(t) for t in translate], scale, shear)
    ys, xs = np.meshgrid(np.arange(height, dtype=np.float64) - offset[1],
                         np.arange(width, dtype=np.float64) - offset[0], indexing="ij")
    src_x = m[0] * xs + m[1] * ys + m[2] + offset[0]
    src_y = m[3] * xs + m[4] * ys + m[5] + offset[1]
    flat = array.reshape(-1, height, width)
    if _interpolation(interpolation) == "nearest":
        ix, iy = np.rint(src_x).astype(np.int64), np.rint(src_y).astype(np.int64)
        inside = (ix >= 0) & (ix < width) & (iy >= 0) & (iy < height)
        out = flat[:, np.clip(iy, 0, height - 1), np.clip(ix, 0, width - 1)]
        out = np.where(inside, out, np.asarray(fill, dtype=array.dtype))
    else:
        x0, y0 = np.floor(src_x).astype(np.int64), np.floor(src_y).astype(np.int64)
        fx, fy = src_x - x0, src_y - y0
        out = np.zeros((flat.shape[0], height, width), dtype=np.float64)
        mask = np.zeros((height, width), dtype=np.float64)
        for dy, dx, weight in ((0, 0, (1 - fx) * (1 - fy)), (0, 1, fx * (1 - fy)),
                               (1, 0, (1 - fx) * fy), (1, 1, fx * fy)):
            cx, cy = x0 + dx, y0 + dy
            inside = (cx >= 0) & (cx < width) & (cy >= 0) & (cy < height)
            w = np.where(inside, weight, 0.0)
            out += flat[:, np.clip(cy, 0, height - 1), np.clip(cx, 0, width - 1)] * w
            mask += w
        # torchvision blends the fill by the share of the footprint that fell outside.
        out = out + (1.0 - mask) * float(fill)
        if array.dtype.kind in "iub":
            out = np.rint(out)
        out = out.astype(array.dtype)
    return back(out.reshape(array.shape))


def _degree_range(degrees, name):
    if isinstance(degrees, numbers.Number):
        if degrees < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        return (-float(degrees), float(degrees))
    degrees = tuple(float(d) for d in degrees)
    if len(degrees) != 2:
        raise ValueError(f"If {name} is a sequence, it must be of len 2.")
    return degrees


class RandomRotation:
    """``RandomRotation(degrees, interpolation=InterpolationMode.NEAREST, expand=False,
    center=None, fill=0)``: rotate by an angle drawn uniformly from ``(−degrees, degrees)``
    (or the given (min, max)). ``expand=True`` (growing the canvas) is not supported."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0):
        if expand:
            raise NotImplementedError("RandomRotation(expand=True) is not supported: the "
                                      "output keeps the input's size")
        self.degrees = _degree_range(degrees, "degrees")
        self.interpolation = _interpolation(interpolation)
        self.expand, self.center, self.fill = expand, center, fill

    @staticmethod
    def get_params(degrees):
        return _uniform(degrees[0], degrees[1])

    def __call__(self, image):
        angle = self.get_params(self.degrees)
        return affine(image, angle, (0, 0), 1.0, (0.0, 0.0), self.interpolation, self.fill,
                      self.center)

    def __repr__(self):
        return f"{type(self).__name__}(degrees={self.degrees}, interpolation={self.interpolation})"


class RandomAffine:
    """``RandomAffine(degrees, translate=None, scale=None, shear=None,
    interpolation=InterpolationMode.NEAREST, fill=0, center=None)``: torchvision's draw —
    angle ~ U(degrees); translation (round(U(±translate[0]·W)), round(U(±translate[1]·H)));
    scale ~ U(scale); shear a number s → x-shear U(−s, s), (a, b) → x-shear U(a, b),
    (a, b, c, d) → x U(a, b) and y U(c, d) — then ``affine``."""

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation=InterpolationMode.NEAREST, fill=0, center=None):
        self.degrees = _degree_range(degrees, "degrees")
        if translate is not None:
            if len(translate) != 2 or not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError("translate should be a sequence of two values between 0 and 1")
        if scale is not None:
            if len(scale) != 2 or any(s <= 0 for s in scale):
                raise ValueError("scale values should be positive")
        if shear is not None:
            if isinstance(shear, numbers.Number):
                shear = _degree_range(shear, "shear")
            elif len(shear) not in (2, 4):
                raise ValueError("shear should be a number or a sequence of 2 or 4 values")
            shear = tuple(float(s) for s in shear)
        self.translate, self.scale, self.shear = translate, scale, shear
        self.interpolation = _interpolation(interpolation)
        self.fill, self.center = fill, center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """``(angle, (tx, ty), scale, (shear_x, shear_y))``; ``img_size`` is (W, H)."""
        angle = _uniform(degrees[0], degrees[1])
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            translations = (int(round(_uniform(-max_dx, max_dx))),
                            int(round(_uniform(-max_dy, max_dy))))
        else:
            translations = (0, 0)
        scale = _uniform(scale_ranges[0], scale_ranges[1]) if scale_ranges is not None else 1.0
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = _uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = _uniform(shears[2], shears[3])
        return angle, translations, scale, (shear_x, shear_y)

    def __call__(self, image):
        array, _ = _host(image)
        _check_image(array, "RandomAffine")
        height, width = array.shape[-2:]
        angle, translations, scale, shear = self.get_params(
            self.degrees, self.translate, self.scale, self.shear, (width, height))
        return affine(image, angle, translations, scale, shear, self.interpolation, self.fill,
                      self.center)

    def __repr__(self):
        return (f"{type(self).__name__}(degrees={self.degrees}, translate={self.translate}, "
                f"scale={self.scale}, shear={self.shear})")
