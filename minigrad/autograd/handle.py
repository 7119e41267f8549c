"""``RemovableHandle``: what every ``register_*hook`` returns (``torch.utils.hooks``; re-exported as ``minigrad.utils.hooks``).

A hook lives in an ordered table (``OrderedDict``) under an integer id; the handle holds
the table weakly and removes the id from it (and from any extra tables, such as the set
of hooks called with keyword arguments) on ``remove()``, which may be called twice.
"""
import weakref
from collections import OrderedDict

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """A handle which provides the capability to remove a hook (``with handle: ...``
    removes it on exit)."""

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        if extra_dict is None:
            extra_dict = ()
        elif not isinstance(extra_dict, (list, tuple)):
            extra_dict = (extra_dict,)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self):
        hooks_dict = self.hooks_dict_ref()
        if hooks_dict is not None and self.id in hooks_dict:
            del hooks_dict[self.id]
        for ref in self.extra_dict_ref:
            extra = ref()
            if extra is not None and self.id in extra:
                del extra[self.id]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def new_table():
    """A hook table a handle can refer to weakly (a plain dict cannot be weakly referenced)."""
    return OrderedDict()
