"""SHIM of torchvision.models: runs torchvision's own ``models/resnet.py`` (from the
torchvision wheel, put in ``benchmarks/programs/_fetched/torchvision/`` by
``run.py --prepare``) with stand-ins for the helpers it imports from torchvision."""
import enum
import os
import sys
import types

_SRC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "_fetched", "torchvision",
                    "models", "resnet.py")


class Weights:
    def __init__(self, url, transforms, meta):
        self.url, self.transforms, self.meta = url, transforms, meta


class WeightsEnum(enum.Enum):
    @classmethod
    def verify(cls, obj):
        if isinstance(obj, str):
            obj = cls[obj.replace(cls.__name__ + ".", "")]
        elif obj is not None and not isinstance(obj, cls):
            raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} "
                            f"but received {obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args, **kwargs):
        raise RuntimeError("pretrained weights need a download (not available in the shim)")


def _module(name, **attrs):
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    sys.modules[name] = mod
    return mod


def _ovewrite_named_param(kwargs, param, new_value):
    if param in kwargs and kwargs[param] != new_value:
        raise ValueError(f"The parameter '{param}' expected value {new_value} "
                         f"but got {kwargs[param]} instead.")
    kwargs[param] = new_value


_module(__name__ + "._api", Weights=Weights, WeightsEnum=WeightsEnum,
        register_model=lambda name=None: (lambda fn: fn))
_module(__name__ + "._meta", _IMAGENET_CATEGORIES=[f"class{i}" for i in range(1000)])
_module(__name__ + "._utils", _ovewrite_named_param=_ovewrite_named_param,
        handle_legacy_interface=lambda **kw: (lambda fn: fn))
_module("torchvision.transforms._presets", ImageClassification=object)


def _load_resnet():
    path = os.path.abspath(_SRC)
    if not os.path.isfile(path):
        raise ImportError(f"{path} is missing: run "
                          "`python -m minigrad_benchmarks.programs.run --prepare`")
    name = __name__ + ".resnet"
    mod = types.ModuleType(name)
    mod.__file__, mod.__package__ = path, __name__
    sys.modules[name] = mod
    with open(path, encoding="utf-8") as f:
        exec(compile(f.read(), path, "exec"), mod.__dict__)
    return mod


resnet = _load_resnet()
ResNet = resnet.ResNet
resnet18, resnet34, resnet50 = resnet.resnet18, resnet.resnet34, resnet.resnet50
