"""``cupy.cuda`` of the fake CuPy: one always-present device 0, a null stream, no kernels."""
import contextlib


def is_available():
    return True


class Device:
    """``cupy.cuda.Device(id)``: only device 0 exists here."""

    def __init__(self, device=None):
        device = 0 if device is None else int(getattr(device, "id", device))
        if device != 0:
            raise RuntimeError(f"CUDARuntimeError: cudaErrorInvalidDevice: invalid device ordinal "
                               f"(the fake CuPy has device 0 only, got {device})")
        self.id = device

    def use(self):
        pass

    def synchronize(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class Stream:
    """A stream whose work is always finished (the fake computes synchronously)."""

    null = None

    def __init__(self, null=False, non_blocking=False, ptr=0):
        self.ptr = 0 if null else id(self)

    def synchronize(self):
        pass

    def use(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


Stream.null = Stream(null=True)


def get_current_stream(device_id=None):
    return Stream.null


class runtime:
    """``cupy.cuda.runtime``: the device count."""

    @staticmethod
    def getDeviceCount():
        return 1


def get_device_id():
    return 0


@contextlib.contextmanager
def using_allocator(allocator=None):
    yield
