"""The house's import rules, read from the source with ``ast`` (no module is executed):

* no import cycle among the modules of ``minigrad`` and ``kernels`` (imports inside
  functions count: they are how cycles hide);
* ``minigrad/tensor.py`` is the bottom of the core: it imports only ``dtypes``, ``device``
  and ``printing`` (leaves) of minigrad's own modules;
* no function-local import of a minigrad module in ``minigrad/`` except the allow-list
  below, each entry with its reason;
* no module fills in another module's globals (``function.Tensor = Tensor``), and only
  ``minigrad/tensor_methods.py`` attaches attributes to ``Tensor``.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: package folder -> import name (the folders install under distinct names, see setup.py)
PACKAGES = {"minigrad": "minigrad", "kernels": "minigrad_kernels"}

#: file -> why a function-local import of an own module is right there.
LOCAL_IMPORT_ALLOWED = {}


def modules():
    """{module name: (path, is_package)} for every .py file of the packages."""
    found = {}
    for folder, name in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = [name, *path.relative_to(ROOT / folder).with_suffix("").parts]
            is_package = parts[-1] == "__init__"
            found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def imports(path, module, is_package):
    """[(imported module or module.attribute, inside a function?, line)] of one file."""
    result = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                result.extend((alias.name, in_function, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    package = module.split(".") if is_package else module.split(".")[:-1]
                    package = package[:len(package) - (child.level - 1)]
                    base = ".".join(package + ([base] if base else []))
                result.extend((f"{base}.{alias.name}", in_function, child.lineno)
                              for alias in child.names)
            visit(child, inside)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return result


def resolve(target, known):
    """The known module an import names (``a.b.c`` -> ``a.b`` when c is an attribute)."""
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def import_graph():
    known = modules()
    graph = {name: set() for name in known}
    for name, (path, is_package) in known.items():
        for target, _, _ in imports(path, name, is_package):
            resolved = resolve(target, known)
            # a package's __init__ only gathers names; an edge into it is no dependency
            if resolved and resolved != name and not known[resolved][1]:
                graph[name].add(resolved)
    return graph


def find_cycle(graph):
    """One cycle as a list of modules, or None (iterative depth-first search)."""
    state = {}
    for start in graph:
        if start in state:
            continue
        path, stack = [], [(start, iter(sorted(graph[start])))]
        state[start] = "open"
        path.append(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = "done"
            elif state.get(child) == "open":
                return path[path.index(child):] + [child]
            elif child not in state:
                state[child] = "open"
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return None


def test_no_import_cycles():
    assert find_cycle(import_graph()) is None


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]


def test_tensor_module_is_the_bottom_of_the_core():
    path = ROOT / "minigrad" / "tensor.py"
    own = {resolve(target, modules()) for target, _, _ in imports(path, "minigrad.tensor", False)}
    own.discard(None)
    assert own <= {"minigrad.dtypes", "minigrad.device", "minigrad.printing"}, own


def test_no_function_local_imports_of_own_modules():
    known = modules()
    offenders = []
    for name, (path, is_package) in known.items():
        relative = str(path.relative_to(ROOT))
        for target, in_function, line in imports(path, name, is_package):
            if in_function and resolve(target, known) and relative not in LOCAL_IMPORT_ALLOWED:
                offenders.append(f"{relative}:{line} imports {target}")
    assert not offenders, "\n".join(offenders)


def test_no_module_fills_in_another_modules_globals():
    offenders = []
    for name, (path, _) in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_aliases = {alias.asname or alias.name for node in ast.walk(tree)
                          if isinstance(node, (ast.Import, ast.ImportFrom))
                          for alias in node.names}
        for node in ast.walk(tree):
            targets = (node.targets if isinstance(node, ast.Assign) else
                       [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            for target in flat:
                if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id in module_aliases and target.value.id[0].islower()):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} sets "
                                     f"{target.value.id}.{target.attr}")
                if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id == "Tensor"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} sets "
                                     f"Tensor.{target.attr}")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "setattr" and node.args
                    and isinstance(node.args[0], ast.Name) and node.args[0].id == "Tensor"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} setattr(Tensor, ...)")
    assert not offenders, "\n".join(offenders)


def test_functions_with_their_own_vjps_live_in_ops():
    """nn.functional checks arguments and composes; every Function subclass is in ops/."""
    offenders = []
    for path in (ROOT / "minigrad" / "nn").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(base, "id", getattr(base, "attr", None)) == "Function"
                    for base in node.bases):
                offenders.append(f"{path.relative_to(ROOT)}: class {node.name}")
    assert not offenders, "\n".join(offenders)
