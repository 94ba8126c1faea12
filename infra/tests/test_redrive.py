"""The redrive command (tools/redrive.py) end to end, with real parts on loopback: moto server as
SQS, the real contact-state binary behind local-lambda's Lambda Invoke API, DynamoDB Local.

Run by `make test` after the binaries are built (infra/test.sh sets CONTACT_STATE_BINARY,
LOCAL_LAMBDA_BINARY, and DynamoDB Local's AWS_ENDPOINT_URL_DYNAMODB).
"""

import json
import os
import subprocess
import sys
import time
import unittest
from pathlib import Path

import boto3

import moto_server

ROOT = Path(__file__).resolve().parents[2]
REDRIVE = ROOT / "tools" / "redrive.py"


def sample(name):
    return json.loads((ROOT / "events" / name).read_text())


def invocation_record(event, error_type, message):
    """What Lambda's on-failure destination puts in the queue after the retries."""
    return {
        "version": "1.0",
        "timestamp": "2024-05-06T10:00:05.000Z",
        "requestContext": {
            "requestId": "c0ffee00-0000-4000-8000-000000000000",
            "functionArn": "arn:aws:lambda:us-east-1:111122223333:function:contact-state:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": error_type, "errorMessage": message},
    }


class Redrive(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.processes = []
        # boto3 reads AWS_DEFAULT_REGION; infra/with-dynamodb-local.sh sets the SDKs' AWS_REGION.
        os.environ.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1"))
        env = dict(os.environ)
        # SQS: moto server.
        moto, env["AWS_ENDPOINT_URL_SQS"] = moto_server.start()
        cls.processes.append(moto)
        # The table, in DynamoDB Local.
        cls.table = f"redrive-test-{os.getpid()}"
        subprocess.run(
            [sys.executable, str(ROOT / "infra/create_table.py"), "--table", cls.table], check=True, env=env
        )
        # The function: the real binary behind local-lambda's Invoke API.
        env["RETENTION_DAYS"] = "36500"  # the samples are dated 2024; DynamoDB Local applies TTL
        env["AWS_LAMBDA_LOG_LEVEL"] = "ERROR"
        env["AWS_ENDPOINT_URL_LAMBDA"] = cls.serve(env, cls.table)
        cls.env = env
        cls.sqs = boto3.client("sqs", endpoint_url=env["AWS_ENDPOINT_URL_SQS"])
        cls.dynamodb = boto3.client("dynamodb")

    @classmethod
    def serve(cls, env, table):
        """Starts the function writing to `table`; returns its Lambda endpoint."""
        serve = subprocess.Popen(
            [
                os.environ["LOCAL_LAMBDA_BINARY"],
                "--serve",
                "--function",
                os.environ["CONTACT_STATE_BINARY"],
                "--table",
                table,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        cls.processes.append(serve)
        line = serve.stdout.readline().strip()
        name, _, value = line.partition("=")
        assert name == "AWS_ENDPOINT_URL_LAMBDA", line
        return value

    @classmethod
    def tearDownClass(cls):
        for process in cls.processes:
            process.terminate()
            process.wait(timeout=10)

    def queue_with(self, name, bodies):
        url = self.sqs.create_queue(QueueName=f"{name}-{time.monotonic_ns()}")["QueueUrl"]
        for body in bodies:
            self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
        return url

    def waiting(self, url):
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def redrive(self, *args):
        run = subprocess.run(
            [sys.executable, str(REDRIVE), *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        return run.returncode, run.stdout + run.stderr

    def item(self, contact_id):
        return self.dynamodb.get_item(
            TableName=self.table, Key={"contactId": {"S": contact_id}}, ConsistentRead=True
        ).get("Item")

    def failure_queues(self):
        """An on-failure queue with three failed events and a refused one, and a dead-letter queue
        with one undelivered event."""
        voice = "11111111-1111-4111-8111-111111111111"
        failed = self.queue_with(
            "failed",
            [
                invocation_record(sample("01-voice-initiated.json"), "StoreFailed", "UpdateItem failed: throttled"),
                invocation_record(sample("02-voice-queued.json"), "OutOfTime", "no answer from the table"),
                invocation_record(sample("06-voice-completed.json"), "StoreFailed", "UpdateItem failed: 500"),
                invocation_record(
                    sample("refused-missing-contact-id.json"), "Refused", "refused: detail.contactId is missing"
                ),
            ],
        )
        dead_letters = self.queue_with("dead-letters", [sample("10-task-connected-to-agent.json")])
        return voice, failed, dead_letters

    def test_a_dry_run_lists_what_waits_and_why_and_changes_nothing(self):
        voice, failed, dead_letters = self.failure_queues()
        code, output = self.redrive("--queue-url", failed, "--queue-url", dead_letters)
        self.assertEqual(code, 0, output)
        self.assertIn("dry run: 5 waiting", output)
        self.assertIn("failed before with StoreFailed: UpdateItem failed: throttled", output)
        self.assertIn("failed before with Refused", output)
        self.assertIsNone(self.item(voice))
        # Every message is still there, and visible again for the real run.
        self.assertEqual(self.waiting(failed), (4, 0))
        self.assertEqual(self.waiting(dead_letters), (1, 0))

    def test_apply_deletes_each_message_once_applied_and_leaves_refused_ones_with_their_reason(self):
        voice, failed, dead_letters = self.failure_queues()
        code, output = self.redrive("--queue-url", failed, "--queue-url", dead_letters, "--apply",
                                    "--function", "contact-state")
        self.assertEqual(code, 0, output)
        self.assertIn("4 applied, 1 left in the queues (0 failed again), of 5", output)
        self.assertIn("refused, left in the queue", output)
        self.assertIn("detail.contactId is missing", output)
        # Progress, one line per message.
        self.assertEqual(sum(line.startswith("[") for line in output.splitlines()), 5, output)
        # Applied in any order, the item is the truth: the voice contact is completed.
        self.assertEqual(self.item(voice)["state"]["S"], "COMPLETED")
        task = sample("10-task-connected-to-agent.json")["detail"]["contactId"]
        self.assertEqual(self.item(task)["state"]["S"], "CONNECTED_TO_AGENT")
        self.assertEqual(self.waiting(failed), (1, 0))
        self.assertEqual(self.waiting(dead_letters), (0, 0))
        # The refused one is what stays.
        (left,) = self.sqs.receive_message(QueueUrl=failed, MaxNumberOfMessages=10)["Messages"]
        self.assertEqual(json.loads(left["Body"])["responsePayload"]["errorType"], "Refused")

    def test_events_that_fail_again_stay_in_the_queue_and_the_run_fails(self):
        voice, failed, dead_letters = self.failure_queues()
        # Not fixed yet: the function's table does not exist, so every write fails.
        broken = dict(self.env, AWS_ENDPOINT_URL_LAMBDA=self.serve(self.env, "no-such-table"))
        run = subprocess.run(
            [sys.executable, str(REDRIVE), "--queue-url", failed, "--queue-url", dead_letters,
             "--apply", "--function", "contact-state"],
            env=broken, capture_output=True, text=True, timeout=120,
        )
        self.assertEqual(run.returncode, 1, run.stdout)
        self.assertIn("0 applied, 5 left in the queues (4 failed again), of 5", run.stdout)
        self.assertIn("StoreFailed", run.stdout)
        self.assertEqual(self.waiting(failed), (4, 0))
        self.assertEqual(self.waiting(dead_letters), (1, 0))


if __name__ == "__main__":
    unittest.main()
