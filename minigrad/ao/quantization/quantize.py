"""Post-training quantisation of a float model (eager mode, PyTorch's function names).

Dynamic (no calibration)::

    qmodel = quantize_dynamic(model, {nn.Linear}, dtype=qint8)

swaps every ``nn.Linear`` (or each type/name in ``qconfig_spec``) for
``ao.nn.quantized.dynamic.Linear``: int8 per-channel weights, activations quantised per
tensor from their own range at run time.

Static (calibrated)::

    prepared = prepare(model)            # an input observer on every Conv2d and Linear
    for x, _ in calibration_batches:     # a few hundred images are enough
        prepared(x)
    qmodel = convert(prepared)           # int8 Conv2d / Linear with the observed ranges

Differences from PyTorch's eager mode: no ``QuantStub``/``DeQuantStub`` or ``qconfig``
attribute is needed (observers watch each layer's *input*, qint8 affine, which is what the
int8 GEMM consumes), and the converted modules take and return float32 tensors (see
``ao.nn.quantized.modules``). Both functions copy the model unless ``inplace=True``.
"""
import copy
import io

from ... import nn
from ...serialization import save
from ..nn.quantized import Conv2d as QConv2d, Linear as QLinear
from ..nn.quantized.dynamic import Linear as DynamicLinear
from .observer import MinMaxObserver
from ..qparams import per_tensor_affine, qint8

__all__ = ["quantize_dynamic", "prepare", "convert", "model_size_bytes"]

_STATIC = {nn.Linear: QLinear, nn.Conv2d: QConv2d}


def _swap(model, replace):
    """Replace children (recursively) for which ``replace(name, child)`` gives a module."""
    for name, child in list(model.named_children()):
        new = replace(name, child)
        if new is not None:
            setattr(model, name, new)
        else:
            _swap(child, replace)
    return model


def quantize_dynamic(model, qconfig_spec=None, dtype=qint8, mapping=None, inplace=False):
    """Dynamic int8 quantisation of ``model``'s Linear layers.

    ``qconfig_spec``: a set of module types (default ``{nn.Linear}``) or of submodule names
    (``{"fc1", "classifier.1"}``); ``mapping`` maps float types to quantised ones (default
    ``{nn.Linear: ao.nn.quantized.dynamic.Linear}``). Only ``dtype=qint8`` is supported."""
    if dtype is not qint8:
        raise ValueError(f"quantize_dynamic: only dtype=qint8 is supported, got {dtype}")
    mapping = mapping or {nn.Linear: DynamicLinear}
    spec = set(qconfig_spec) if qconfig_spec is not None else {nn.Linear}
    if not inplace:
        model = copy.deepcopy(model)
    names = {n for n in spec if isinstance(n, str)}
    types = tuple(t for t in spec if isinstance(t, type))
    qualified = {id(m): n for n, m in model.named_modules()}

    def replace(name, child):
        wanted = qualified.get(id(child)) in names or (types and isinstance(child, types))
        target = mapping.get(type(child))
        return target.from_float(child) if wanted and target is not None else None

    return _swap(model, replace)


def _observe_input(module, args):
    module.activation_pre_process(args[0])


def prepare(model, inplace=False):
    """Attach a ``MinMaxObserver`` (qint8, per-tensor affine) as
    ``activation_pre_process`` to every ``nn.Conv2d`` and ``nn.Linear``, fed by a forward
    pre-hook; run calibration batches through the result, then ``convert`` it."""
    if not inplace:
        model = copy.deepcopy(model)
    for module in model.modules():
        if type(module) in _STATIC:
            module.activation_pre_process = MinMaxObserver(dtype=qint8,
                                                           qscheme=per_tensor_affine)
            module._observer_handle = module.register_forward_pre_hook(_observe_input)
    return model


def convert(model, inplace=False):
    """Swap every observed Conv2d/Linear of a ``prepare``d, calibrated model for its
    static int8 version (RuntimeError if a layer saw no calibration data)."""
    if not inplace:
        model = copy.deepcopy(model)

    def replace(name, child):
        observer = getattr(child, "_modules", {}).get("activation_pre_process")
        if type(child) not in _STATIC or observer is None:
            return None
        scale, zero = observer.calculate_qparams()
        return _STATIC[type(child)].from_float(child, (scale.array[0], zero.array[0]))

    return _swap(model, replace)


def model_size_bytes(model):
    """Bytes of ``minigrad.save(model.state_dict())``: what a checkpoint of it weighs."""
    buffer = io.BytesIO()
    save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes
