"""Checks of a FHIR R4 resource (as JSON data): the base invariants, and the CCA profiles' rules.

``invariants`` checks what every R4 resource must hold: dom-2 (no nested ``contained``),
dom-3 (each contained resource is referenced from elsewhere in its container), dom-4 and
dom-5 (no version, update time or security label on a contained resource's ``meta``),
the id of every resource (R4's ``id`` type),
dom-6 (a narrative, on every resource, contained ones too), ele-1 (no element without a
value or children: no empty object, list or string, no null) and ext-1 (an extension has
a value or parts, never both, never neither). ``conforms`` checks a ``CcaPlanDefinition``
(its contained resources and dosages too) against ``data/cca.json``: cardinalities, fixed
patterns, only extensions the IG defines and declares where they stand, their value
types and parts, and the codes of its required bindings. Each problem is its JSON path and
what is wrong there; the exporter runs both before it writes. ``missing`` lists each element
the profiles or the IG's extensions require that a resource lacks, by its parent (what
``regdsl import`` reports as ``FHR009``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from regdsl.fhir import ig

__all__ = ["Missing", "conforms", "invariants", "missing"]

Problem = tuple[str, str]
# A required element that is absent: its parent's path, its name (an extension's part: the part's url), the rule.
Missing = tuple[str, str, str]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Yield every element of ``node`` and its path, ``node`` first."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, _join(path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def _references(node: Any) -> Iterator[str]:
    """Yield every string ``node`` holds that is a local reference (``#id``)."""
    for _path, value in _walk(node):
        if isinstance(value, str) and value.startswith("#"):
            yield value


def _value_keys(ext: dict[str, Any]) -> list[str]:
    return [key for key in ext if key.startswith("value")]


def _list(value: Any) -> list[Any]:
    """Return ``value`` if it is a list, else no elements (what an element that should be an array holds)."""
    return value if isinstance(value, list) else []


def _is_extension(path: str) -> bool:
    """Whether the element at ``path`` is an extension (``...extension[2]``, ``...modifierExtension[0]``)."""
    return path.rsplit(".", 1)[-1].split("[")[0] in ("extension", "modifierExtension")


def invariants(resource: dict[str, Any]) -> list[Problem]:
    """Return where ``resource`` breaks dom-2 to dom-6, ele-1 or ext-1."""
    found: list[Problem] = []
    contained = resource.get("contained", [])
    # Where each local reference is made: outside the contained resources (-1), or in which of them.
    made: dict[str, set[int]] = {}
    for ref in _references(dict(resource, contained=[])):
        made.setdefault(ref, set()).add(-1)
    for i, item in enumerate(contained):
        for ref in _references(item):
            made.setdefault(ref, set()).add(i)
    for i, item in enumerate(contained):
        where = f"contained[{i}]"
        if "contained" in item:
            found.append((f"{where}.contained", "dom-2: a contained resource holds contained resources"))
        meta = item.get("meta", {})
        if "versionId" in meta or "lastUpdated" in meta:
            found.append((f"{where}.meta", "dom-4: a contained resource has a versionId or lastUpdated"))
        if "security" in meta:
            found.append((f"{where}.meta.security", "dom-5: a contained resource has a security label"))
        if not made.get(f"#{item.get('id')}", set()) - {i}:
            found.append((f"{where}.id", f"dom-3: contained resource {item.get('id')!r} is referenced from nowhere"))
    for where, item in [("", resource), *((f"contained[{i}]", c) for i, c in enumerate(contained))]:
        if not isinstance(item.get("text"), dict) or not item["text"].get("div"):
            found.append((_join(where, "text"), "dom-6: the resource has no narrative"))
        if not isinstance(item.get("id"), str) or not ig.FHIR_ID.fullmatch(item["id"]):
            found.append((_join(where, "id"), f"id: {item.get('id')!r} is not a FHIR id ([A-Za-z0-9-.], 1 to 64)"))
    for path, value in _walk(resource):
        if value is None or value == "" or value == {} or value == []:
            found.append((path, "ele-1: an element with neither a value nor children"))
        if isinstance(value, dict) and _is_extension(path):
            values = _value_keys(value)
            if bool(values) == ("extension" in value) or len(values) > 1:
                found.append((path, "ext-1: an extension must have parts or one value[x], not both"))
    return found


# -- the profiles ------------------------------------------------------------------------------------------


def _children(node: Any, key: str) -> list[Any]:
    """Return the values under ``key`` of an object (a choice ``name[x]`` matches ``nameType``), as a list."""
    if not isinstance(node, dict):
        return []
    if key.endswith("[x]"):
        stem = key[:-3]
        keys = [k for k in node if k.startswith(stem) and k[len(stem) : len(stem) + 1].isupper()]
    else:
        keys = [key] if key in node else []
    out: list[Any] = []
    for k in keys:
        value = node[k]
        out.extend(value if isinstance(value, list) else [value])
    return out


def _at(node: Any, steps: list[str], path: str) -> Iterator[tuple[str, Any]]:
    """Yield each instance (with its path) of the element ``steps`` below ``node``."""
    if not steps:
        yield path, node
        return
    key, rest = steps[0], steps[1:]
    if not isinstance(node, dict):
        return
    names = [k for k in node if k == key or (key.endswith("[x]") and k.startswith(key[:-3]))]
    for name in names:
        value = node[name]
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from _at(item, rest, f"{_join(path, name)}[{i}]")
        else:
            yield from _at(value, rest, _join(path, name))


def _count_ok(count: int, rule: tuple[int, str]) -> bool:
    low, high = rule
    return count >= low and (high == "*" or count <= int(high))


def _counts(node: dict[str, Any], prof: ig.Profile, base: str) -> Iterator[tuple[str, str, str, int]]:
    """Yield each element the profile gives a cardinality, at each instance of its parent: its path, name and count."""
    for element in prof.elements:
        steps = element.split(".")[1:]
        for parent_path, parent in _at(node, steps[:-1], base):
            if isinstance(parent, dict):  # a parent that is no object is a fault of its own type
                yield parent_path, element, steps[-1], len(_children(parent, steps[-1]))


def _profile_problems(node: dict[str, Any], prof: ig.Profile, base: str) -> Iterator[Problem]:
    for parent_path, element, name, count in _counts(node, prof, base):
        rule = prof.elements[element]
        if not _count_ok(count, rule):
            yield (_join(parent_path, name), f"{prof.url}: {element} holds {count}, allowed {rule[0]}..{rule[1]}")
    for element, pattern in prof.patterns.items():
        steps = element.split(".")[1:]
        for path, value in _at(node, steps, base):
            ((_kind, wanted),) = pattern.items()
            if not _matches(value, wanted):
                yield path, f"{prof.url}: {element} must match {wanted}"
    for element, (url, strength) in prof.bindings.items():
        allowed = ig.value_set(url)
        if strength != "required" or allowed is None:
            continue
        for path, value in _at(node, element.split(".")[1:], base):
            codings = value.get("coding", []) if isinstance(value, dict) else []
            if not any((c.get("system"), c.get("code")) in allowed for c in codings):
                yield path, f"{prof.url}: {element} has no code of the required value set {url}"
    declared = prof.extensions
    for element in declared:
        steps = element.split(".")[1:]
        if steps and steps[-1] == "status":  # a primitive's extensions live in its `_status` sibling
            steps = [*steps[:-1], "_status"]
        for path, holder in _at(node, steps, base):
            for i, ext in enumerate(e for e in _children(holder, "extension") if isinstance(e, dict)):
                yield from _extension_problems(ext, f"{_join(path, 'extension')}[{i}]", declared[element], element)


def _matches(value: Any, wanted: Any) -> bool:
    """Whether ``value`` holds everything ``wanted`` holds (a FHIR pattern)."""
    if isinstance(wanted, dict):
        return isinstance(value, dict) and all(_matches(value.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(value, list) and all(any(_matches(item, w) for item in value) for w in wanted)
    return bool(value == wanted)


def _extension_problems(
    ext: dict[str, Any], path: str, declared: dict[str, tuple[int, str]], element: str
) -> Iterator[Problem]:
    url = ext.get("url", "")
    defined = ig.extension(url)
    if defined is None or url not in declared:
        yield path, f"{url!r} is not an extension the IG declares on {element}"
        return
    values = _value_keys(ext)
    if defined.values and any(v not in defined.values for v in values):
        yield path, f"{url}: {values} where the IG allows {list(defined.values)} ({defined.source})"
    for name, (low, high, types) in defined.parts.items():
        parts = [p for p in ext.get("extension", []) if p.get("url") == name]
        if not _count_ok(len(parts), (low, high)):
            yield path, f"{url}: part {name!r} {len(parts)} times, allowed {low}..{high} ({defined.source})"
        for part in parts:
            if types and any(v not in types for v in _value_keys(part)):
                yield path, f"{url}: part {name!r} as {_value_keys(part)} where the IG allows {list(types)}"
    for part in ext.get("extension", []):
        if part.get("url") not in defined.parts:
            yield path, f"{url}: part {part.get('url')!r} the IG does not define ({defined.source})"


def conforms(resource: dict[str, Any]) -> list[Problem]:
    """Return where a ``CcaPlanDefinition`` (with its contained resources) breaks the IG's profiles."""
    found = list(_profile_problems(resource, ig.profile(ig.CCA_PLAN), ""))
    for i, item in enumerate(resource.get("contained", [])):
        where = f"contained[{i}]"
        match item.get("resourceType"):
            case "PlanDefinition":
                found += _profile_problems(item, ig.profile(ig.CCA_PLAN), where)
            case "ActivityDefinition":
                found += _profile_problems(item, ig.profile(ig.CCA_ACTIVITY), where)
                for j, dosage in enumerate(item.get("dosage", [])):
                    found += _profile_problems(dosage, ig.profile(ig.CCA_DOSAGE), f"{where}.dosage[{j}]")
            case other:
                found.append((f"{where}.resourceType", f"a {other} is not a resource the profile contains"))
    flagged = {path for path, _message in found}
    for path, value in _walk(resource):
        if path.endswith("extension") and isinstance(value, list):
            for i, ext in enumerate(value):
                where = f"{path}[{i}]"
                url = ext.get("url", "") if isinstance(ext, dict) else ""
                if where not in flagged and ig.extension(url) is None and "://" in url:
                    found.append((where, f"{url!r} is not an extension the IG defines"))
    return sorted(set(found))


def missing(resource: dict[str, Any]) -> list[Missing]:
    """Return each element the IG requires that ``resource`` lacks, once per instance of its parent.

    Required: an element a profile gives a minimum of 1 or more (``data/cca.json``), in the
    resource, every resource it contains (at any depth: a nested ``contained`` is dom-2's
    matter, not a reason to skip what it holds) and each activity definition's dosages, and
    a part an extension of the IG requires, wherever the extension stands. The rule is the
    profile's or the extension's name and the cardinality, as the IG writes them.
    """
    profiles = {prof.type: prof for prof in map(ig.profile, (ig.CCA_PLAN, ig.CCA_ACTIVITY))}
    dosage = ig.profile(ig.CCA_DOSAGE)
    found: list[Missing] = []

    def lacks(node: dict[str, Any], prof: ig.Profile, base: str) -> None:
        for parent_path, element, name, count in _counts(node, prof, base):
            low, high = prof.elements[element]
            if count < low:
                found.append((parent_path, name, f"{prof.url.rsplit('/', 1)[-1]}: {element} {low}..{high}"))

    pending = [(resource, "")]
    while pending:
        item, where = pending.pop()
        kind = item.get("resourceType")
        prof = profiles.get(kind) if isinstance(kind, str) else None
        if prof is not None:
            lacks(item, prof, where)
        if prof is not None and prof.type == "ActivityDefinition":
            for j, given in enumerate(_list(item.get("dosage"))):
                if isinstance(given, dict):
                    lacks(given, dosage, f"{_join(where, 'dosage')}[{j}]")
        for i, inner in enumerate(_list(item.get("contained"))):
            if isinstance(inner, dict):
                pending.append((inner, f"{_join(where, 'contained')}[{i}]"))
    for path, value in _walk(resource):
        url = value.get("url") if isinstance(value, dict) and _is_extension(path) else None
        defined = ig.extension(url) if isinstance(url, str) else None
        if defined is None:
            continue
        given = [part.get("url") for part in _list(value.get("extension")) if isinstance(part, dict)]
        for name, (low, high, _types) in defined.parts.items():
            if given.count(name) < low:
                found.append((path, name, f"{defined.url.rsplit('/', 1)[-1]}: extension:{name} {low}..{high}"))
    return sorted(found)
