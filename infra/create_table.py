#!/usr/bin/env python3
"""Creates the contact state table in DynamoDB Local exactly as template.yaml defines it.

The key schema, attribute definitions, billing mode and TTL attribute are read from the
template's AWS::DynamoDB::Table resource, so there is one definition of the table.

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


_CfnLoader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: (
        loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
        else loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node)
    ),
)


def table_definition(template_path):
    with open(template_path, encoding="utf-8") as f:
        template = yaml.load(f, Loader=_CfnLoader)
    tables = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    if len(tables) != 1:
        sys.exit(f"{template_path}: expected one AWS::DynamoDB::Table, found {len(tables)}")
    return tables[0]["Properties"], template.get("Parameters", {})


def default(value, parameters):
    """A `!Ref Parameter` (read as the parameter's name) is the parameter's default."""
    if isinstance(value, str) and value in parameters:
        return parameters[value].get("Default")
    return value


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", required=True)
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"))
    parser.add_argument("--template", default=os.path.join(root, "template.yaml"))
    args = parser.parse_args()
    if not args.endpoint:
        sys.exit("no endpoint: pass --endpoint or set AWS_ENDPOINT_URL_DYNAMODB")

    props, parameters = table_definition(args.template)
    client = boto3.client(
        "dynamodb",
        endpoint_url=args.endpoint,
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )
    client.create_table(
        TableName=args.table,
        KeySchema=props["KeySchema"],
        AttributeDefinitions=props["AttributeDefinitions"],
        # The default deployment's billing; DynamoDB Local ignores capacity either way.
        BillingMode=default(props.get("BillingMode", "PAY_PER_REQUEST"), parameters),
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
