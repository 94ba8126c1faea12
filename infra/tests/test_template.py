"""What template.yaml deploys, read from the CloudFormation that SAM generates from it (the same
samtranslator that `sam deploy` uses, offline): the function's role, the rule, the table.

Run by `make test` (infra/test.sh) with the project's venv.
"""

import os
import re
import unittest
from pathlib import Path

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
README = ROOT / "README.md"
TABLE_ARN = {"Fn::GetAtt": ["ContactStateTable", "Arn"]}
FAILED_EVENTS_QUEUE_ARN = {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}
# Logs only: CreateLogGroup, CreateLogStream, PutLogEvents.
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


class _NoManagedPolicies:
    """The translator asks IAM for managed policy names only when a template uses them by name."""

    def load(self):
        return {}


def generated():
    """The CloudFormation resources `sam deploy` would create."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = yaml_parse(TEMPLATE.read_text())
    # `sam deploy` replaces the local CodeUri with the uploaded artifact's S3 location.
    template["Resources"]["ContactStateFunction"]["Properties"]["CodeUri"] = "s3://bucket/key"
    return transform(template, {}, _NoManagedPolicies())["Resources"]


def as_list(value):
    return value if isinstance(value, list) else [value]


class GeneratedTemplate(unittest.TestCase):
    """Base: the generated resources, by logical id."""

    @classmethod
    def setUpClass(cls):
        cls.resources = generated()

    def of_type(self, kind):
        return {name: r for name, r in self.resources.items() if r["Type"] == kind}


class TemplateSecurity(GeneratedTemplate):
    def function_role(self):
        function = self.resources["ContactStateFunction"]
        role_name = function["Properties"]["Role"]["Fn::GetAtt"][0]
        return role_name, self.resources[role_name]

    def statements(self):
        """Every statement that grants the function's role something, wherever it is attached."""
        role_name, role = self.function_role()
        documents = [p["PolicyDocument"] for p in role["Properties"].get("Policies", [])]
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for policy in self.of_type(kind).values():
                roles = policy["Properties"].get("Roles", [])
                if {"Ref": role_name} in roles:
                    documents.append(policy["Properties"]["PolicyDocument"])
        return [s for document in documents for s in as_list(document["Statement"])]

    def test_the_function_role_can_do_nothing_on_dynamodb_but_update_items_of_the_table(self):
        dynamodb = []
        for statement in self.statements():
            self.assertEqual(statement["Effect"], "Allow")
            self.assertNotIn("NotAction", statement)
            self.assertNotIn("NotResource", statement)
            for action in as_list(statement["Action"]):
                self.assertNotIn("*", action, f"wildcard action {action}")
                if action.lower().startswith("dynamodb:"):
                    dynamodb.append(action)
                    self.assertEqual(action, "dynamodb:UpdateItem")
                    self.assertEqual(as_list(statement["Resource"]), [TABLE_ARN])
        self.assertEqual(dynamodb, ["dynamodb:UpdateItem"])

    def test_beyond_dynamodb_the_role_only_logs_and_sends_failed_events_to_its_queue(self):
        _, role = self.function_role()
        self.assertEqual(role["Properties"].get("ManagedPolicyArns", []), [BASIC_EXECUTION])
        others = [
            (action, statement["Resource"])
            for statement in self.statements()
            for action in as_list(statement["Action"])
            if not action.lower().startswith("dynamodb:")
        ]
        self.assertEqual(others, [("sqs:SendMessage", FAILED_EVENTS_QUEUE_ARN)])

    def test_the_rule_matches_only_amazon_connect_contact_events(self):
        rules = self.of_type("AWS::Events::Rule")
        self.assertEqual(len(rules), 1)
        for rule in rules.values():
            pattern = rule["Properties"]["EventPattern"]
            self.assertEqual(pattern["source"], ["aws.connect"])
            self.assertEqual(pattern["detail-type"], ["Amazon Connect Contact Event"])
            targets = rule["Properties"]["Targets"]
            self.assertEqual(
                [t["Arn"] for t in targets], [{"Fn::GetAtt": ["ContactStateFunction", "Arn"]}]
            )

    def test_only_the_rule_may_invoke_the_function(self):
        permissions = self.of_type("AWS::Lambda::Permission")
        self.assertEqual(len(permissions), 1)
        for permission in permissions.values():
            properties = permission["Properties"]
            self.assertEqual(properties["Principal"], "events.amazonaws.com")
            self.assertEqual(
                properties["SourceArn"],
                {"Fn::GetAtt": ["ContactStateFunctionContactEvents", "Arn"]},
            )

    def test_the_table_is_keyed_by_contact_id_expires_by_ttl_and_is_protected(self):
        table = self.resources["ContactStateTable"]
        properties = table["Properties"]
        self.assertEqual(
            properties["KeySchema"], [{"AttributeName": "contactId", "KeyType": "HASH"}]
        )
        self.assertEqual(
            properties["TimeToLiveSpecification"],
            {"AttributeName": "expiresAt", "Enabled": True},
        )
        self.assertTrue(
            properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
        )
        self.assertTrue(properties["SSESpecification"]["SSEEnabled"])
        self.assertTrue(properties["DeletionProtectionEnabled"])
        self.assertEqual(table["DeletionPolicy"], "Retain")


def documented_log_fields():
    """The log contract: the field names in README.md's table between the log-fields markers."""
    text = README.read_text()
    table = text.split("<!-- log-fields -->")[1]
    return set(re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE))


class TemplateOperations(GeneratedTemplate):
    """What an operator gets from a deployed stack: saved queries, alarms, metrics settings."""

    def test_saved_queries_cover_history_refusals_outcomes_slow_writes_and_errors(self):
        queries = self.of_type("AWS::Logs::QueryDefinition")
        names = sorted(q["Properties"]["Name"]["Fn::Sub"].rsplit("/", 1)[1] for q in queries.values())
        self.assertEqual(
            names,
            ["errors", "one-contact-history", "outcomes-per-hour", "refused-events", "slowest-writes"],
        )
        for query in queries.values():
            self.assertEqual(query["Properties"]["LogGroupNames"], [{"Ref": "ContactStateLogGroup"}])

    def test_saved_queries_read_only_documented_log_fields(self):
        documented = documented_log_fields()
        self.assertIn("contactId", documented)
        for name, query in self.of_type("AWS::Logs::QueryDefinition").items():
            used = set(re.findall(r"fields\.(\w+)", query["Properties"]["QueryString"]))
            self.assertTrue(used, name)
            self.assertLessEqual(used, documented, f"{name} reads undocumented fields")

    def alarm(self, namespace, metric):
        alarms = [
            a["Properties"]
            for a in self.of_type("AWS::CloudWatch::Alarm").values()
            if a["Properties"]["Namespace"] == namespace and a["Properties"]["MetricName"] == metric
        ]
        self.assertTrue(alarms, f"no alarm on {namespace} {metric}")
        for alarm in alarms:
            self.assertEqual(alarm["AlarmActions"], [{"Ref": "AlarmTopic"}])
            self.assertEqual(alarm["TreatMissingData"], "notBreaching")
        return alarms

    def test_alarms_watch_function_errors_and_throttles(self):
        for metric in ("Errors", "Throttles"):
            (alarm,) = self.alarm("AWS/Lambda", metric)
            self.assertEqual(
                alarm["Dimensions"], [{"Name": "FunctionName", "Value": {"Ref": "ContactStateFunction"}}]
            )

    def test_alarms_watch_messages_waiting_in_both_failure_queues(self):
        alarms = self.alarm("AWS/SQS", "ApproximateNumberOfMessagesVisible")
        queues = sorted(a["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for a in alarms)
        self.assertEqual(queues, ["DeliveryDeadLetterQueue", "FailedEventsQueue"])

    def alarm_topics(self):
        """The topics any alarm notifies, by logical id."""
        topics = set()
        for alarm in self.of_type("AWS::CloudWatch::Alarm").values():
            properties = alarm["Properties"]
            for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
                for action in properties.get(key, []):
                    self.assertIn("Ref", action, f"alarm action {action} is not a topic of the stack")
                    topics.add(action["Ref"])
        self.assertTrue(topics)
        return topics

    def test_every_topic_an_alarm_notifies_can_be_published_to_by_cloudwatch(self):
        """CloudWatch cannot use the AWS-managed alias/aws/sns key: a topic encrypted with it
        silently drops every alarm. A topic's key must be one of the stack's, whose policy lets
        this account's CloudWatch alarms use it."""
        for name in self.alarm_topics():
            topic = self.resources[name]
            self.assertEqual(topic["Type"], "AWS::SNS::Topic")
            key = topic["Properties"].get("KmsMasterKeyId")
            if key is None:
                continue
            self.assertIsInstance(key, dict, f"{name} uses key {key!r}, not the stack's own")
            key_resource = self.resources[key["Ref"]]
            self.assertEqual(key_resource["Type"], "AWS::KMS::Key")
            statements = as_list(key_resource["Properties"]["KeyPolicy"]["Statement"])
            cloudwatch = [
                s for s in statements
                if s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"
            ]
            self.assertEqual(len(cloudwatch), 1, f"{name}: no key statement for CloudWatch")
            (statement,) = cloudwatch
            self.assertEqual(statement["Effect"], "Allow")
            self.assertEqual(
                sorted(as_list(statement["Action"])), ["kms:Decrypt", "kms:GenerateDataKey*"]
            )
            self.assertEqual(
                statement["Condition"]["StringEquals"]["aws:SourceAccount"],
                {"Ref": "AWS::AccountId"},
            )
            self.assertTrue(key_resource["Properties"]["EnableKeyRotation"])

    def test_no_topic_of_the_stack_uses_an_aws_managed_key(self):
        for name, topic in self.of_type("AWS::SNS::Topic").items():
            key = topic["Properties"].get("KmsMasterKeyId", "")
            if isinstance(key, str):
                self.assertNotIn("alias/aws/", key, f"{name} is encrypted with an AWS-managed key")

    def test_an_alarm_email_is_subscribed_only_when_given(self):
        (subscription,) = self.of_type("AWS::SNS::Subscription").values()
        self.assertEqual(subscription["Condition"], "HasAlarmEmail")
        self.assertEqual(subscription["Properties"]["Endpoint"], {"Ref": "AlarmEmail"})

    def test_metrics_namespace_and_dimensions_are_parameters(self):
        variables = self.resources["ContactStateFunction"]["Properties"]["Environment"]["Variables"]
        self.assertEqual(variables["METRICS_NAMESPACE"], {"Ref": "MetricsNamespace"})
        self.assertEqual(variables["METRICS_DIMENSIONS"], {"Ref": "MetricsDimensions"})

    def test_the_log_group_keeps_logs_for_the_retention_parameter(self):
        group = self.resources["ContactStateLogGroup"]["Properties"]
        self.assertEqual(group["RetentionInDays"], {"Ref": "LogRetentionDays"})
        self.assertEqual(group["LogGroupName"], {"Fn::Sub": "/aws/lambda/${ContactStateFunction}"})


if __name__ == "__main__":
    unittest.main()
