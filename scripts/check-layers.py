# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that service/'s layers hold: no #include runs back up a layer.

Each folder service/LAYER/ with a meson.build is a layer; the layers it may include are the
ones its meson.build names as tws_OTHER_dep (and, transitively, theirs), so service/*/meson.build
is the one place the layering is written. Fails (exit 1) on:
  - an #include "service/X/..." of a layer that LAYER does not depend on;
  - a cycle among the layers' declared dependencies;
  - a C++ file under service/ outside every layer;
  - an #include "service/..." from common/, gst/ or pipelines/ (they sit below service/);
  - an #include "service/..." of a file that does not exist;
  - a cycle among service/'s files (a .h and its .cpp counted as one).
Usage: check-layers.py [SOURCE_ROOT]   (default: the checkout this script is in)
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"(service/[^"]+)"', re.M)
DEP = re.compile(r"\btws_(\w+)_dep\b")
SOURCES = (".cpp", ".h", ".c", ".cc", ".hpp")
BELOW_SERVICE = ("common", "gst", "pipelines")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def sources(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "node_modules")
        for name in sorted(filenames):
            if name.endswith(SOURCES):
                yield os.path.join(dirpath, name)


def layer_deps(service):
    """{layer: set of layers its meson.build depends on directly}."""
    deps = {}
    for name in sorted(os.listdir(service)):
        build = os.path.join(service, name, "meson.build")
        if os.path.isfile(build):
            deps[name] = set(DEP.findall(read(build))) - {name}
    return deps


def cycle(graph):
    """A cycle in {node: successors} as a list of nodes, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        path.append(node)
        for succ in sorted(graph.get(node, ())):
            if state.get(succ) == "open":
                return path[path.index(succ):] + [succ]
            if succ not in state:
                found = visit(succ, path)
                if found:
                    return found
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


def closure(deps, layer):
    seen, todo = set(), [layer]
    while todo:
        for d in deps.get(todo.pop(), ()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), ".."))
    service = os.path.join(root, "service")
    deps = layer_deps(service)
    errors = []
    for layer, ds in sorted(deps.items()):
        for d in sorted(ds - set(deps)):
            errors.append(f"service/{layer}/meson.build: tws_{d}_dep is not a layer")
    found = cycle(deps)
    if found:
        errors.append("the layers' dependencies have a cycle: " + " -> ".join(found))
    allowed = {layer: closure(deps, layer) | {layer} for layer in deps}

    files = {}  # module (path without extension, relative to root) -> included modules
    for path in sources(service):
        rel = os.path.relpath(path, root)
        parts = rel.split(os.sep)
        layer = parts[1] if len(parts) > 2 else None
        if layer not in deps:
            errors.append(f"{rel}: not in a layer (a folder of service/ with a meson.build)")
            continue
        module = os.path.splitext(rel)[0]
        targets = files.setdefault(module, set())
        for n, line in enumerate(read(path).splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            header = m.group(1)
            if not os.path.isfile(os.path.join(root, header)):
                errors.append(f"{rel}:{n}: {header} does not exist")
                continue
            to = header.split("/")[1]
            if to not in deps:
                errors.append(f"{rel}:{n}: {header} is not in a layer")
            elif to not in allowed[layer]:
                errors.append(f"{rel}:{n}: {layer} includes {header} of the layer {to} above "
                              f"it (service/{layer}/meson.build does not depend on tws_{to}_dep)")
            target = os.path.splitext(header)[0]
            if target != module:
                targets.add(target)
    found = cycle(files)
    if found:
        errors.append("service/'s files include each other in a cycle: " + " -> ".join(found))

    for below in BELOW_SERVICE:
        for path in sources(os.path.join(root, below)):
            for n, line in enumerate(read(path).splitlines(), 1):
                if INCLUDE.match(line):
                    errors.append(f"{os.path.relpath(path, root)}:{n}: {below}/ includes service/")

    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        return 1
    order = sorted(deps, key=lambda layer: (len(allowed[layer]), layer))
    print(f"{len(files)} modules in {len(deps)} layers, no include runs up a layer: "
          + " < ".join(order))
    return 0


if __name__ == "__main__":
    sys.exit(main())
