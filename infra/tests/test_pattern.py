"""The rule's event pattern, as `sam deploy` creates it, checked with EventBridge's matching as
moto server implements it, on loopback: a rule with the pattern and an SQS target on moto's
default bus, events put with PutEvents, and what reaches the queue. Every sample event matches,
with the instance filter unset and set; events from other sources, of other detail types and of
other instances do not. (moto's TestEventPattern is not implemented, so the rule's own delivery
is used.) moto is no proof of every operator AWS has, only of those this pattern uses: exact
values on source, detail-type and resources.

Run by `make test` (infra/test.sh) with the project's venv; moto server from .local/moto.
"""

import json
import os
import unittest
from pathlib import Path

import boto3

import moto_server
from test_template import ROOT, generated

INSTANCE = "arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
OTHER_INSTANCE = "arn:aws:connect:us-east-1:111122223333:instance/ffffffff-0000-4000-8000-000000000000"


def samples():
    return {path.name: json.loads(path.read_text()) for path in sorted((ROOT / "events").glob("*.json"))}


def pattern(instance):
    """The generated rule's EventPattern with ConnectInstanceArn set to `instance` (or unset)."""
    # The rule that matches events (the reconciler's schedule is a rule too).
    (rule,) = [
        r for r in generated().values()
        if r["Type"] == "AWS::Events::Rule" and "EventPattern" in r["Properties"]
    ]
    pattern = dict(rule["Properties"]["EventPattern"])
    condition, _, filtered = pattern["resources"]["Fn::If"]
    assert condition == "AllInstances"
    if instance:
        pattern["resources"] = [instance if v == {"Ref": "ConnectInstanceArn"} else v for v in filtered]
    else:
        del pattern["resources"]
    return pattern


class RulePattern(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        cls.moto, url = moto_server.start()
        cls.events = boto3.client("events", endpoint_url=url)
        cls.sqs = boto3.client("sqs", endpoint_url=url)

    @classmethod
    def tearDownClass(cls):
        moto_server.stop(cls.moto)

    def matches(self, pattern, event):
        """Whether EventBridge delivers `event` to a rule with `pattern`."""
        self.__class__.rules = getattr(self.__class__, "rules", 0) + 1
        name = f"contact-events-{self.rules}"
        queue = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.events.put_rule(Name=name, EventPattern=json.dumps(pattern))
        self.events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
        answer = self.events.put_events(
            Entries=[
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                    "Resources": event.get("resources", []),
                }
            ]
        )
        self.assertEqual(answer["FailedEntryCount"], 0, answer)
        received = self.sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", [])
        self.events.remove_targets(Rule=name, Ids=["queue"])
        self.events.delete_rule(Name=name)
        return len(received) == 1

    def test_every_sample_event_matches_with_and_without_the_instance_filter(self):
        for instance in (None, INSTANCE):
            for name, event in samples().items():
                self.assertTrue(self.matches(pattern(instance), event), f"{name}, instance {instance}")

    def test_other_sources_detail_types_and_instances_do_not_match(self):
        event = samples()["02-voice-queued.json"]
        others = [
            dict(event, source="aws.ec2"),
            dict(event, **{"detail-type": "Amazon Connect Agent Event"}),
            dict(event, source="custom.connect"),
        ]
        for other in others:
            self.assertFalse(self.matches(pattern(None), other), other["source"])
        self.assertFalse(self.matches(pattern(OTHER_INSTANCE), event))
        elsewhere = dict(event, resources=[OTHER_INSTANCE])
        self.assertFalse(self.matches(pattern(INSTANCE), elsewhere))


if __name__ == "__main__":
    unittest.main()
