"""The named exclusions from schemathesis's `positive_data_acceptance` check (loaded by
scripts/schemathesis.sh through SCHEMATHESIS_HOOKS).

docs/openapi.json states every rule the server enforces that OpenAPI can express. A
schema-valid request the server refuses is a failure, except for the rules below, which no
schema can state; each is matched by operation, problem `code` and the words of its detail,
so any other refusal of a schema-valid request still fails the run. The operation's own
description documents each of them.
"""
import schemathesis

# (operation, problem code, start of the detail): why OpenAPI cannot state the rule.
UNSTATABLE = {
    ("POST /images", "unsupported_media_type", ""):
        "the bytes must be an image of a supported type: no schema describes image bytes",
    ("POST /images", "unreadable_image", ""):
        "the bytes' own header must be readable: no schema describes image headers",
    ("POST /images", "too_many_pixels", ""):
        "MAX_PIXELS bounds the size the image's header declares, which no schema sees",
    ("POST /images", "payload_too_large", ""):
        "MAX_UPLOAD_BYTES is configuration; the committed document is the same for every limit",
    ("POST /images", "missing_field", "the `file_name` query parameter is required for a raw upload"):
        "an OpenAPI parameter cannot be required for one body media type and not another",
    ("POST /images", "invalid_query", "unknown query parameter `file_name`; this request takes none"):
        "an OpenAPI parameter cannot apply to one body media type (raw) and not another (JSON)",
    ("POST /images", "invalid_field", "`metadata`: may hold at most"):
        "JSON Schema cannot bound the sum of the lengths of an object's keys and values",
    ("POST /uploads", "invalid_field", "`metadata`: may hold at most"):
        "JSON Schema cannot bound the sum of the lengths of an object's keys and values",
    ("POST /uploads/{id}/complete", "invalid_field", "part numbers must be distinct"):
        "JSON Schema cannot require one property to differ across the objects of a list",
    ("POST /images", "idempotency_key_reused", ""):
        "an Idempotency-Key is valid only for the request it first named: no schema relates two requests",
    ("POST /uploads", "idempotency_key_reused", ""):
        "an Idempotency-Key is valid only for the request it first named: no schema relates two requests",
    ("GET /images", "invalid_token", ""):
        "a next_token is valid only as the previous page of the same query returned it",
}


def unstatable(operation, problem):
    code, detail = problem.get("code"), problem.get("detail", "")
    return any(
        operation == op and code == c and detail.startswith(start)
        for (op, c, start) in UNSTATABLE
    )


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if type(failure).__name__ != "RejectedPositiveData":
        return True
    try:
        problem = response.json()
    except ValueError:
        return True
    return not (isinstance(problem, dict) and unstatable(case.operation.label, problem))
