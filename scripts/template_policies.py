#!/usr/bin/env python3
"""Prints, as one JSON object, the IAM policies template.yaml grants: `function` (the
function's role, from ImageApiFunction's Policies) and `operator` (OperatorPolicy, for
`image-api reconcile` and `adopt`). Each is an IAM policy document exactly as written in the template, its
references left as `${ImagesBucket.Arn}` and `${ImagesTable.Arn}` for the reader to resolve
(the IAM test resolves them to each test's own bucket and table).

Usage: template_policies.py [template.yaml]
"""
import json
import sys

import yaml


def policies(template):
    # Every tag parses; only those inside the two policies must be ones a policy may hold.
    with open(template) as file:
        raw = yaml.load(file, Loader=_Lenient)
    resources = raw["Resources"]
    function = resources["ImageApiFunction"]["Properties"]["Policies"]
    if len(function) != 1:
        raise SystemExit("template_policies: expected one inline policy on ImageApiFunction")
    operator = resources["OperatorPolicy"]["Properties"]["PolicyDocument"]
    return {"function": _strict(function[0]), "operator": _strict(operator)}


class _Lenient(yaml.SafeLoader):
    """Keeps every tag as a marker, so the whole template parses."""


class Tagged:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value


def _keep(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return Tagged(suffix, value)


_Lenient.add_multi_constructor("!", _keep)


def _strict(value):
    """Resolves the tags a policy may hold, refusing any other."""
    if isinstance(value, Tagged):
        if value.tag == "Sub" and isinstance(value.value, str):
            return value.value
        if value.tag == "GetAtt" and isinstance(value.value, str):
            resource, attribute = value.value.split(".", 1)
            return "${%s.%s}" % (resource, attribute)
        raise SystemExit(f"template_policies: a policy uses !{value.tag}, which this reader cannot resolve")
    if isinstance(value, dict):
        return {key: _strict(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_strict(item) for item in value]
    return value


if __name__ == "__main__":
    print(json.dumps(policies(sys.argv[1] if len(sys.argv) > 1 else "template.yaml"), indent=2))
