#!/usr/bin/env python3
"""Fails when a crate's top-level modules import each other in a circle (through `crate::`
paths, outside tests and comments): each layer should depend only on the ones below it.
Checks the service (src/), the image readers (imaging/src/) and the command-line client
(cli/src/)."""
import glob
import os
import re
import sys

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TESTS = re.compile(r"#\[cfg\(test\)\]\s*(pub(\(crate\))? )?mod tests \{")

def circles(root):
    deps = {}
    for path in glob.glob(os.path.join(root, "**", "*.rs"), recursive=True):
        module = os.path.relpath(path, root).split(os.sep)[0].removesuffix(".rs")
        # A test module of its own file (`#[cfg(test)] mod tests;`) is a test, too.
        if module in ("main", "lib") or os.path.basename(path) == "tests.rs":
            continue
        code = TESTS.split(open(path).read())[0]
        code = "\n".join(line for line in code.splitlines() if not line.strip().startswith("//"))
        deps.setdefault(module, set()).update(set(re.findall(r"crate::(\w+)", code)) - {module})

    def path_back(start):
        """A chain of imports from `start` back to itself, if there is one."""
        stack = [(start, [start])]
        seen = set()
        while stack:
            module, chain = stack.pop()
            for dep in sorted(deps.get(module, ())):
                if dep == start:
                    return chain + [start]
                if dep not in seen:
                    seen.add(dep)
                    stack.append((dep, chain + [dep]))
        return None

    return {tuple(c) for m in deps if (c := path_back(m))}


found = set()
for crate in ("src", "imaging/src", "cli/src"):
    for cycle in sorted(circles(os.path.join(REPO, crate))):
        found.add(cycle)
        print(f"import circle in {crate}: " + " -> ".join(cycle), file=sys.stderr)
sys.exit(1 if found else 0)
