"""Public ids on the wire: `policy-42` out, `policy-42` or `42` in; malformed ids are 404s."""

from __future__ import annotations

from typing import Any

from litestar.exceptions import NotFoundException
from litestar.openapi.spec import Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

from domain.shared.ids import EntityId, parse_public_id

__all__ = ["EntityIdSchemaPlugin", "path_id", "public_id"]


def public_id(value: EntityId) -> str:
    return value.public()


def path_id(raw: str, prefix: str) -> int:
    number = parse_public_id(raw, prefix)
    if number is None:
        raise NotFoundException(f"{prefix} {raw} was not found")
    return number


class EntityIdSchemaPlugin(OpenAPISchemaPlugin):
    """Documents typed ids as the strings the API really sends."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return isinstance(value, type) and issubclass(value, EntityId)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        prefix = getattr(field_definition.annotation, "prefix", "id")
        return Schema(type="string", pattern=f"^{prefix}-[0-9]+$", examples=[f"{prefix}-42"],  # type: ignore[arg-type]
                      description=f"Public id of a {prefix}; the bare number is accepted on input")
