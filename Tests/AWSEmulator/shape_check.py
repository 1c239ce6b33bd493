"""Checks REST-JSON request bodies against botocore's service models.

moto reads the fields it knows and ignores the rest, so a misspelt or misplaced field
would pass it silently while real AWS rejects it. The emulator runs every MediaLive
and MediaPackage request through `problems()` first and answers 400 when the body
does not fit the operation's input shape (unknown members, wrong types, bad enum
values, missing required members, numbers out of range).
"""
import json
import re

import botocore.session

_loader = botocore.session.get_session().get_component("data_loader")


class ServiceShapes:
    def __init__(self, service):
        self.model = _loader.load_service_model(service, "service-2")
        self.routes = []
        for name, op in self.model["operations"].items():
            uri = op["http"]["requestUri"].split("?")[0]
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", uri) + "/?$"
            self.routes.append((op["http"]["method"], re.compile(pattern), name))

    def operation(self, method, path):
        for m, pattern, name in self.routes:
            if m == method and pattern.match(path):
                return name
        return None

    def problems(self, method, path, body):
        name = self.operation(method, path)
        if name is None:
            return [f"no {method} {path} operation in the model"]
        shape = self.model["operations"][name].get("input", {}).get("shape")
        if shape is None or not body:
            return []
        try:
            document = json.loads(body)
        except ValueError as error:
            return [f"body is not JSON: {error}"]
        found = []
        members = self.model["shapes"][shape].get("members", {})
        body_members = {k: v for k, v in members.items() if "location" not in v}
        required = [r for r in self.model["shapes"][shape].get("required", []) if r in body_members]
        self._check_structure(document, body_members, required, name, found)
        return found

    def _check(self, value, shape_name, where, found):
        shape = self.model["shapes"][shape_name]
        kind = shape["type"]
        if kind == "structure":
            members = shape.get("members", {})
            self._check_structure(value, members, shape.get("required", []), where, found)
        elif kind == "list":
            if not isinstance(value, list):
                found.append(f"{where}: expected a list")
                return
            for i, item in enumerate(value):
                self._check(item, shape["member"]["shape"], f"{where}[{i}]", found)
        elif kind == "map":
            if not isinstance(value, dict):
                found.append(f"{where}: expected a map")
                return
            for k, v in value.items():
                self._check(v, shape["value"]["shape"], f"{where}.{k}", found)
        elif kind == "string":
            if not isinstance(value, str):
                found.append(f"{where}: expected a string")
            elif "enum" in shape and value not in shape["enum"]:
                found.append(f"{where}: {value!r} is not one of {shape['enum']}")
        elif kind in ("integer", "long"):
            if not isinstance(value, int) or isinstance(value, bool):
                found.append(f"{where}: expected an integer")
            elif ("min" in shape and value < shape["min"]) or ("max" in shape and value > shape["max"]):
                found.append(f"{where}: {value} outside {shape.get('min')}..{shape.get('max')}")
        elif kind in ("double", "float"):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                found.append(f"{where}: expected a number")
        elif kind == "boolean":
            if not isinstance(value, bool):
                found.append(f"{where}: expected a boolean")

    def _check_structure(self, value, members, required, where, found):
        if not isinstance(value, dict):
            found.append(f"{where}: expected an object")
            return
        by_wire = {m.get("locationName", n): (n, m) for n, m in members.items()}
        for key, item in value.items():
            if key not in by_wire:
                found.append(f"{where}.{key}: not a member (members: {sorted(by_wire)})")
                continue
            self._check(item, by_wire[key][1]["shape"], f"{where}.{key}", found)
        for name in required:
            wire = members.get(name, {}).get("locationName", name)
            if wire not in value:
                found.append(f"{where}: required member {wire} is missing")


def xml_problems(model, shape_name, element, where=None):
    """Checks a REST-XML element tree (namespaces stripped) against a botocore shape."""
    found = []
    where = where or shape_name

    def local(tag):
        return tag.rsplit("}", 1)[-1]

    def check(shape_name, element, where):
        shape = model["shapes"][shape_name]
        kind = shape["type"]
        if kind == "structure":
            members = shape.get("members", {})
            by_tag = {m.get("locationName", n): m for n, m in members.items()}
            present = set()
            for child in element:
                tag = local(child.tag)
                present.add(tag)
                if tag not in by_tag:
                    found.append(f"{where}.{tag}: not a member")
                    continue
                check(by_tag[tag]["shape"], child, f"{where}.{tag}")
            for name in shape.get("required", []):
                if members[name].get("locationName", name) not in present:
                    found.append(f"{where}: required member {name} is missing")
        elif kind == "list":
            tag = shape["member"].get("locationName", "member")
            for i, child in enumerate(element):
                if local(child.tag) != tag:
                    found.append(f"{where}[{i}]: expected <{tag}>, found <{local(child.tag)}>")
                else:
                    check(shape["member"]["shape"], child, f"{where}[{i}]")
        elif kind == "string" and "enum" in shape and (element.text or "") not in shape["enum"]:
            found.append(f"{where}: {element.text!r} is not one of {shape['enum']}")
        elif kind in ("integer", "long"):
            try:
                int(element.text or "")
            except ValueError:
                found.append(f"{where}: expected an integer")
        elif kind == "boolean" and (element.text or "") not in ("true", "false"):
            found.append(f"{where}: expected true or false")

    check(shape_name, element, where)
    return found
