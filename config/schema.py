"""OpenAPI additions: every operation documents the one error shape for its error answers."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details", "request_id"],
            "properties": {
                "code": {"type": "string", "description": "Stable, for programs: e.g. validation_error."},
                "message": {"type": "string", "description": "For people."},
                "details": {"type": "object", "additionalProperties": True},
                "request_id": {"type": "string", "nullable": True},
            },
        }
    },
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: an ``Error`` component and a ``default`` response using it."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    default = {
        "description": "Any error (4xx or 5xx), in the one error shape.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            operation.setdefault("responses", {}).setdefault("default", default)
    return result
