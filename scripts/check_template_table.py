"""Checks that template.yaml's table matches a live table's description (key schema, attribute
types, indexes and projections, billing mode).

Usage: python check_template_table.py template.yaml describe-table.json
The JSON is `aws dynamodb describe-table` output for the table setup-localstack.sh created.
"""
import json
import sys

from samtranslator.yaml_helper import yaml_parse


def keys(schema):
    return [(k["AttributeName"], k["KeyType"]) for k in schema]


def shape(table):
    return {
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]),
        "key": keys(table["KeySchema"]),
        "indexes": sorted(
            (i["IndexName"], keys(i["KeySchema"]), i["Projection"]["ProjectionType"])
            for i in table.get("GlobalSecondaryIndexes", [])
        ),
        "local_indexes": sorted(i["IndexName"] for i in table.get("LocalSecondaryIndexes", [])),
        "billing": table.get("BillingMode") or table.get("BillingModeSummary", {}).get("BillingMode"),
    }


def main(template_path, description_path):
    template = yaml_parse(open(template_path).read())
    declared = template["Resources"]["ImagesTable"]["Properties"]
    live = json.load(open(description_path))["Table"]
    expected, actual = shape(declared), shape(live)
    if expected != actual:
        print("template.yaml and setup-localstack.sh define different tables:", file=sys.stderr)
        for field in expected:
            if expected[field] != actual[field]:
                print(f"  {field}: template {expected[field]} != script {actual[field]}", file=sys.stderr)
        return 1
    print(f"template.yaml and setup-localstack.sh define the same table: {json.dumps(expected)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
