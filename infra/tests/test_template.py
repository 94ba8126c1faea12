"""What template.yaml deploys, read from the CloudFormation that SAM generates from it (the same
samtranslator that `sam deploy` uses, offline): the function's role, the rule, the table.

Run by `make test` (infra/test.sh) with the project's venv.
"""

import json
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
LOG_GROUP_ARN = {"Fn::GetAtt": ["ContactStateLogGroup", "Arn"]}
# Logs: CreateLogGroup, CreateLogStream, PutLogEvents, on "*". The function must not have it.
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


class _NoManagedPolicies:
    """The translator asks IAM for managed policy names only when a template uses them by name."""

    def load(self):
        return {}


def generated():
    """The CloudFormation resources `sam deploy` would create."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = yaml_parse(TEMPLATE.read_text())
    # `sam deploy` replaces each local CodeUri with the uploaded artifact's S3 location.
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://bucket/{name}"
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

    def event_rules(self):
        """The rules that match events (the reconciler's schedule is a rule too)."""
        return {n: r for n, r in self.of_type("AWS::Events::Rule").items() if "EventPattern" in r["Properties"]}


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

    def test_beyond_dynamodb_the_role_only_logs_to_its_group_and_sends_failed_events_to_its_queue(self):
        _, role = self.function_role()
        # No managed policy: AWSLambdaBasicExecutionRole would grant logs:CreateLogGroup on "*".
        self.assertEqual(role["Properties"].get("ManagedPolicyArns", []), [])
        others = sorted(
            (action, str(statement["Resource"]))
            for statement in self.statements()
            for action in as_list(statement["Action"])
            if not action.lower().startswith("dynamodb:")
        )
        self.assertEqual(
            others,
            sorted([
                ("logs:CreateLogStream", str(LOG_GROUP_ARN)),
                ("logs:PutLogEvents", str(LOG_GROUP_ARN)),
                ("sqs:SendMessage", str(FAILED_EVENTS_QUEUE_ARN)),
            ]),
        )

    def test_the_functions_log_group_can_be_created_by_nothing_but_the_stack(self):
        """A first deploy on a busy instance: an event that reaches the function before its log
        group exists makes Lambda create the group, and the stack then fails ("already exists").
        So each function logs to a group the stack makes first, and cannot create one itself."""
        for function, group_name, suffix in (
            ("ContactStateFunction", "ContactStateLogGroup", "contact-state"),
            ("ReconcilerFunction", "ReconcilerLogGroup", "reconciler"),
            ("WallboardFunction", "WallboardLogGroup", "wallboard"),
        ):
            logging = self.resources[function]["Properties"]["LoggingConfig"]
            self.assertEqual(logging["LogGroup"], {"Ref": group_name})
            # The function refers to the group, so CloudFormation makes the group first; the
            # group's name must not refer to the function, or the order would be the other way.
            group = self.resources[group_name]
            self.assertNotIn(function, json.dumps(group))
            self.assertEqual(group["Properties"]["LogGroupName"], {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}-{suffix}"})
        # Nothing of the stack may create a log group: no statement grants logs:CreateLogGroup
        # (or a wildcard over logs), and the function's role has no managed policy that would.
        for name, resource in self.resources.items():
            text = json.dumps(resource.get("Properties", {}))
            self.assertNotIn("logs:CreateLogGroup", text, name)
            self.assertNotIn('"logs:*"', text, name)
        _, role = self.function_role()
        self.assertNotIn(BASIC_EXECUTION, role["Properties"].get("ManagedPolicyArns", []))
        self.assertEqual(
            set(self.of_type("AWS::Logs::LogGroup")), {"ContactStateLogGroup", "ReconcilerLogGroup", "WallboardLogGroup"}
        )

    def test_the_rule_matches_only_amazon_connect_contact_events(self):
        rules = self.event_rules()
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
        """The event function by the contact events rule only; the reconciler by its schedule
        (the wallboard by its API: TemplateWallboard)."""
        permissions = self.of_type("AWS::Lambda::Permission")
        self.assertEqual(permissions.pop("WallboardInvokePermission")["Properties"]["Principal"],
                         "apigateway.amazonaws.com")
        sources = {
            "ContactStateFunction": "ContactStateFunctionContactEvents",
            "ReconcilerFunction": "ReconcilerFunctionSchedule",
        }
        self.assertEqual(len(permissions), len(sources))
        for permission in permissions.values():
            properties = permission["Properties"]
            self.assertEqual(properties["Principal"], "events.amazonaws.com")
            function = properties["FunctionName"]["Ref"]
            self.assertEqual(properties["SourceArn"], {"Fn::GetAtt": [sources[function], "Arn"]})
        schedule = self.resources["ReconcilerFunctionSchedule"]["Properties"]
        self.assertNotIn("EventPattern", schedule)
        self.assertEqual([t["Arn"] for t in schedule["Targets"]], [{"Fn::GetAtt": ["ReconcilerFunction", "Arn"]}])

    def test_the_reconciler_may_only_describe_and_search_contacts_read_the_views_and_update_items(self):
        """docs/contract.md, "Reconciling with Connect": least privilege."""
        function = self.resources["ReconcilerFunction"]
        self.assertEqual(function["Condition"], "ReconcileOn")
        role_name = function["Properties"]["Role"]["Fn::GetAtt"][0]
        role = self.resources[role_name]["Properties"]
        self.assertNotIn("ManagedPolicyArns", role)
        (policy,) = role["Policies"]
        statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
        for statement in statements.values():
            self.assertEqual(statement["Effect"], "Allow")
            self.assertNotIn("*", json.dumps(statement["Action"]))
        describe = statements["DescribeContactsOnly"]
        self.assertEqual(describe["Action"], "connect:DescribeContact")
        any_instance, one_instance = describe["Resource"]["Fn::If"][1:]
        self.assertEqual(describe["Resource"]["Fn::If"][0], "AllInstances")
        self.assertTrue(any_instance["Fn::Sub"].endswith(":instance/*/contact/*"))
        self.assertEqual(one_instance, {"Fn::Sub": "${ConnectInstanceArn}/contact/*"})
        search = statements["SearchContactsOnly"]
        self.assertEqual(search["Action"], "connect:SearchContacts")
        any_instance, one_instance = search["Resource"]["Fn::If"][1:]
        self.assertEqual(
            [arn["Fn::Sub"].rsplit(":", 1)[1] for arn in any_instance], ["instance/*", "instance/*/contact/*"]
        )
        self.assertEqual(one_instance, [{"Ref": "ConnectInstanceArn"}, {"Fn::Sub": "${ConnectInstanceArn}/contact/*"}])
        reads = statements["ReadTheViewsOnly"]
        self.assertEqual(reads["Action"], "dynamodb:Scan")
        self.assertEqual(
            reads["Resource"],
            [{"Fn::Sub": "${ContactStateTable.Arn}/index/queued"}, {"Fn::Sub": "${ContactStateTable.Arn}/index/withAgent"}],
        )
        self.assertEqual(statements["UpdateContactItemsOnly"]["Action"], "dynamodb:UpdateItem")
        self.assertEqual(statements["UpdateContactItemsOnly"]["Resource"], TABLE_ARN)
        self.assertEqual(
            statements["WriteToItsLogGroupOnly"]["Resource"], {"Fn::GetAtt": ["ReconcilerLogGroup", "Arn"]}
        )
        self.assertEqual(len(statements), 5)
        # One run at a time (Connect's quota), no retry of a run (the next one is), a schedule
        # that 0 turns off, and only with the views it reads.
        properties = function["Properties"]
        self.assertEqual(properties["ReservedConcurrentExecutions"], 1)
        conditions = yaml_parse(TEMPLATE.read_text())["Conditions"]
        self.assertIn({"Condition": "ViewsOn"}, conditions["ReconcileOn"]["Fn::And"])
        self.assertIn(
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "ReconcileEveryMinutes"}, 0]}]},
            conditions["ReconcileOn"]["Fn::And"],
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
        (rule,) = self.event_rules().values()
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
            if name == "HealedMetric":
                # The reconciler's lines: one per contact healed (docs/operations.md).
                self.assertEqual(metric_filter["Condition"], "ReconcileMetricsOn")
                self.assertEqual(properties["LogGroupName"], {"Ref": "ReconcilerLogGroup"})
                self.assertEqual(properties["FilterPattern"], '{ $.outcome = "healed" }')
                series += 1
                continue
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
            names, {"Events", "DynamoDbLatency", "Lag", "ConditionalRejections", "Retries", "Healed"}
        )

    def alarm(self, namespace, metric, function="ContactStateFunction"):
        """The alarms on a metric (of `function`, for Lambda's)."""
        def of_function(alarm):
            dimensions = alarm.get("Dimensions", [])
            return namespace != "AWS/Lambda" or {"Name": "FunctionName", "Value": {"Ref": function}} in dimensions

        alarms = [
            a["Properties"]
            for a in self.of_type("AWS::CloudWatch::Alarm").values()
            if a["Properties"]["Namespace"] == namespace and a["Properties"]["MetricName"] == metric
            and of_function(a["Properties"])
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
        self.assertEqual(group["LogGroupName"], {"Fn::Sub": "/aws/lambda/${AWS::StackName}-contact-state"})


# The AWS metrics the dashboard and alarms may use: the dimension sets each service publishes
# them with (Lambda, DynamoDB, SQS and EventBridge metric references in their user guides).
AWS_METRICS = {
    "AWS/Lambda": {
        name: [("FunctionName",)]
        for name in (
            "Invocations", "Errors", "Throttles", "ConcurrentExecutions", "AsyncEventAge",
            "DestinationDeliveryFailures", "Duration",
        )
    },
    "AWS/DynamoDB": {
        "ConsumedWriteCapacityUnits": [("TableName",), ("GlobalSecondaryIndexName", "TableName")],
        "WriteThrottleEvents": [("TableName",), ("GlobalSecondaryIndexName", "TableName")],
    },
    "AWS/SQS": {
        "ApproximateNumberOfMessagesVisible": [("QueueName",)],
        "ApproximateAgeOfOldestMessage": [("QueueName",)],
    },
    "AWS/Events": {"FailedInvocations": [("RuleName",)], "InvocationsFailedToBeSentToDlq": [("RuleName",)]},
}
# What each dimension must name: the stack's own resource (as the dashboard's ${...} holds it).
DIMENSION_VALUES = {
    "FunctionName": {"ContactStateFunction", "ReconcilerFunction"},
    "TableName": {"ContactStateTable"},
    "QueueName": {"FailedEventsQueue.QueueName", "DeliveryDeadLetterQueue.QueueName"},
    "RuleName": {"ContactStateFunctionContactEvents"},
}


class TemplateWatching(GeneratedTemplate):
    """The dashboard, the silence alarm, platform logs and the parameters a deployer is asked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = yaml_parse(TEMPLATE.read_text())

    def dashboard(self):
        """The dashboard body as JSON, each ${X} of its Fn::Sub kept as the string "${X}"."""
        (dashboard,) = self.of_type("AWS::CloudWatch::Dashboard").values()
        self.assertEqual(dashboard["Condition"], "DashboardOn")
        body, variables = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
        # Alarms that a condition may leave out are listed only when they exist.
        conditional = {
            "SilenceAlarmEntry": ("SilenceAlarmOn", "SilenceAlarm"),
            "LagAlarmEntry": ("LagAlarmOn", "LagAlarm"),
            "ReconcilerAlarmEntry": ("ReconcileOn", "ReconcilerErrorsAlarm"),
        }
        self.assertEqual(set(variables), set(conditional) | {"ReconcilerWidget"})
        # The reconciler's widget, only when it and its metric exist.
        condition, widget, nothing = variables["ReconcilerWidget"]["Fn::If"]
        self.assertEqual((condition, nothing), ("ReconcileMetricsOn", ""))
        self.assertEqual(self.resources["HealedMetric"]["Condition"], condition)
        body = body.replace("${ReconcilerWidget}", widget["Fn::Sub"])
        for variable, (condition, alarm) in conditional.items():
            self.assertEqual(self.resources[alarm]["Condition"], condition)
            entry = f', "${{{alarm}.Arn}}"'
            self.assertEqual(variables[variable]["Fn::If"], [condition, {"Fn::Sub": entry}, ""])
            body = body.replace(f"${{{variable}}}", entry)
        names = re.findall(r"\$\{([^}]+)\}", body)
        parameters = self.source["Parameters"]
        for name in names:
            resource = name.split(".")[0]
            self.assertTrue(
                name.startswith("AWS::") or name in parameters or resource in self.resources,
                f"the dashboard names {name}, which the template does not have",
            )
        return json.loads(body)

    def plotted(self):
        """Every metric the dashboard plots: (namespace, name, {dimension: value}, options)."""
        metrics = []
        for widget in self.dashboard()["widgets"]:
            if widget["type"] != "metric":
                continue
            ids = set()
            expressions = []
            for row in widget["properties"]["metrics"]:
                options = row[-1] if isinstance(row[-1], dict) else {}
                if "expression" in options:
                    expressions.append(options["expression"])
                    continue
                fields = row[:-1] if options else row
                self.assertNotIn("...", fields, "write every metric out in full")
                namespace, name, *pairs = fields
                self.assertEqual(len(pairs) % 2, 0, f"{name}: dimensions come in name/value pairs")
                dimensions = dict(zip(pairs[::2], pairs[1::2]))
                ids.add(options.get("id"))
                metrics.append((namespace, name, dimensions, {**widget["properties"], **options}))
            for expression in expressions:
                for word in re.findall(r"\b([a-z]\w*)\b", expression):
                    self.assertIn(word, ids | {"fill"}, f"the expression {expression} reads no metric {word}")
        return metrics

    def test_every_metric_the_dashboard_plots_exists(self):
        """A metric filter of the template (same name and dimensions, a value its pattern can
        give), or an AWS metric with the dimensions its service publishes, naming our resources."""
        filters = {}
        for metric_filter in self.of_type("AWS::Logs::MetricFilter").values():
            (transformation,) = metric_filter["Properties"]["MetricTransformations"]
            keys = tuple(d["Key"] for d in transformation.get("Dimensions", []))
            filters.setdefault(transformation["MetricName"], []).append((keys, metric_filter["Properties"]["FilterPattern"]))
        indexes = {
            index["IndexName"]
            for index in self.resources["ContactStateTable"]["Properties"]["GlobalSecondaryIndexes"]["Fn::If"][1]
        }
        for namespace, name, dimensions, _ in self.plotted():
            if namespace == "${MetricsNamespace}":
                self.assertIn(name, filters, f"no metric filter makes {name}")
                keys = tuple(dimensions)
                self.assertIn(keys, [k for k, _ in filters[name]], f"{name} has no dimensions {keys}")
                if keys == ("Outcome",):
                    self.assertIn(dimensions["Outcome"], OUTCOMES)
                for key, pattern in filters[name]:
                    if key == ("EventType",) and keys == key:
                        self.assertIn(f'"{dimensions["EventType"]}"', pattern)
                continue
            self.assertIn(namespace, AWS_METRICS, f"{namespace} {name}")
            self.assertIn(name, AWS_METRICS[namespace], f"{namespace} publishes no {name} we know of")
            self.assertIn(tuple(sorted(dimensions)), AWS_METRICS[namespace][name], f"{namespace} {name} {dimensions}")
            for key, value in dimensions.items():
                if key == "GlobalSecondaryIndexName":
                    self.assertIn(value, indexes)
                else:
                    self.assertRegex(value, r"^\$\{[^}]+\}$", f"{name}: {key} must name the stack's resource")
                    self.assertIn(value[2:-1], DIMENSION_VALUES[key], f"{name}: {key} = {value}")

    def test_the_dashboard_shows_what_an_operator_watches(self):
        shown = {(namespace, name, tuple(sorted(d.items()))) for namespace, name, d, _ in self.plotted()}
        stats = {(name, options.get("stat")) for _, name, _, options in self.plotted()}
        for outcome in OUTCOMES:
            self.assertIn(("${MetricsNamespace}", "Events", (("Outcome", outcome),)), shown)
        # Connect's lost events, as the reconciler heals them.
        self.assertIn(("${MetricsNamespace}", "Healed", ()), shown)
        for metric in ("DynamoDbLatency", "Lag"):
            self.assertIn((metric, "p50"), stats)
            self.assertIn((metric, "p99"), stats)
        function = (("FunctionName", "${ContactStateFunction}"),)
        for metric in ("Errors", "Invocations", "AsyncEventAge", "Throttles", "ConcurrentExecutions"):
            self.assertIn(("AWS/Lambda", metric, function), shown)
        self.assertIn(("AWS/DynamoDB", "ConsumedWriteCapacityUnits", (("TableName", "${ContactStateTable}"),)), shown)
        for queue in ("FailedEventsQueue", "DeliveryDeadLetterQueue"):
            for metric in ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"):
                self.assertIn(("AWS/SQS", metric, (("QueueName", f"${{{queue}.QueueName}}"),)), shown)
        (alarms,) = [w for w in self.dashboard()["widgets"] if w["type"] == "alarm"]
        self.assertEqual(
            sorted(alarms["properties"]["alarms"]),
            sorted(f"${{{name}.Arn}}" for name in self.of_type("AWS::CloudWatch::Alarm")),
            "the alarm widget shows every alarm of the stack",
        )

    def test_the_dashboard_is_a_parameter_and_says_its_price(self):
        # CloudWatch's free dashboards hold up to 50 metrics each.
        self.assertLessEqual(len(self.plotted()), 50)
        parameter = self.source["Parameters"]["Dashboard"]
        self.assertEqual(parameter["AllowedValues"], ["on", "off"])
        self.assertIn("$3 a month", parameter["Description"])

    def test_an_alarm_fires_when_no_event_arrives_for_the_configured_minutes(self):
        (silence,) = [
            a for a in self.of_type("AWS::CloudWatch::Alarm").values()
            if a["Properties"]["MetricName"] == "Invocations"
        ]
        self.assertEqual(silence["Condition"], "SilenceAlarmOn")
        alarm = silence["Properties"]
        self.assertEqual(alarm["Namespace"], "AWS/Lambda")
        self.assertEqual(alarm["Dimensions"], [{"Name": "FunctionName", "Value": {"Ref": "ContactStateFunction"}}])
        # A minute without any invocation has no data point at all: that is what breaches.
        self.assertEqual(alarm["TreatMissingData"], "breaching")
        self.assertEqual((alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]), ("Sum", "LessThanThreshold", 1))
        self.assertEqual(alarm["Period"], 60)
        self.assertEqual(alarm["EvaluationPeriods"], {"Ref": "SilenceAlarmMinutes"})
        self.assertEqual(alarm["DatapointsToAlarm"], {"Ref": "SilenceAlarmMinutes"})
        self.assertEqual(alarm["AlarmActions"], [{"Ref": "AlarmTopic"}])
        parameter = self.source["Parameters"]["SilenceAlarmMinutes"]
        self.assertEqual(parameter["Default"], 0)
        # CloudWatch: a period under an hour times the evaluation periods may not exceed a day.
        self.assertLessEqual(parameter["MaxValue"] * 60, 86400)
        self.assertEqual(self.source["Conditions"]["SilenceAlarmOn"], {"Fn::Not": [{"Fn::Equals": [{"Ref": "SilenceAlarmMinutes"}, 0]}]})

    def test_an_alarm_fires_when_the_p99_lag_behind_connect_stays_over_its_parameter(self):
        (lag,) = [a for a in self.of_type("AWS::CloudWatch::Alarm").values() if a["Properties"]["MetricName"] == "Lag"]
        self.assertEqual(lag["Condition"], "LagAlarmOn")
        alarm = lag["Properties"]
        self.assertEqual(alarm["Namespace"], {"Ref": "MetricsNamespace"})
        self.assertEqual(alarm["ExtendedStatistic"], "p99")
        self.assertEqual(alarm["Threshold"], {"Ref": "LagAlarmMilliseconds"})
        self.assertGreaterEqual(alarm["DatapointsToAlarm"], 2, "one late redelivery is no page")
        self.assertEqual(alarm["AlarmActions"], [{"Ref": "AlarmTopic"}])
        (metric,) = [
            f["Properties"] for f in self.of_type("AWS::Logs::MetricFilter").values()
            if f["Properties"]["MetricTransformations"][0]["MetricName"] == "Lag"
        ]
        self.assertEqual(metric["MetricTransformations"][0]["MetricValue"], "$.lagMs")
        self.assertIn("lagMs", documented_log_fields())

    def test_platform_logs_are_a_parameter_warn_by_default(self):
        logging = self.resources["ContactStateFunction"]["Properties"]["LoggingConfig"]
        self.assertEqual(logging["SystemLogLevel"], {"Ref": "SystemLogLevel"})
        self.assertEqual(logging["LogFormat"], "JSON")
        parameter = self.source["Parameters"]["SystemLogLevel"]
        self.assertEqual(parameter["Default"], "WARN")
        self.assertIn("REPORT", parameter["Description"])

    def test_every_parameter_is_in_one_group_and_says_when_to_leave_it_alone(self):
        interface = self.source["Metadata"]["AWS::CloudFormation::Interface"]
        groups = {g["Label"]["default"]: g["Parameters"] for g in interface["ParameterGroups"]}
        self.assertEqual(
            list(groups),
            ["Amazon Connect", "Retention", "Logging, metrics and alarms", "Table and billing",
             "Reconciling with Connect (needs LiveViews on)", "The wallboard (needs LiveViews on)",
             "Local only (leave empty when deploying)"],
        )
        grouped = [name for names in groups.values() for name in names]
        self.assertEqual(sorted(grouped), sorted(self.source["Parameters"]), "each parameter in exactly one group")
        # `sam deploy --guided` asks in the template's order (it does not read the groups).
        self.assertEqual(list(self.source["Parameters"]), grouped, "parameters in the groups' order")
        self.assertEqual(groups["Local only (leave empty when deploying)"], ["LocalDynamoDbEndpoint"])
        for name, parameter in self.source["Parameters"].items():
            self.assertIn("leave", parameter["Description"].lower(), f"{name}: say when to leave it alone")

    def test_the_dev_environment_has_a_stack_of_its_own_and_names_only_real_parameters(self):
        import shlex
        import tomllib

        config = tomllib.loads((ROOT / "samconfig.toml").read_text())
        stacks = {env: config[env]["global"]["parameters"]["stack_name"] for env in ("default", "dev")}
        self.assertNotEqual(stacks["dev"], stacks["default"])
        for env, commands in config.items():
            if env == "version":
                continue
            for command, section in commands.items():
                overrides = section.get("parameters", {}).get("parameter_overrides")
                for pair in shlex.split(overrides or ""):
                    self.assertIn(pair.split("=", 1)[0], self.source["Parameters"], f"{env}.{command}")
        self.assertTrue(config["dev"]["sync"]["parameters"]["watch"])
        self.assertEqual(config["dev"]["remote_invoke"]["parameters"]["resource_id"], "ContactStateFunction")


class TemplateWallboard(GeneratedTemplate):
    """docs/wallboard.md, "In the stack": the board takes a valid JWT; least privilege."""

    def routes(self):
        return {r["Properties"]["RouteKey"]: r for r in self.of_type("AWS::ApiGatewayV2::Route").values()}

    def test_every_route_that_returns_data_takes_the_jwt_authorizer_and_the_only_other_is_the_page(self):
        routes = self.routes()
        self.assertEqual(set(routes), {"GET /board", "GET /"})
        board = routes["GET /board"]["Properties"]
        self.assertEqual(board["AuthorizationType"], "JWT")
        self.assertEqual(board["AuthorizerId"], {"Ref": "WallboardAuthorizer"})
        # The page a browser opens before it has a token: the crate's static page, no data
        # (test_wallboard.py checks what it serves).
        self.assertEqual(routes["GET /"]["Properties"]["AuthorizationType"], "NONE")
        # No default route and no API-wide catch-all: nothing else reaches the function.
        for route in routes.values():
            self.assertNotIn("$default", route["Properties"]["RouteKey"])
        (authorizer,) = self.of_type("AWS::ApiGatewayV2::Authorizer").values()
        properties = authorizer["Properties"]
        self.assertEqual(properties["AuthorizerType"], "JWT")
        self.assertEqual(properties["IdentitySource"], ["$request.header.Authorization"])
        issuer = properties["JwtConfiguration"]["Issuer"]["Fn::If"]
        self.assertEqual(issuer[0], "WallboardCognito")
        self.assertEqual(issuer[1], {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${WallboardUserPool}"})
        self.assertEqual(issuer[2], {"Ref": "WallboardOidcIssuer"})
        (audience,) = properties["JwtConfiguration"]["Audience"]
        self.assertEqual(audience["Fn::If"][1:], [{"Ref": "WallboardUserPoolClient"}, {"Ref": "WallboardOidcAudience"}])

    def test_the_user_pool_takes_only_users_an_administrator_adds_and_signs_in_with_managed_login(self):
        (pool,) = self.of_type("AWS::Cognito::UserPool").values()
        self.assertEqual(pool["Condition"], "WallboardCognito")
        self.assertTrue(pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"])
        (client,) = self.of_type("AWS::Cognito::UserPoolClient").values()
        self.assertFalse(client["Properties"]["GenerateSecret"])
        self.assertEqual(client["Properties"]["CallbackURLs"],
                         [{"Fn::Sub": "https://${WallboardApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"}])
        (domain,) = self.of_type("AWS::Cognito::UserPoolDomain").values()
        self.assertEqual(domain["Properties"]["ManagedLoginVersion"], 2)
        self.assertEqual(len(self.of_type("AWS::Cognito::ManagedLoginBranding")), 1)

    def test_the_wallboard_may_only_scan_the_views_and_list_queues_and_users(self):
        function = self.resources["WallboardFunction"]
        role = self.resources[function["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
        self.assertNotIn("ManagedPolicyArns", role)
        (policy,) = role["Policies"]
        listed = policy["PolicyDocument"]["Statement"]
        # With metrics on (MetricsNamespace set), the figures of the Lag and Healed metrics;
        # GetMetricData names no resource (Resource "*" is the only form IAM takes for it).
        (metrics,) = [s["Fn::If"] for s in listed if "Fn::If" in s]
        self.assertEqual(metrics[0], "MetricsOn")
        self.assertEqual(metrics[1], {"Sid": "ReadTheMetricsFiguresOnly", "Effect": "Allow",
                                      "Action": "cloudwatch:GetMetricData", "Resource": "*"})
        self.assertEqual(metrics[2], {"Ref": "AWS::NoValue"})
        statements = {s["Sid"]: s for s in listed if "Sid" in s}
        self.assertEqual(set(statements), {"ReadTheViewsOnly", "NamesOfQueuesAndUsersOnly", "WriteToItsLogGroupOnly"})
        self.assertEqual(statements["ReadTheViewsOnly"]["Action"], "dynamodb:Scan")
        self.assertEqual(
            statements["ReadTheViewsOnly"]["Resource"],
            [{"Fn::Sub": "${ContactStateTable.Arn}/index/queued"}, {"Fn::Sub": "${ContactStateTable.Arn}/index/withAgent"}],
        )
        self.assertEqual(statements["NamesOfQueuesAndUsersOnly"]["Action"], ["connect:ListQueues", "connect:ListUsers"])
        self.assertEqual(statements["NamesOfQueuesAndUsersOnly"]["Resource"]["Fn::If"][2], {"Ref": "ConnectInstanceArn"})
        self.assertEqual(statements["WriteToItsLogGroupOnly"]["Resource"], {"Fn::GetAtt": ["WallboardLogGroup", "Arn"]})
        # Only its API may invoke it.
        permissions = [p["Properties"] for p in self.of_type("AWS::Lambda::Permission").values()
                       if p["Properties"]["FunctionName"] == {"Ref": "WallboardFunction"}]
        self.assertEqual([p["Principal"] for p in permissions], ["apigateway.amazonaws.com"])
        self.assertIn("${WallboardApi}/*/GET/*", permissions[0]["SourceArn"]["Fn::Sub"])

    def test_the_board_counts_healed_events_only_where_the_stack_publishes_metrics_and_reconciles(self):
        variables = self.resources["WallboardFunction"]["Properties"]["Environment"]["Variables"]
        self.assertEqual(variables["METRICS_NAMESPACE"], {"Fn::If": ["MetricsOn", {"Ref": "MetricsNamespace"}, ""]})
        self.assertEqual(variables["RECONCILE_EVERY_MINUTES"],
                         {"Fn::If": ["ReconcileOn", {"Ref": "ReconcileEveryMinutes"}, 0]})
        # The metrics it reads are the ones the stack makes, under the names the board asks for.
        self.assertEqual(self.resources["LagMetric"]["Properties"]["MetricTransformations"][0]["MetricName"], "Lag")
        self.assertEqual(self.resources["HealedMetric"]["Properties"]["MetricTransformations"][0]["MetricName"],
                         "Healed")

    def test_sam_local_start_api_meets_the_wallboards_api_before_any_serverless_function(self):
        # SAM CLI reads the API resources of the first kind it meets in the template: SAM's own
        # (a Serverless function's API events, of which there are none here) or CloudFormation's
        # ApiGatewayV2 routes. infra/sam-local.sh runs `sam local start-api` on it.
        template = yaml_parse(TEMPLATE.read_text())
        first = next(name for name, resource in template["Resources"].items()
                     if resource["Type"].startswith(("AWS::Serverless::", "AWS::ApiGateway")))
        self.assertEqual(first, "WallboardApi")

    def test_wallboard_off_or_no_views_removes_it_and_the_url_is_an_output(self):
        template = yaml_parse(TEMPLATE.read_text())
        conditions = template["Conditions"]
        self.assertEqual(conditions["WallboardOn"]["Fn::And"],
                         [{"Condition": "ViewsOn"}, {"Fn::Equals": [{"Ref": "Wallboard"}, "on"]}])
        self.assertEqual(template["Parameters"]["Wallboard"]["Default"], "on")
        for name, resource in template["Resources"].items():
            if name.startswith("Wallboard"):
                self.assertIn(resource.get("Condition"), {"WallboardOn", "WallboardCognito"}, name)
        self.assertEqual(template["Outputs"]["WallboardUrl"]["Condition"], "WallboardOn")


if __name__ == "__main__":
    unittest.main()
