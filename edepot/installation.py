"""Whether edepot's top-level import names are edepot's own in this Python environment.

The edepot distribution installs six top-level packages (TOP_LEVEL_NAMES). Generic names such as `kernel` or
`schemas` may also be installed by another distribution; then one overwrites the other's files or comes
first on sys.path, and edepot runs code that is not its own without a word. This module finds such clashes
from the installed distributions' metadata (their top_level.txt, else the modules their RECORD lists),
without importing any of them.
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from importlib.metadata import Distribution, distributions
from pathlib import Path

DISTRIBUTION = "edepot"
TOP_LEVEL_NAMES = ("access", "edepot", "ingest", "kernel", "preservation", "schemas")
_MODULE_SUFFIXES = (".py", ".so", ".pyd")


@dataclass(frozen=True)
class Shadowing:
    """One of edepot's top-level import names that other installed distributions provide too."""

    name: str  # the import name, e.g. "kernel"
    distributions: tuple[str, ...]  # each other distribution providing it, as "name version", sorted

    def message(self) -> str:
        """One line for a person: which name, and which distributions also provide it."""
        return f"the import name '{self.name}' is also provided by {', '.join(self.distributions)}"

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "distributions": list(self.distributions)}


def shadowed_top_level_names() -> list[Shadowing]:
    """Each of edepot's top-level names that a distribution other than edepot also provides, in name order.

    Looks at every distribution visible on sys.path (as importlib.metadata sees them); an empty list means
    every one of TOP_LEVEL_NAMES is edepot's alone. Reads metadata only, so it is safe whatever is installed.
    """
    providers: dict[str, set[str]] = {name: set() for name in TOP_LEVEL_NAMES}
    for dist in distributions():
        name = dist.metadata["Name"]
        if not name or _canonical(name) == DISTRIBUTION:
            continue
        for top in top_level_names(dist) & providers.keys():
            providers[top].add(f"{name} {dist.version}")
    return [Shadowing(name, tuple(sorted(found))) for name, found in providers.items() if found]


def top_level_names(dist: Distribution) -> set[str]:
    """The top-level import names a distribution installs: its top_level.txt, else those its RECORD lists."""
    declared = dist.read_text("top_level.txt")
    if declared:
        return {line.strip() for line in declared.splitlines() if line.strip()}
    names = set()
    for path in dist.files or ():
        if path.parts and path.parts[0] != ".." and path.suffix in _MODULE_SUFFIXES:
            names.add(path.parts[0] if len(path.parts) > 1 else path.name.split(".")[0])
    return names


def _canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them: `Other_Kernel` and `other-kernel` are one."""
    return re.sub(r"[-_.]+", "-", name).lower()


def foreign_import_locations() -> dict[str, str]:
    """Each of edepot's top-level names that Python would import from another folder than `edepot` itself
    (a folder named `kernel` in the working directory, say), with where it would import it from.

    edepot's six packages are installed side by side, in site-packages or in a checkout, so all six resolve
    to one parent folder; an empty dict means they do. Finds the modules without running them.
    """
    home = _parent_of("edepot")
    found = {}
    for name in TOP_LEVEL_NAMES:
        parent = _parent_of(name)
        if parent != home:
            found[name] = str(parent) if parent else "nowhere (not importable)"
    return found


def _parent_of(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return Path(spec.origin).parent if spec and spec.origin else None
    return Path(next(iter(spec.submodule_search_locations))).parent
