"""Exits 1 unless two tables of one DynamoDB endpoint hold the same items (and some).

    compare_tables.py ENDPOINT TABLE WHAT OTHER_TABLE OTHER_WHAT
"""
import sys

import boto3

endpoint, table, what, other_table, other_what = sys.argv[1:6]
dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)


def items(name):
    pages = dynamodb.get_paginator("scan").paginate(TableName=name)
    return {item["contactId"]["S"]: item for page in pages for item in page["Items"]}


ours, theirs = items(table), items(other_table)
if not ours or ours != theirs:
    print(f"the tables differ: {what} made {len(ours)} items, {other_what} {len(theirs)}")
    for key in sorted(set(ours) | set(theirs)):
        if ours.get(key) != theirs.get(key):
            print(" ", key, f"\n    {what}:", ours.get(key), f"\n    {other_what}:", theirs.get(key))
    sys.exit(1)
print(f"==> the table after {what} equals {other_what}'s: {len(ours)} items")
