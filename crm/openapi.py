"""The OpenAPI 3.1 document, generated from the same schemas that validate requests."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from crm import __version__
from crm.http import ApiBlueprint, Operation
from crm.schemas import ErrorResponse

REF = "#/components/schemas/{model}"
# a Flask rule's variable: <name>, <int:name>, <any(csv,xlsx):name>
_CONVERTER = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def build_openapi(app: Flask) -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    components["ErrorResponse"] = _schema(ErrorResponse, components, "serialization")
    for blueprint in app.blueprints.values():
        if isinstance(blueprint, ApiBlueprint):
            for op in blueprint.operations:
                path = _CONVERTER.sub(r"{\3}", op.rule)
                paths.setdefault(path, {})[op.method.lower()] = _operation(op, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Loanline API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def _operation(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {"operationId": op.name, "summary": op.summary, "tags": [op.tag]}
    params = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(converter, args)}
        for converter, args, name in _CONVERTER.findall(op.rule)
    ]
    if op.query is not None:
        query_schema = _schema(op.query, components, "validation", inline=True)
        required = set(query_schema.get("required", []))
        params += [
            {"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in query_schema.get("properties", {}).items()
        ]
    if params:
        doc["parameters"] = params
    if op.form is not None or op.files:
        doc["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": _multipart(op, components)}},
        }
    if op.body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema(op.body, components, "validation")}},
        }
    success: dict[str, Any] = {"description": "success"}
    if op.response is not None:
        success["content"] = {
            "application/json": {"schema": _schema(op.response, components, "serialization")}
        }
    error = {
        "description": "error",
        "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorResponse")}}},
    }
    doc["responses"] = {str(op.status): success, "4XX": error}
    if not op.public:
        doc["security"] = [{"bearer": []}]
    return doc


def _path_schema(converter: str, args: str) -> dict[str, Any]:
    """What a URL variable accepts; `any(...)` rules were published as literal text before, so
    clients could not call them from the document."""
    if converter == "int":
        return {"type": "integer", "minimum": 0}
    if converter == "any":
        return {"type": "string", "enum": [choice.strip() for choice in args.split(",")]}
    return {"type": "string"}


def _multipart(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    schema = (
        _schema(op.form, components, "validation", inline=True)
        if op.form
        else {"type": "object", "properties": {}}
    )
    for name in op.files:
        schema["properties"][name] = {"type": "string", "format": "binary"}
        schema.setdefault("required", []).append(name)
    return schema


def _schema(tp: Any, components: dict[str, Any], mode: str, inline: bool = False) -> dict:
    schema = TypeAdapter(tp).json_schema(
        ref_template=REF, mode=mode, schema_generator=GenerateJsonSchema
    )
    components.update(schema.pop("$defs", {}))
    if inline or "title" not in schema or schema.get("type") != "object":
        return schema
    name = schema["title"]
    components.setdefault(name, schema)
    return {"$ref": REF.format(model=name)}
