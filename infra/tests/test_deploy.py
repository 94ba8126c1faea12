"""A CloudFormation deploy of the stack, offline: the README's deploy, verify and teardown steps
against moto server's S3, IAM, CloudFormation, Lambda, DynamoDB, SQS and Logs on loopback. moto
does not run the SAM transform, so it is done here with samtranslator (the version aws-sam-cli
pins), as CloudFormation would, and the README's `make deploy` (infra/deploy.sh: sam build, then
sam deploy with the given arguments) deploys the transformed template:

    sam package --template-file .aws-sam/build/template.yaml --s3-bucket B --output-template-file packaged.yaml
    (samtranslator) packaged.yaml -> transformed.json
    infra/deploy.sh --template-file transformed.json --stack-name connect-contact-state --s3-bucket artifacts \
        --capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM
    sam deploy ... --parameter-overrides RetentionDays=30 LogRetentionDays=30 WallboardOidcIssuer=...
                                                           (an update: the wallboard's sign-in by the
                                                           user's own issuer instead of the user pool)
    the README's verify block, then its teardown block (sam delete), as written

Create, update (parameters changed) and delete must each complete, and what was created is read
back and checked against the template's intent; the change sets `sam deploy` prints show the
wallboard's API, its JWT authorizer and the user pool added, and the pool removed for the issuer. moto creates some resource types without doing
anything, or skips them silently: the test prints the resources it could not verify (and
`.local/run/deploy-unverified.txt`) rather than passing over them, and fails if a resource type
outside the known list goes unverified.

Run by `make test` (infra/test.sh) after `sam build`; moto server from .local/moto.
"""

import json
import os
import re
import subprocess
import time
import unittest
from pathlib import Path

import boto3
import botocore.exceptions
from samtranslator.public.translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

import moto_server

ROOT = Path(__file__).resolve().parents[2]
BUILT = ROOT / ".aws-sam/build/template.yaml"
WORK = ROOT / ".local/run/deploy"
SAM = ROOT / ".local/deploy/bin/sam"
README = ROOT / "README.md"
DEPLOY_SCRIPT = ROOT / "infra/deploy.sh"
# The README's stack name: its verify and teardown steps run as written.
STACK = "connect-contact-state"
QUEUE_ARN = "arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee/queue/11111111-2222-4333-8444-555555555555"
CONTACT = "99999999-9999-4999-8999-999999999999"
# The one parameter the rehearsal changes from the defaults the README deploys with: moto creates
# no alarm, so it cannot resolve the alarms' ARNs that the dashboard shows (Fn::GetAtt fails the
# whole stack). test_template.py checks the dashboard on the generated template.
MOTO_PARAMETERS = {"Dashboard": "off"}
MOTO_PARAMETERS_WHY = "moto cannot resolve an alarm's Arn (it creates no alarm), so it is deployed with Dashboard=off"
REGION = "us-east-1"


def readme_steps(marker):
    """The shell block between the README's two `<!-- marker -->` lines."""
    section = README.read_text().split(f"<!-- {marker} -->")[1]
    return re.search(r"```sh\n(.*?)```", section, flags=re.DOTALL).group(1)


# Types moto 5.2.5 accepts in a stack but does not create (or creates without what the template
# sets): what this test cannot check. A new type here means the template grew something unverified.
KNOWN_UNVERIFIABLE = {
    "AWS::CloudWatch::Alarm",
    "AWS::Logs::MetricFilter",
    "AWS::Logs::QueryDefinition",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::SQS::QueuePolicy",
    "AWS::Lambda::Permission",
    "AWS::KMS::Key",
    "AWS::DynamoDB::Table",
    "AWS::Lambda::Function",
    "AWS::Events::Archive",
    "AWS::Logs::LogGroup",
    "AWS::CloudWatch::Dashboard",
    # The wallboard's API and sign-in: moto 5.2.5's CloudFormation has no ApiGatewayV2 or
    # Cognito types (it lists them in the stack and makes nothing); test_template.py checks them
    # on the generated template, and the deploy below that the stack holds them.
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Route",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::ManagedLoginBranding",
}
# The update signs supervisors in with their own OpenID Connect issuer instead of the stack's
# user pool: the pool and its client go, the authorizer stays (with the issuer).
OIDC = {
    "WallboardOidcIssuer": "https://idp.example.com",
    "WallboardOidcAudience": "wallboard",
    "WallboardSignInUrl": "https://idp.example.com/authorize?client_id=wallboard&response_type=id_token&scope=openid",
}
COGNITO = ["WallboardUserPool", "WallboardUserPoolClient", "WallboardUserPoolDomain", "WallboardManagedLoginBranding"]
WALLBOARD_API = [("WallboardApi", "AWS::ApiGatewayV2::Api"), ("WallboardStage", "AWS::ApiGatewayV2::Stage"),
                 ("WallboardIntegration", "AWS::ApiGatewayV2::Integration"),
                 ("WallboardAuthorizer", "AWS::ApiGatewayV2::Authorizer"),
                 ("WallboardBoardRoute", "AWS::ApiGatewayV2::Route"), ("WallboardPageRoute", "AWS::ApiGatewayV2::Route")]


def changeset(printed):
    """The rows of the change set `sam deploy` printed: (operation, logical id, type). Its table
    wraps a long cell onto the next lines, in the same column."""
    lines = printed.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Operation") and "LogicalResourceId" in line)
    starts = [lines[header].index(name) for name in ("Operation", "LogicalResourceId", "ResourceType", "Replacement")]
    rows = []
    for line in lines[header + 2:]:
        if line.startswith("---"):
            break
        cells = [line[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
        if cells[0]:
            rows.append(cells[:3])
        elif rows:
            rows[-1] = [kept + more for kept, more in zip(rows[-1], cells[:3])]
    return [(operation.split()[-1], name, kind) for operation, name, kind in rows]


def condition_holds(name, conditions, parameters):
    """Evaluates the template's condition `name` with `parameters` (the intrinsics it uses)."""

    def value(node):
        if isinstance(node, dict):
            ((fn, arg),) = node.items()
            if fn == "Ref":
                return parameters[arg]
            if fn == "Condition":
                return condition_holds(arg, conditions, parameters)
            if fn == "Fn::Equals":
                return str(value(arg[0])) == str(value(arg[1]))
            if fn == "Fn::Not":
                return not value(arg[0])
            if fn == "Fn::And":
                return all(value(a) for a in arg)
            if fn == "Fn::Or":
                return any(value(a) for a in arg)
            raise ValueError(f"condition uses {fn}")
        return node

    return value(conditions[name])


class OfflineDeploy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto, url = moto_server.start(change_set_outputs=True)
        # Runs even when setUpClass fails (tearDownClass would not).
        cls.addClassCleanup(moto_server.stop, cls.moto)
        cls.env = dict(
            os.environ,
            AWS_ENDPOINT_URL=url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
            SAM_CLI_TELEMETRY="0",
        )
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_DYNAMODB"):
            cls.env.pop(name, None)
        cls.session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
        cls.url = url
        WORK.mkdir(parents=True, exist_ok=True)
        cls.client("s3").create_bucket(Bucket="artifacts")
        cls.sam(
            "package",
            "--template-file", str(BUILT),
            "--s3-bucket", "artifacts",
            "--output-template-file", str(WORK / "packaged.yaml"),
        )
        packaged = yaml_parse((WORK / "packaged.yaml").read_text())
        cls.template = transform(packaged, {}, ManagedPolicyLoader(cls.client("iam")))
        (WORK / "transformed.json").write_text(json.dumps(cls.template, indent=1))
        cls.unverified = {}

    @classmethod
    def tearDownClass(cls):
        lines = [f"{name} ({kind}): {why}" for name, (kind, why) in sorted(cls.unverified.items())]
        (WORK.parent / "deploy-unverified.txt").write_text("".join(line + "\n" for line in lines))
        print("\nThe offline deploy could not verify:", *lines, sep="\n  ")

    @classmethod
    def client(cls, name):
        return cls.session.client(name, endpoint_url=cls.url)

    @classmethod
    def run_as_user(cls, command, *args, timeout=600):
        """Runs a command as a user would (in the checkout, with moto's endpoint); its output."""
        result = subprocess.run([*command, *args], env=cls.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"{command[-1]} {args[:1]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result.stdout

    @classmethod
    def sam(cls, *args):
        return cls.run_as_user([str(SAM)], *args)

    @classmethod
    def deploy(cls, template="transformed.json", script=False, **parameters):
        """`sam deploy` of the transformed template; with `script`, through the README's
        `make deploy` script (sam build, then sam deploy with these arguments)."""
        overrides = [f"{key}={value}" for key, value in parameters.items()]
        command = [str(DEPLOY_SCRIPT)] if script else [str(SAM), "deploy"]
        return cls.run_as_user(
            command,
            "--template-file", str(WORK / template),
            "--stack-name", STACK,
            # Over CloudFormation's 51,200 bytes for an inline template: through S3, as a user's
            # `sam deploy` does (resolve_s3, or --guided's managed bucket).
            "--s3-bucket", "artifacts",
            "--capabilities", "CAPABILITY_IAM", "CAPABILITY_NAMED_IAM",
            "--no-confirm-changeset",
            "--no-fail-on-empty-changeset",
            "--region", REGION,
            *(["--parameter-overrides", *overrides] if overrides else []),
            timeout=1200,
        )

    def physical(self):
        resources = self.client("cloudformation").list_stack_resources(StackName=STACK)
        return {
            r["LogicalResourceId"]: r.get("PhysicalResourceId")
            for r in resources["StackResourceSummaries"]
            if r.get("LogicalResourceId")
        }

    def unverifiable(self, name, why):
        kind = self.template["Resources"][name]["Type"]
        known = type(self).unverified.get(name, (kind, ""))[1]
        type(self).unverified[name] = (kind, "; ".join(filter(None, [known, why])) if why not in known else known)

    def check(self, name, what, actual, expected):
        """`actual` must be `expected`; where moto keeps nothing (`None`), that is noted instead."""
        if actual is None:
            self.unverifiable(name, f"moto keeps no {what}")
        else:
            self.assertEqual(actual, expected, f"{name}: {what}")

    def parameters(self, **overrides):
        values = {name: p.get("Default") for name, p in self.template["Parameters"].items()}
        values.update(overrides)
        return values

    def check_created(self, retention_days="90", log_retention_days=90, updated=False, **more):
        """Everything the stack made, against the template's intent; `updated`: after an update
        (moto_standin.py keeps what moto cannot update in the stack, as it was)."""
        ids = self.physical()
        resources = self.template["Resources"]
        parameters = self.parameters(RetentionDays=retention_days, LogRetentionDays=log_retention_days,
                                     **MOTO_PARAMETERS, **more)
        for name, resource in resources.items():
            condition = resource.get("Condition")
            expected = condition is None or condition_holds(condition, self.template["Conditions"], parameters)
            if not expected:
                self.assertFalse(ids.get(name), f"{name}: created though its condition {condition} is false")
            elif not ids.get(name):
                self.unverifiable(name, "moto accepted it in the stack but created nothing")

        # The table: keys, indexes, TTL, point-in-time recovery, encryption, deletion protection.
        dynamodb = self.client("dynamodb")
        table = dynamodb.describe_table(TableName=ids["ContactStateTable"])["Table"]
        self.assertEqual(table["KeySchema"], [{"AttributeName": "contactId", "KeyType": "HASH"}])
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        indexes = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}
        for index, partition, sort in (
            ("queued", "queuedIn", "enqueueTimestamp"),
            ("withAgent", "withAgent", "connectedToAgentTimestamp"),
        ):
            self.assertEqual(
                indexes[index]["KeySchema"],
                [{"AttributeName": partition, "KeyType": "HASH"}, {"AttributeName": sort, "KeyType": "RANGE"}],
            )
            self.assertEqual(indexes[index]["Projection"]["ProjectionType"], "INCLUDE")
            self.assertEqual(sorted(indexes[index]["Projection"]["NonKeyAttributes"]), ["channel", "state"])
        self.check("ContactStateTable", "encryption (SSEDescription)", table.get("SSEDescription", {}).get("Status"), "ENABLED")
        self.check("ContactStateTable", "deletion protection", table.get("DeletionProtectionEnabled"), True)
        ttl = dynamodb.describe_time_to_live(TableName=ids["ContactStateTable"])["TimeToLiveDescription"]
        self.check("ContactStateTable", "TTL", ttl.get("AttributeName") and (ttl["AttributeName"], ttl["TimeToLiveStatus"]), ("expiresAt", "ENABLED"))
        backups = dynamodb.describe_continuous_backups(TableName=ids["ContactStateTable"])
        pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
        self.check("ContactStateTable", "point-in-time recovery", None if pitr == "DISABLED" else pitr, "ENABLED")

        # The function: runtime, architecture, memory, timeout, environment, its code from S3.
        function = self.client("lambda").get_function_configuration(FunctionName=ids["ContactStateFunction"])
        self.assertEqual(function["Runtime"], "provided.al2023")
        # moto's CloudFormation passes no Architectures to Lambda, which then says its default.
        architectures = function["Architectures"]
        self.check("ContactStateFunction", "architecture", None if architectures == ["x86_64"] else architectures, ["arm64"])
        self.assertEqual((function["MemorySize"], function["Timeout"]), (128, 10))
        self.assertEqual(function["Handler"], "bootstrap")
        # (moto keeps a Number parameter's value as a number; Lambda would hold its string.)
        environment = {key: str(value) for key, value in function["Environment"]["Variables"].items()}
        self.assertEqual(
            environment,
            {
                "TABLE_NAME": ids["ContactStateTable"],
                "RETENTION_DAYS": str(retention_days),
                "METRICS_NAMESPACE": parameters["MetricsNamespace"],
                "LIVE_VIEWS": parameters["LiveViews"],
                # Empty when deployed: the region's own endpoint (LocalDynamoDbEndpoint is for sam local).
                "AWS_ENDPOINT_URL_DYNAMODB": "",
            },
        )
        self.assertTrue(function["Role"].endswith(ids["ContactStateFunctionRole"]))
        logging = function.get("LoggingConfig", {}).get("LogFormat")
        self.check("ContactStateFunction", "logging config (JSON logs, levels)", logging, "JSON")
        try:
            config = self.client("lambda").get_function_event_invoke_config(FunctionName=ids["ContactStateFunction"])
            self.assertEqual(config["MaximumRetryAttempts"], 2)
        except self.client("lambda").exceptions.ResourceNotFoundException:
            self.unverifiable("ContactStateFunctionEventInvokeConfig", "moto creates no event-invoke config")

        # The rule: its pattern, its target's retry policy and dead-letter queue.
        events = self.client("events")
        rule_name = ids["ContactStateFunctionContactEvents"].split("|")[0]
        rule = events.describe_rule(Name=rule_name)
        self.assertEqual(
            json.loads(rule["EventPattern"]),
            {"source": ["aws.connect"], "detail-type": ["Amazon Connect Contact Event"]},
        )
        (target,) = events.list_targets_by_rule(Rule=rule_name)["Targets"]
        self.assertEqual(target["Arn"], function["FunctionArn"])
        self.assertEqual(target["RetryPolicy"], {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400})
        sqs = self.client("sqs")
        dead_letter_arn = sqs.get_queue_attributes(
            QueueUrl=ids["DeliveryDeadLetterQueue"], AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.assertEqual(target["DeadLetterConfig"]["Arn"], dead_letter_arn)
        # (The archive, ArchiveRetentionDays > 0, is not deployed here: moto's CloudFormation
        # cannot create one, it expects the pattern as a string, and fails with HTTP 500.)
        type(self).unverified["ContactEventsArchive"] = (
            "AWS::Events::Archive",
            "moto's CloudFormation cannot create an archive (it expects EventPattern as a string)",
        )

        # The queues: two weeks of retention, encrypted at rest.
        for queue in ("FailedEventsQueue", "DeliveryDeadLetterQueue"):
            attributes = sqs.get_queue_attributes(QueueUrl=ids[queue], AttributeNames=["All"])["Attributes"]
            self.assertEqual(attributes["MessageRetentionPeriod"], "1209600", queue)
            self.assertEqual(attributes.get("SqsManagedSseEnabled"), "true", queue)

        # The alarm topic, encrypted with the stack's own key, which rotates and lets CloudWatch in.
        topic = self.client("sns").get_topic_attributes(TopicArn=ids["AlarmTopic"])["Attributes"]
        self.assertEqual(topic["KmsMasterKeyId"], ids["AlarmTopicKey"])
        kms = self.client("kms")
        self.assertTrue(kms.get_key_rotation_status(KeyId=ids["AlarmTopicKey"])["KeyRotationEnabled"])
        try:
            self.assertEqual(kms.describe_key(KeyId=ids["AlarmTopicKey"])["KeyMetadata"]["KeyState"], "Enabled")
            policy = kms.get_key_policy(KeyId=ids["AlarmTopicKey"], PolicyName="default")["Policy"]
            self.assertIn("cloudwatch.amazonaws.com", policy)
            self.assertIn("aws:SourceAccount", policy)
        except botocore.exceptions.ClientError:
            # moto 5.2.5 keeps a stack's KeyPolicy as an object, and then fails to describe the key
            # (HTTP 500) or return its policy. test_template.py checks the policy as generated.
            self.unverifiable("AlarmTopicKey", "moto fails DescribeKey and GetKeyPolicy on a stack's key (its policy)")

        # The log group, named after the stack (made before the function: test_template.py), with
        # the retention asked for; the function's logging config points at it where moto keeps it.
        self.assertEqual(ids["ContactStateLogGroup"], f"/aws/lambda/{STACK}-contact-state")
        self.check("ContactStateFunction", "logging config's log group",
                   function.get("LoggingConfig", {}).get("LogGroup"), ids["ContactStateLogGroup"])
        (group,) = self.client("logs").describe_log_groups(logGroupNamePrefix=ids["ContactStateLogGroup"])["logGroups"]
        if updated and group["retentionInDays"] == 90:
            # moto implements no update of a log group: it keeps what it was made with.
            self.unverifiable("ContactStateLogGroup", "moto does not update a log group (its retention stays)")
        else:
            self.assertEqual(group["retentionInDays"], log_retention_days)

        # The wallboard: its function reads the table's views and the stack's metrics; its API
        # takes a JWT of the stack's user pool, or of the issuer when one is given. moto makes no
        # API, authorizer or user pool (above), but the stack must hold them.
        wallboard = self.client("lambda").get_function_configuration(FunctionName=ids["WallboardFunction"])
        variables = {key: str(value) for key, value in wallboard["Environment"]["Variables"].items()}
        self.assertEqual(variables["TABLE_NAME"], ids["ContactStateTable"])
        self.assertEqual(variables["METRICS_NAMESPACE"], parameters["MetricsNamespace"])
        self.assertEqual(variables["RECONCILE_EVERY_MINUTES"], str(parameters["ReconcileEveryMinutes"]))
        self.assertTrue(wallboard["Role"].endswith(ids["WallboardRole"]))
        if more.get("WallboardOidcIssuer"):
            self.assertEqual(variables["WALLBOARD_SIGN_IN_URL"], more["WallboardSignInUrl"])
        else:
            self.assertRegex(variables["WALLBOARD_SIGN_IN_URL"], r"^https://.*/oauth2/authorize\?client_id=")

        outputs = self.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0].get("Outputs")
        if not outputs:
            type(self).unverified["(stack outputs)"] = ("Outputs", "moto returns no outputs for this stack")
        else:
            values = {o["OutputKey"]: o["OutputValue"] for o in outputs}
            self.assertEqual(values["TableName"], ids["ContactStateTable"])
            self.assertEqual(values["LogGroupName"], ids["ContactStateLogGroup"])
        return ids

    def test_the_readme_deploy_verify_and_teardown_steps_complete_and_make_what_the_template_says(self):
        # The README's deploy step is `make deploy`, which runs infra/deploy.sh.
        self.assertEqual(readme_steps("deploy").strip(), "make deploy")
        self.assertIn("infra/deploy.sh", (ROOT / "Makefile").read_text().split("\ndeploy:")[1].split("\n\n")[0])
        printed = self.deploy(script=True, **MOTO_PARAMETERS)
        # The wallboard's API, its JWT authorizer on the board's route, and the user pool that
        # signs supervisors in: what `sam deploy` shows it adds (moto makes none of them).
        added = {name: kind for operation, name, kind in changeset(printed) if operation == "Add"}
        for name, kind in WALLBOARD_API + [(name, f"AWS::Cognito::{name[len('Wallboard'):]}") for name in COGNITO]:
            self.assertEqual(added.get(name), kind, name)
        created = self.check_created()
        type(self).unverified["OperationsDashboard"] = ("AWS::CloudWatch::Dashboard", MOTO_PARAMETERS_WHY)

        # An update: retentions changed; the same resources, changed in place. moto 5.2.5 fails
        # an update whose template holds a resource its condition leaves out (it "updates" the
        # archive that is not there, HTTP 500), so moto gets the template without them: what
        # CloudFormation would not create for these parameters anyway.
        update = {"RetentionDays": 30, "LogRetentionDays": 30, **MOTO_PARAMETERS, **OIDC}
        pruned = json.loads(json.dumps(self.template))
        parameters = self.parameters(**update)
        for name, resource in self.template["Resources"].items():
            condition = resource.get("Condition")
            if condition and not condition_holds(condition, self.template["Conditions"], parameters):
                del pruned["Resources"][name]
        (WORK / "update.json").write_text(json.dumps(pruned, indent=1))
        printed = self.deploy("update.json", **update)
        # With the issuer, the user pool goes; the API and its authorizer stay.
        rows = changeset(printed)
        self.assertEqual({name for operation, name, _ in rows if operation == "Delete" and name in COGNITO}, set(COGNITO))
        self.assertFalse({name for operation, name, _ in rows if operation == "Delete" and name in dict(WALLBOARD_API)})
        updated = self.check_created(retention_days="30", log_retention_days=30, updated=True, **OIDC)
        self.assertEqual(updated["ContactStateTable"], created["ContactStateTable"])
        self.assertEqual(updated["ContactStateFunction"], created["ContactStateFunction"])

        # The README's verify steps, as written, on what the function would have left after a test
        # call: a queued contact in the table and its log line in the stack's log group (moto
        # runs no function). Then its teardown steps: the redrive dry run, and sam delete.
        table = created["ContactStateTable"]
        group = created["ContactStateLogGroup"]
        enqueued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 90))
        self.client("dynamodb").put_item(TableName=table, Item={
            "contactId": {"S": CONTACT}, "state": {"S": "QUEUED"}, "channel": {"S": "VOICE"},
            "queueArn": {"S": QUEUE_ARN}, "queuedIn": {"S": QUEUE_ARN}, "enqueueTimestamp": {"S": enqueued},
        })
        logs = self.client("logs")
        logs.create_log_stream(logGroupName=group, logStreamName="2026/12/03/[$LATEST]0123456789abcdef")
        line = {"timestamp": enqueued, "level": "INFO", "contactId": CONTACT, "eventType": "QUEUED", "outcome": "applied", "state": "QUEUED"}
        logs.put_log_events(logGroupName=group, logStreamName="2026/12/03/[$LATEST]0123456789abcdef",
                            logEvents=[{"timestamp": int(time.time() * 1000) - 60_000, "message": json.dumps(line)}])
        steps = readme_steps("verify") + readme_steps("teardown")
        printed = self.run_as_user(["bash", "-euo", "pipefail", "-c", steps], timeout=900)
        (WORK / "readme-steps.log").write_text(printed)
        self.assertIn("TableName", printed)
        self.assertIn(f'"contactId": "{CONTACT}"', printed, "sam logs showed the stack's log line")
        self.assertRegex(printed, rf"queue {re.escape(QUEUE_ARN)}: 1 contact", "contact-views listed the queued contact")
        self.assertIn(CONTACT, printed.split("queue " + QUEUE_ARN)[1])
        self.assertIn("no agent has contacts", printed)
        # (moto does not apply CloudWatch Logs filter patterns: every line matches `--filter`.)
        stacks = self.client("cloudformation").list_stacks()["StackSummaries"]
        self.assertEqual({s["StackStatus"] for s in stacks if s["StackName"] == STACK}, {"DELETE_COMPLETE"})
        tables = self.client("dynamodb").list_tables()["TableNames"]
        self.assertIn(created["ContactStateTable"], tables)
        functions = [f["FunctionName"] for f in self.client("lambda").list_functions()["Functions"]]
        self.assertNotIn(created["ContactStateFunction"], functions)

        unexpected = {kind for kind, _ in self.unverified.values()} - KNOWN_UNVERIFIABLE - {"Outputs"}
        self.assertEqual(unexpected, set(), "resource types this test newly cannot verify")


if __name__ == "__main__":
    unittest.main()
