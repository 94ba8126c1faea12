#!/usr/bin/env python3
"""Creates the contact state table in DynamoDB Local exactly as template.yaml defines it.

The key schema, attribute definitions, indexes, billing mode and TTL attribute are read from the
template's AWS::DynamoDB::Table resource, with the parameters' defaults (`!If` and `!Ref` of a
parameter resolved), so there is one definition of the table.

    create_table.py --table NAME [--endpoint URL] [--template template.yaml]

The endpoint defaults to AWS_ENDPOINT_URL_DYNAMODB (set by infra/with-dynamodb-local.sh).
"""
import argparse
import os
import sys

import boto3
import yaml


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form intrinsics (!Ref, !GetAtt, ...) as plain values."""


class Intrinsic:
    """A short-form intrinsic (`!If [...]`), kept to be resolved against the parameters."""

    def __init__(self, name, value):
        self.name, self.value = name, value


def _construct(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return Intrinsic(suffix, value)


_CfnLoader.add_multi_constructor("!", _construct)


def resolve(value, template):
    """`value` with the template's parameters at their defaults: `!Ref` of a parameter, `!If`,
    `!Equals`, `!Not`; other intrinsics (and `AWS::NoValue`) become None."""
    parameters = template.get("Parameters", {})
    conditions = template.get("Conditions", {})
    if isinstance(value, Intrinsic):
        if value.name == "Ref":
            return parameters[value.value].get("Default") if value.value in parameters else None
        if value.name == "If":
            condition, when_true, when_false = value.value
            return resolve(when_true if resolve(conditions[condition], template) else when_false, template)
        if value.name == "Equals":
            left, right = (resolve(v, template) for v in value.value)
            return str(left) == str(right)
        if value.name == "Not":
            return not resolve(value.value[0], template)
        return None
    if isinstance(value, list):
        return [resolve(v, template) for v in value]
    if isinstance(value, dict):
        resolved = {k: resolve(v, template) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not None}
    return value


def table_definition(template_path):
    with open(template_path, encoding="utf-8") as f:
        template = yaml.load(f, Loader=_CfnLoader)
    tables = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    if len(tables) != 1:
        sys.exit(f"{template_path}: expected one AWS::DynamoDB::Table, found {len(tables)}")
    return resolve(tables[0]["Properties"], template)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", required=True)
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"))
    parser.add_argument("--template", default=os.path.join(root, "template.yaml"))
    args = parser.parse_args()
    if not args.endpoint:
        sys.exit("no endpoint: pass --endpoint or set AWS_ENDPOINT_URL_DYNAMODB")

    props = table_definition(args.template)
    client = boto3.client(
        "dynamodb",
        endpoint_url=args.endpoint,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )
    indexes = props.get("GlobalSecondaryIndexes")
    client.create_table(
        TableName=args.table,
        KeySchema=props["KeySchema"],
        AttributeDefinitions=props["AttributeDefinitions"],
        # The default deployment's billing; DynamoDB Local ignores capacity either way.
        BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
        **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
    )
    client.get_waiter("table_exists").wait(TableName=args.table, WaiterConfig={"Delay": 1})
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=args.table,
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )


if __name__ == "__main__":
    main()
