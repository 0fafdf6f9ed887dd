"""The real source tree keeps the import rules, and the checker really catches each kind of violation."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from tests.architecture.import_rules import violations

SRC = Path(__file__).resolve().parents[2] / "src"


def make_tree(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (relative path -> source) under `root`, adding `__init__.py` to every package."""
    for rel, source in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(source), encoding="utf-8")
        for parent in path.relative_to(root).parents:
            init = root / parent / "__init__.py"
            if parent != Path(".") and not init.exists():
                init.write_text("", encoding="utf-8")
    return root


# a small tree that keeps every rule; each violation test adds one file to it
CLEAN = {
    "domain/shared/errors.py": """
        from __future__ import annotations
        import dataclasses
        from datetime import date
        class NotFound(Exception): ...
    """,
    "domain/policies/model.py": """
        from domain.shared.errors import NotFound
        from . import rules
        from .rules import validate
    """,
    "domain/policies/rules.py": "def validate() -> None: ...\n",
    "domain/claims/model.py": "from ..shared import errors\n",
    "application/ports/uow.py": "import msgspec\nfrom typing import Protocol\n",
    "application/shared/pagination.py": "from domain.shared.errors import NotFound\n",
    "application/policies/service.py": """
        import msgspec
        from application.ports.uow import Protocol
        from application.shared import pagination
        from domain.policies.model import rules
        from ..ports import uow
        def later() -> None:
            import json
            from domain.shared import errors
    """,
    "adapters/memory/store.py": "import collections\n",
    "adapters/sqlalchemy/metadata.py": "import sqlalchemy\n",
    "adapters/sqlalchemy/tables/__init__.py": "from adapters.sqlalchemy.tables import claims, policies\n",
    "adapters/sqlalchemy/tables/policies.py": """
        from sqlalchemy import Table
        from adapters.sqlalchemy.metadata import metadata
        from ..metadata import metadata as again
    """,
    "adapters/sqlalchemy/tables/claims.py": "from adapters.sqlalchemy.metadata import metadata\n",
    "adapters/sqlalchemy/repositories/policies.py": """
        from adapters.sqlalchemy.tables.policies import policies
        from adapters.sqlalchemy.tables import policies as table_module
        from adapters.memory.store import collections
        from application.claims import anything
    """,
    "adapters/sqlalchemy/uow.py": "from adapters.sqlalchemy.repositories import policies\n",
    "entrypoints/container.py": """
        import litestar
        from adapters.sqlalchemy.tables import claims, policies
    """,
}


def tree_with(tmp_path: Path, rel: str, source: str) -> Path:
    return make_tree(tmp_path, {**CLEAN, rel: source})


def only(found: list[str], rule: str, *fragments: str) -> str:
    assert len(found) == 1, "\n".join(found) or "no violation reported"
    line = found[0]
    assert f"[{rule}]" in line, line
    for fragment in fragments:
        assert fragment in line, line
    return line


def test_the_real_source_tree_keeps_every_import_rule() -> None:
    found = violations(SRC)
    assert found == [], "import rule violations:\n" + "\n".join(found)


def test_the_checker_sees_the_real_tree() -> None:
    """Guard against a vacuous pass: the real tree has the layers the rules talk about."""
    for layer in ("domain", "application", "adapters", "entrypoints"):
        assert any((SRC / layer).rglob("*.py")), layer


def test_a_clean_tree_reports_nothing(tmp_path: Path) -> None:
    assert violations(make_tree(tmp_path, CLEAN)) == []


# --- (a) domain purity --------------------------------------------------------------------------------

def test_domain_importing_a_driver_is_reported(tmp_path: Path) -> None:
    root = tree_with(tmp_path, "domain/policies/model.py",
                     "from domain.shared import errors\nimport sqlalchemy\n")
    only(violations(root), "domain-purity", "domain/policies/model.py:2", "sqlalchemy")


@pytest.mark.parametrize("statement", [
    "import msgspec",
    "from application.policies import service",
    "from adapters.memory.store import collections",
    "import entrypoints.container",
])
def test_domain_importing_anything_but_stdlib_and_domain_is_reported(tmp_path: Path, statement: str) -> None:
    root = tree_with(tmp_path, "domain/shared/extra.py", statement + "\n")
    only(violations(root), "domain-purity", "domain/shared/extra.py:1")


def test_domain_import_nested_in_a_function_is_reported(tmp_path: Path) -> None:
    source = """
        import datetime

        def convert() -> None:
            import litestar
    """
    root = tree_with(tmp_path, "domain/policies/rules.py", source)
    only(violations(root), "domain-purity", "domain/policies/rules.py:5", "litestar")


def test_domain_relative_import_into_another_context_is_reported(tmp_path: Path) -> None:
    """`from ..policies import rules` in domain/claims/model.py resolves to domain.policies.rules."""
    root = tree_with(tmp_path, "domain/claims/model.py",
                     "from ..shared import errors\nfrom ..policies import rules\n")
    only(violations(root), "core-contexts", "domain/claims/model.py:2", "imports domain.policies.rules")


# --- (b) application purity ---------------------------------------------------------------------------

def test_application_importing_adapters_is_reported(tmp_path: Path) -> None:
    root = tree_with(tmp_path, "application/x.py", "from adapters.memory import store\n")
    only(violations(root), "application-purity", "application/x.py:1", "adapters.memory.store",
         "outer layer")


@pytest.mark.parametrize("package", [
    "sqlalchemy", "litestar", "arq", "redis", "asyncpg", "aioboto3", "httpx", "openai", "structlog",
    "entrypoints",
])
def test_application_importing_a_framework_or_driver_is_reported(tmp_path: Path, package: str) -> None:
    source = f"""
        import msgspec
        from domain.shared.errors import NotFound

        def run() -> None:
            from {package} import something
    """
    root = tree_with(tmp_path, "application/policies/service.py", source)
    only(violations(root), "application-purity", "application/policies/service.py:6", package)


def test_a_relative_import_cannot_smuggle_an_outer_layer_in(tmp_path: Path) -> None:
    """Layers are separate top-level packages: `from ...adapters import x` is beyond the top level."""
    root = tree_with(tmp_path, "application/policies/service.py",
                     "from ...adapters.sqlalchemy import metadata\n")
    only(violations(root), "relative-import", "application/policies/service.py:1", "...adapters.sqlalchemy")


# --- (c) adapters of one context never import adapters of another ---------------------------------------

def test_adapter_of_one_context_importing_another_contexts_adapter_is_reported(tmp_path: Path) -> None:
    root = tree_with(tmp_path, "adapters/sqlalchemy/repositories/claims.py",
                     "from adapters.sqlalchemy.tables.policies import policies\n")
    only(violations(root), "adapter-contexts", "adapters/sqlalchemy/repositories/claims.py:1",
         "adapters.sqlalchemy.tables.policies", "context claims", "context policies")


def test_adapter_from_package_import_of_another_contexts_module_is_reported(tmp_path: Path) -> None:
    """`from adapters.sqlalchemy.tables import policies` imports the module tables/policies.py."""
    root = tree_with(tmp_path, "adapters/sqlalchemy/tables/claims.py",
                     "from adapters.sqlalchemy.tables import policies\n")
    only(violations(root), "adapter-contexts", "adapters/sqlalchemy/tables/claims.py:1",
         "adapters.sqlalchemy.tables.policies")


def test_adapter_relative_import_of_another_context_is_reported(tmp_path: Path) -> None:
    root = tree_with(tmp_path, "adapters/sqlalchemy/repositories/claims.py",
                     "from adapters.sqlalchemy.metadata import metadata\n"
                     "from ..tables.policies import policies\n")
    only(violations(root), "adapter-contexts", "adapters/sqlalchemy/repositories/claims.py:2",
         "imports adapters.sqlalchemy.tables.policies")


def test_adapter_context_given_by_a_directory_segment(tmp_path: Path) -> None:
    root = tree_with(tmp_path, "adapters/campaigns/sender.py",
                     "def send() -> None:\n    from adapters.inbox import mailbox\n")
    make_tree(tmp_path, {"adapters/inbox/mailbox.py": ""})
    only(violations(root), "adapter-contexts", "adapters/campaigns/sender.py:2", "context campaigns",
         "context inbox")


def test_adapters_of_no_context_and_same_context_imports_are_free(tmp_path: Path) -> None:
    extra = {
        "adapters/sqlalchemy/outbox.py": "from adapters.sqlalchemy.tables import claims, policies\n",
        "adapters/sqlalchemy/read_models/policies.py": """
            from adapters.sqlalchemy.tables.policies import policies
            from adapters.sqlalchemy.metadata import metadata
            from adapters.memory.store import collections
        """,
    }
    assert violations(make_tree(tmp_path, {**CLEAN, **extra})) == []


# --- (d) domain/application contexts talk only through the shared kernel -----------------------------

def test_domain_context_importing_another_domain_context_is_reported(tmp_path: Path) -> None:
    root = tree_with(tmp_path, "domain/claims/model.py", "from domain.policies.model import rules\n")
    only(violations(root), "core-contexts", "domain/claims/model.py:1", "context claims",
         "context policies")


def test_application_context_importing_another_contexts_internals_is_reported(tmp_path: Path) -> None:
    root = tree_with(tmp_path, "application/claims/service.py",
                     "from application.shared import pagination\nfrom ..policies import service\n")
    only(violations(root), "core-contexts", "application/claims/service.py:2",
         "imports application.policies.service")


def test_application_context_importing_another_contexts_domain_is_reported(tmp_path: Path) -> None:
    root = tree_with(tmp_path, "application/claims/service.py", "from domain import policies\n")
    only(violations(root), "core-contexts", "imports domain.policies")


def test_the_shared_kernel_is_open_to_every_context(tmp_path: Path) -> None:
    source = """
        from domain.shared import errors
        from application.shared.pagination import NotFound
        from application.ports import uow
        from domain.claims.model import errors as own
    """
    assert violations(tree_with(tmp_path, "application/claims/service.py", source)) == []


def test_a_relative_import_beyond_the_top_level_is_reported(tmp_path: Path) -> None:
    root = tree_with(tmp_path, "domain/shared/extra.py", "from .... import nowhere\n")
    only(violations(root), "relative-import", "domain/shared/extra.py:1")
