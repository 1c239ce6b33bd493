"""Checks responses against the OpenAPI document kept in the repository."""
import json
import re

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from stack import REPO

DOCUMENT = json.loads((REPO / "Sources" / "LivestreamAPI" / "openapi.json").read_text())
REGISTRY = Registry().with_resource("urn:openapi", Resource.from_contents(DOCUMENT, default_specification=DRAFT202012))


def template_of(path):
    """The document's path template that matches a concrete path."""
    for template in DOCUMENT["paths"]:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path):
            return template
    raise AssertionError(f"{path} is not in the OpenAPI document")


def pointer(*parts):
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def check(response, method=None):
    """Asserts the response is documented (status) and matches its schema; returns the JSON body."""
    method = (method or response.request.method).lower()
    path = response.request.path_url.split("?")[0]
    template = template_of(path)
    responses = DOCUMENT["paths"][template][method]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method.upper()} {template} answered {status}, which the document does not list"
    assert response.headers.get("Access-Control-Allow-Origin"), "every response carries Access-Control-Allow-Origin"
    content = responses[status].get("content")
    if not content:
        return None
    media_type = response.headers["Content-Type"].split(";")[0].strip()
    assert media_type in content, f"{method.upper()} {template} answered {media_type}; the document lists {sorted(content)}"
    if media_type != "application/json":
        return None  # a picture: its type is what the document promises
    body = response.json()
    ref = "urn:openapi#/" + pointer("paths", template, method, "responses", status, "content", "application/json", "schema")
    Draft202012Validator({"$ref": ref}, registry=REGISTRY).validate(body)
    for name in responses[status].get("headers", {}):
        pass  # optional headers; presence is asserted where the test expects them
    return body
