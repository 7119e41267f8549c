"""Flat-offset loads and stores for the numba.cuda kernels: four floats at once (``LDG.128``,
``LDS.128``, ``STS.128``, ``STG.128`` in SASS) and one float.

    load4(array, offset) -> (x0, x1, x2, x3)        store4(array, offset, x0, x1, x2, x3)
    load1(array, offset) -> x                       store1(array, offset, x)

``offset`` counts float32 elements from the array's first element, whatever its rank (the
array must be C-contiguous, or a 1-D shared/local array): the caller computes it once in
int32/int64 and avoids numba's per-index 64-bit stride multiplies and negative-index
wraparound (``GPU-kernels.md`` §2 (b), (c)).  ``load4``/``store4`` need the element at
``offset`` to be 16-byte aligned — the caller's contract; a misaligned vector access faults
on a GPU.  numba never vectorises ``a[i] .. a[i+3]`` itself, hence these ``@intrinsic``s:
data pointer → ``gep`` → bitcast to ``<4 x float>*`` → ``load``/``store`` with ``align 16``.

Under the simulator (``NUMBA_ENABLE_CUDASIM=1``) the same names are plain Python twins that
unravel the flat offset into an index of the (host or simulated) array.
"""
from ._launch import SIMULATED

__all__ = ["load4", "store4", "load1", "store1"]


def _index(array, offset):
    """The index tuple of the ``offset``-th element of C-ordered ``array``."""
    index = []
    for size in reversed(array.shape):
        index.append(offset % size)
        offset //= size
    return tuple(reversed(index))


if SIMULATED:
    def load4(array, offset):
        if offset % 4:
            raise IndexError(f"load4 at offset {offset}: not 16-byte aligned")
        return tuple(array[_index(array, offset + i)] for i in range(4))

    def store4(array, offset, x0, x1, x2, x3):
        if offset % 4:
            raise IndexError(f"store4 at offset {offset}: not 16-byte aligned")
        for i, x in enumerate((x0, x1, x2, x3)):
            array[_index(array, offset + i)] = x

    def load1(array, offset):
        return array[_index(array, offset)]

    def store1(array, offset, x):
        array[_index(array, offset)] = x

else:
    from llvmlite import ir
    from numba import types
    from numba.cuda.extending import intrinsic

    _FLOAT = ir.FloatType()
    _VECTOR = ir.VectorType(_FLOAT, 4)
    _I32 = ir.IntType(32)

    def _check(name, array, offset):
        if not isinstance(array, types.Array) or array.dtype != types.float32:
            raise TypeError(f"{name} needs a float32 array, got {array}")
        if not isinstance(offset, types.Integer):
            raise TypeError(f"{name} needs an integer offset, got {offset}")

    def _pointer(context, builder, array_type, array, offset_type, offset):
        data = context.make_array(array_type)(context, builder, value=array).data
        offset = context.cast(builder, offset, offset_type, types.intp)
        return builder.gep(data, [offset])

    @intrinsic
    def load4(typingctx, array, offset):
        _check("load4", array, offset)

        def codegen(context, builder, sig, args):
            pointer = _pointer(context, builder, sig.args[0], args[0], sig.args[1], args[1])
            vector = builder.load(builder.bitcast(pointer, _VECTOR.as_pointer()), align=16)
            values = [builder.extract_element(vector, ir.Constant(_I32, i)) for i in range(4)]
            return context.make_tuple(builder, sig.return_type, values)
        return types.UniTuple(types.float32, 4)(array, offset), codegen

    @intrinsic
    def store4(typingctx, array, offset, x0, x1, x2, x3):
        _check("store4", array, offset)

        def codegen(context, builder, sig, args):
            pointer = _pointer(context, builder, sig.args[0], args[0], sig.args[1], args[1])
            vector = ir.Constant(_VECTOR, ir.Undefined)
            for i, (value, value_type) in enumerate(zip(args[2:], sig.args[2:])):
                value = context.cast(builder, value, value_type, types.float32)
                vector = builder.insert_element(vector, value, ir.Constant(_I32, i))
            builder.store(vector, builder.bitcast(pointer, _VECTOR.as_pointer()), align=16)
            return context.get_dummy_value()
        return types.none(array, offset, x0, x1, x2, x3), codegen

    @intrinsic
    def load1(typingctx, array, offset):
        _check("load1", array, offset)

        def codegen(context, builder, sig, args):
            pointer = _pointer(context, builder, sig.args[0], args[0], sig.args[1], args[1])
            return builder.load(pointer, align=4)
        return types.float32(array, offset), codegen

    @intrinsic
    def store1(typingctx, array, offset, x):
        _check("store1", array, offset)

        def codegen(context, builder, sig, args):
            pointer = _pointer(context, builder, sig.args[0], args[0], sig.args[1], args[1])
            value = context.cast(builder, args[2], sig.args[2], types.float32)
            builder.store(value, pointer, align=4)
            return context.get_dummy_value()
        return types.none(array, offset, x), codegen
