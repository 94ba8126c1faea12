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
OPERATIONS = ROOT / "docs" / "operations.md"
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


# The outcome words of the log line (core/src/outcome.rs, Outcome::NAMES).
OUTCOMES = ["applied", "stale", "duplicate", "ignored", "refused", "failed"]

# Logs Insights words that are not log fields.
INSIGHTS_WORDS = {
    "fields", "filter", "stats", "sort", "limit", "by", "as", "asc", "desc", "and", "or", "not",
    "in", "like", "count", "count_distinct", "ispresent", "bin", "latest", "earliest", "sum",
    "avg", "max", "min", "dedup", "display", "parse", "h", "m", "s",
}


def query_fields(text):
    """The log fields a Logs Insights query reads: its words, less comments, strings, numbers,
    built-in @fields, the language's own words and the names it defines with `as`."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    body = re.sub(r'"[^"]*"', " ", body)
    aliases = set(re.findall(r"\bas\s+(\w+)", body))
    words = set(re.findall(r"(?<![@\w])([A-Za-z_]\w*)", body))
    return words - INSIGHTS_WORDS - aliases


def documented_log_fields():
    """The log contract: the field names in docs/operations.md's table between the log-fields markers."""
    text = OPERATIONS.read_text()
    table = text.split("<!-- log-fields -->")[1]
    return set(re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE))


class TemplateViews(GeneratedTemplate):
    """The live views: names and keys of the contract, behind LiveViews, and a read-only policy."""

    def test_the_views_are_the_specs_indexes(self):
        indexes = self.resources["ContactStateTable"]["Properties"]["GlobalSecondaryIndexes"]
        self.assertEqual(indexes["Fn::If"][0], "ViewsOn")
        keys = {
            index["IndexName"]: [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]]
            for index in indexes["Fn::If"][1]
        }
        self.assertEqual(
            keys,
            {
                "queued": [("queuedIn", "HASH"), ("enqueueTimestamp", "RANGE")],
                "withAgent": [("withAgent", "HASH"), ("connectedToAgentTimestamp", "RANGE")],
            },
        )
        self.assertEqual(indexes["Fn::If"][2], {"Ref": "AWS::NoValue"})
        variables = self.resources["ContactStateFunction"]["Properties"]["Environment"]["Variables"]
        self.assertEqual(variables["LIVE_VIEWS"], {"Ref": "LiveViews"})

    def test_the_read_policy_only_reads_and_scans_only_the_views(self):
        (policy,) = self.of_type("AWS::IAM::ManagedPolicy").values()
        statements = as_list(policy["Properties"]["PolicyDocument"]["Statement"])
        actions = sorted(a for s in statements for a in as_list(s["Action"]))
        self.assertEqual(actions, ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"])
        for statement in statements:
            if "dynamodb:Scan" in as_list(statement["Action"]):
                self.assertEqual(
                    as_list(statement["Resource"]),
                    [{"Fn::Sub": "${ContactStateTable.Arn}/index/*"}],
                )
        # Attached to nothing: the function keeps its write-only role.
        self.assertNotIn("Roles", policy["Properties"])


class TemplateArchive(GeneratedTemplate):
    def test_the_archive_keeps_exactly_what_the_rule_takes_and_only_when_asked(self):
        (archive,) = self.of_type("AWS::Events::Archive").values()
        self.assertEqual(archive["Condition"], "ArchiveOn")
        (rule,) = self.of_type("AWS::Events::Rule").values()
        self.assertEqual(archive["Properties"]["EventPattern"], rule["Properties"]["EventPattern"])
        self.assertEqual(archive["Properties"]["RetentionDays"], {"Ref": "ArchiveRetentionDays"})
        parameters = yaml_parse(TEMPLATE.read_text())["Parameters"]
        self.assertEqual(parameters["ArchiveRetentionDays"]["Default"], 0)


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
        """Every field a query reads is in the log contract, which the binary's log tests check
        against its real output (tests/integration/logs.rs)."""
        documented = documented_log_fields()
        self.assertIn("contactId", documented)
        for name, query in self.of_type("AWS::Logs::QueryDefinition").items():
            used = query_fields(query["Properties"]["QueryString"])
            self.assertTrue(used, name)
            self.assertLessEqual(used, documented, f"{name} reads undocumented fields")

    def test_saved_queries_count_each_event_once_and_sort_one_field(self):
        queries = {
            q["Properties"]["Name"]["Fn::Sub"].rsplit("/", 1)[1]: q["Properties"]["QueryString"]
            for q in self.of_type("AWS::Logs::QueryDefinition").values()
        }
        for name, text in queries.items():
            body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
            if "stats" in body:
                self.assertIn("count_distinct(eventId)", body, f"{name} counts deliveries, not events")
            for clause in re.findall(r"\|\s*sort ([^|]+)", body):
                self.assertNotIn(",", clause, f"{name}: one sort field per sort")
        self.assertIn("sort eventTime asc", queries["one-contact-history"])

    def test_metric_filters_read_documented_fields_and_make_at_most_25_series(self):
        documented = documented_log_fields()
        filters = self.of_type("AWS::Logs::MetricFilter")
        series = 0
        for name, metric_filter in filters.items():
            properties = metric_filter["Properties"]
            self.assertEqual(metric_filter["Condition"], "MetricsOn")
            self.assertEqual(properties["LogGroupName"], {"Ref": "ContactStateLogGroup"})
            pattern = properties["FilterPattern"]
            used = set(re.findall(r"\$\.(\w+)", pattern))
            (transformation,) = properties["MetricTransformations"]
            used |= set(re.findall(r"\$\.(\w+)", transformation["MetricValue"]))
            dimensions = transformation.get("Dimensions", [])
            for dimension in dimensions:
                used |= set(re.findall(r"\$\.(\w+)", dimension["Value"]))
            self.assertLessEqual(used, documented, f"{name} reads undocumented fields")
            self.assertEqual(transformation["MetricNamespace"], {"Ref": "MetricsNamespace"})
            # A dimension's values are bounded by what the pattern admits.
            if not dimensions:
                series += 1
            elif dimensions[0]["Value"] == "$.outcome":
                series += len(OUTCOMES)
            else:
                values = re.findall(r'\$\.eventType = "(\w+)"', pattern)
                self.assertEqual(dimensions[0]["Value"], "$.eventType")
                self.assertEqual(len(values), len(set(values)))
                series += len(values)
        self.assertLessEqual(series, 25)
        names = {f["Properties"]["MetricTransformations"][0]["MetricName"] for f in filters.values()}
        self.assertEqual(
            names, {"Events", "DynamoDbLatency", "ConditionalRejections", "Retries"}
        )

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
        for metric in ("Errors", "Throttles", "AsyncEventAge", "DestinationDeliveryFailures"):
            (alarm,) = self.alarm("AWS/Lambda", metric)
            self.assertEqual(
                alarm["Dimensions"], [{"Name": "FunctionName", "Value": {"Ref": "ContactStateFunction"}}]
            )

    def test_one_transient_error_does_not_page(self):
        (errors,) = self.alarm("AWS/Lambda", "Errors")
        self.assertGreater(errors["Threshold"], 1)
        self.assertGreaterEqual(errors.get("DatapointsToAlarm", 1), 2)

    def test_alarms_watch_the_rule_failing_to_deliver_and_to_dead_letter(self):
        for metric in ("FailedInvocations", "InvocationsFailedToBeSentToDlq"):
            (alarm,) = self.alarm("AWS/Events", metric)
            self.assertEqual(
                alarm["Dimensions"],
                [{"Name": "RuleName", "Value": {"Ref": "ContactStateFunctionContactEvents"}}],
            )
            self.assertIn("ContactStateFunctionContactEvents", self.resources)

    def test_alarms_watch_messages_waiting_in_both_failure_queues(self):
        for metric in ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"):
            alarms = self.alarm("AWS/SQS", metric)
            queues = sorted(a["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for a in alarms)
            self.assertEqual(queues, ["DeliveryDeadLetterQueue", "FailedEventsQueue"])
        for alarm in self.alarm("AWS/SQS", "ApproximateAgeOfOldestMessage"):
            queue = self.resources[alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0]]
            self.assertLess(alarm["Threshold"], queue["Properties"]["MessageRetentionPeriod"])

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

    def test_metrics_namespace_is_a_parameter(self):
        variables = self.resources["ContactStateFunction"]["Properties"]["Environment"]["Variables"]
        self.assertEqual(variables["METRICS_NAMESPACE"], {"Ref": "MetricsNamespace"})

    def test_billing_is_on_demand_by_default_or_provisioned_with_auto_scaling(self):
        table = self.resources["ContactStateTable"]["Properties"]
        self.assertEqual(table["BillingMode"], {"Ref": "TableBillingMode"})
        parameters = yaml_parse(TEMPLATE.read_text())["Parameters"]
        self.assertEqual(parameters["TableBillingMode"]["Default"], "PAY_PER_REQUEST")
        self.assertEqual(parameters["TargetUtilization"]["Default"], 70)
        (target,) = self.of_type("AWS::ApplicationAutoScaling::ScalableTarget").values()
        self.assertEqual(target["Condition"], "Provisioned")
        self.assertEqual(target["Properties"]["ScalableDimension"], "dynamodb:table:WriteCapacityUnits")
        (policy,) = self.of_type("AWS::ApplicationAutoScaling::ScalingPolicy").values()
        configuration = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        self.assertEqual(configuration["TargetValue"], {"Ref": "TargetUtilization"})
        self.assertEqual(
            configuration["PredefinedMetricSpecification"]["PredefinedMetricType"],
            "DynamoDBWriteCapacityUtilization",
        )

    def test_the_log_group_keeps_logs_for_the_retention_parameter(self):
        group = self.resources["ContactStateLogGroup"]["Properties"]
        self.assertEqual(group["RetentionInDays"], {"Ref": "LogRetentionDays"})
        self.assertEqual(group["LogGroupName"], {"Fn::Sub": "/aws/lambda/${ContactStateFunction}"})


if __name__ == "__main__":
    unittest.main()
