"""An AST-based checker of the layering and bounded-context import rules.

`violations(src_root)` parses every .py file under `src_root` (without importing anything) and returns
one readable line per offending import: `path:line: [rule] module imports target (why)`.

Rules
  domain-purity        `domain` imports only the standard library and `domain` itself.
  application-purity   `application` imports only the standard library, `domain`, `application` and
                       `msgspec`: never `adapters`, `entrypoints`, a framework or a driver.
  adapter-contexts     in `adapters/**`, a module that belongs to bounded context X (a path segment or
                       module file name equal to a context name) never imports a module of `adapters`
                       that belongs to another context Y; modules of no context are free.
  core-contexts        a `domain`/`application` module of context X never imports `domain.Y` or
                       `application.Y` of another context Y, except the shared kernel
                       (`domain.shared`, `application.shared`, `application.ports`).

Every import counts: `import x`, `from x import y`, relative imports (resolved to absolute names),
imports nested in functions, classes or `if TYPE_CHECKING:` blocks.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CONTEXTS", "CORE_SHARED", "Import", "violations"]

CONTEXTS = frozenset({
    "identity", "policies", "uploads", "messaging", "campaigns", "reminders", "inbox", "assistant", "surveys", "claims",
    "files", "notifications", "payments", "analytics",
})
LAYERS = frozenset({"domain", "application", "adapters", "entrypoints"})
STDLIB = frozenset(sys.stdlib_module_names)
APPLICATION_THIRD_PARTY = frozenset({"msgspec"})
# second segment of `domain.*` / `application.*` that any context may import
CORE_SHARED = {"domain": frozenset({"shared"}), "application": frozenset({"shared", "ports"})}


@dataclass(frozen=True, slots=True)
class Import:
    path: Path          # the file, relative to src_root
    line: int
    module: str         # the importing module, e.g. "adapters.sqlalchemy.repositories.claims"
    target: str         # the absolute module imported, e.g. "adapters.sqlalchemy.tables.policies"

    def report(self, rule: str, why: str) -> str:
        return f"{self.path.as_posix()}:{self.line}: [{rule}] {self.module} imports {self.target} ({why})"


def violations(src_root: Path) -> list[str]:
    """Every import under `src_root` that breaks a rule, sorted by file and line."""
    src_root = Path(src_root)
    found: list[str] = []
    for file in sorted(src_root.rglob("*.py")):
        rel = file.relative_to(src_root)
        if rel.parts[0] not in LAYERS:
            continue
        for item in _imports(src_root, rel):
            found.extend(_check(item))
    return found


# --- reading imports ----------------------------------------------------------------------------------

def _module_name(rel: Path) -> tuple[str, bool]:
    """("a.b.c", is_package) for `a/b/c.py` or `a/b/c/__init__.py`."""
    parts = list(rel.with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _is_module(src_root: Path, dotted: str) -> bool:
    base = src_root.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _imports(src_root: Path, rel: Path) -> Iterator[Import]:
    module, is_package = _module_name(rel)
    tree = ast.parse((src_root / rel).read_text(encoding="utf-8"), filename=str(rel))
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(rel, node.lineno, module, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level - 1 >= len(package) or not package:
                    yield Import(rel, node.lineno, module, "." * node.level + (node.module or ""))
                    continue
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            if base == "__future__":
                continue
            for alias in node.names:
                # `from pkg import sub` imports the module pkg.sub when there is one
                candidate = f"{base}.{alias.name}"
                target = candidate if alias.name != "*" and _is_module(src_root, candidate) else base
                yield Import(rel, node.lineno, module, target)


# --- the rules ----------------------------------------------------------------------------------------

def _adapter_contexts(dotted: str) -> set[str]:
    return {part for part in dotted.split(".")[1:] if part in CONTEXTS}


def _core_context(dotted: str) -> str | None:
    """The bounded context of a `domain.X...`/`application.X...` module, None for the shared kernel."""
    parts = dotted.split(".")
    if len(parts) < 2 or parts[0] not in CORE_SHARED or parts[1] in CORE_SHARED[parts[0]]:
        return None
    return parts[1]


def _check(item: Import) -> Iterator[str]:
    if item.target.startswith("."):
        yield item.report("relative-import", "relative import beyond the top-level package")
        return
    layer = item.module.split(".")[0]
    top = item.target.split(".")[0]

    if layer == "domain" and top not in STDLIB and top != "domain":
        yield item.report("domain-purity", "domain may import only the standard library and domain")
    if layer == "application" and top not in STDLIB | APPLICATION_THIRD_PARTY | {"domain", "application"}:
        what = "an outer layer" if top in LAYERS else "a third-party package"
        yield item.report("application-purity",
                          f"application may import only the standard library, domain, application and "
                          f"msgspec; {top} is {what}")

    if layer == "adapters" and top == "adapters":
        mine = _adapter_contexts(item.module)
        theirs = _adapter_contexts(item.target) - mine
        if mine and theirs:
            yield item.report("adapter-contexts",
                              f"adapters of context {'/'.join(sorted(mine))} must not import adapters of "
                              f"context {'/'.join(sorted(theirs))}")

    if layer in CORE_SHARED and top in CORE_SHARED:
        mine_core = _core_context(item.module)
        theirs_core = _core_context(item.target)
        if mine_core and theirs_core and theirs_core != mine_core:
            yield item.report("core-contexts",
                              f"context {mine_core} must not reach into context {theirs_core}; go through "
                              f"an application service, an event or the shared kernel")
