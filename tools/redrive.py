#!/usr/bin/env python3
"""Redrive: apply the events waiting in the stack's failure queues again, after a fix.

    python3 tools/redrive.py --stack connect-contact-state            # dry run: what waits, why
    python3 tools/redrive.py --stack connect-contact-state --apply    # invoke the function on each

or name things yourself: --queue-url URL (repeatable) --function NAME_OR_ARN.

Reads both queues of the stack: FailedEventsQueue (Lambda's on-failure destination: an invocation
record holding the event and the error) and DeliveryDeadLetterQueue (EventBridge's dead letters:
the event itself). Each event is applied by invoking the deployed function synchronously, so it
goes through exactly the code that failed. A message is deleted only after its invocation
succeeded; a refused event (it breaks the contract, retrying cannot help) and one that fails
again stay in the queue, with the reason printed. Applying an event twice is harmless, so a
redrive can be interrupted and run again.

Credentials, region and endpoints come from the usual AWS settings (AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_LAMBDA / AWS_ENDPOINT_URL_CLOUDFORMATION).
"""

import argparse
import json
import sys

import boto3

# Messages stay hidden from other readers while a run looks at them; made visible again at the end
# when they stay.
HIDE_SECONDS = 300
STACK_QUEUES = ("FailedEventsQueueUrl", "DeliveryDeadLetterQueueUrl")


class Message:
    """One queued failure: the event, and what is known about why it failed."""

    def __init__(self, queue_url, raw):
        self.queue_url = queue_url
        self.receipt = raw["ReceiptHandle"]
        self.id = raw["MessageId"]
        self.event, self.previous_error = self._read(raw)

    @staticmethod
    def _read(raw):
        try:
            body = json.loads(raw["Body"])
        except ValueError:
            return None, "the message is not JSON"
        if isinstance(body, dict) and "requestPayload" in body:
            # Lambda's invocation record (on-failure destination).
            response = body.get("responsePayload") or {}
            condition = (body.get("requestContext") or {}).get("condition", "")
            error = response.get("errorType") or condition or "unknown error"
            if response.get("errorMessage"):
                error = f"{error}: {response['errorMessage']}"
            return body["requestPayload"], error
        # EventBridge's dead letter: the event, with the reason in message attributes.
        attributes = raw.get("MessageAttributes") or {}
        code = (attributes.get("ERROR_CODE") or {}).get("StringValue", "not delivered")
        return body, code

    def describe(self):
        if not isinstance(self.event, dict):
            return "(no event)"
        detail = self.event.get("detail") if isinstance(self.event.get("detail"), dict) else {}
        return (
            f"{detail.get('contactId', '?')} {detail.get('eventType', '?')} "
            f"(event {self.event.get('id', '?')})"
        )


def queue_urls(args):
    if args.queue_url:
        return args.queue_url
    outputs = boto3.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
    values = {o["OutputKey"]: o["OutputValue"] for o in outputs.get("Outputs", [])}
    return [values[key] for key in STACK_QUEUES if key in values]


def function_name(args):
    if args.function:
        return args.function
    resources = boto3.client("cloudformation").describe_stack_resource(
        StackName=args.stack, LogicalResourceId="ContactStateFunction"
    )
    return resources["StackResourceDetail"]["PhysicalResourceId"]


def waiting(sqs, url):
    """Every message of the queue, each received once (hidden until the run ends)."""
    seen = set()
    while True:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=HIDE_SECONDS,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        fresh = [raw for raw in batch if raw["MessageId"] not in seen]
        if not fresh:
            return
        for raw in fresh:
            seen.add(raw["MessageId"])
            yield Message(url, raw)


def apply(lambda_client, function, message):
    """Invokes the function on the message's event: None when applied, else why not."""
    if not isinstance(message.event, dict):
        return "Refused", "the message holds no event"
    answer = lambda_client.invoke(
        FunctionName=function,
        InvocationType="RequestResponse",
        Payload=json.dumps(message.event).encode(),
    )
    body = answer["Payload"].read().decode(errors="replace")
    if not answer.get("FunctionError"):
        return None
    try:
        error = json.loads(body)
        return error.get("errorType", "Error"), error.get("errorMessage", body)
    except ValueError:
        return "Error", body


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", help="the deployed stack (samconfig.toml's stack_name)")
    parser.add_argument("--queue-url", action="append", help="a queue to redrive (repeatable)")
    parser.add_argument("--function", help="the function to invoke (name or ARN)")
    parser.add_argument("--apply", action="store_true", help="apply the events (default: dry run)")
    args = parser.parse_args(argv)
    if not args.stack and not (args.queue_url and (args.function or not args.apply)):
        parser.error("give --stack, or --queue-url (and --function with --apply)")

    sqs = boto3.client("sqs")
    urls = queue_urls(args)
    function = function_name(args) if args.apply else None
    lambda_client = boto3.client("lambda") if args.apply else None
    kept, applied, failed_again, total = [], 0, 0, 0
    try:
        for url in urls:
            print(f"== {url}")
            for message in waiting(sqs, url):
                total += 1
                what = message.describe()
                if not args.apply:
                    print(f"[{total}] would apply {what} — failed before with {message.previous_error}")
                    kept.append(message)
                    continue
                failure = apply(lambda_client, function, message)
                if failure is None:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message.receipt)
                    applied += 1
                    print(f"[{total}] applied {what}; message deleted")
                else:
                    error_type, reason = failure
                    kept.append(message)
                    if error_type == "Refused":
                        verdict = "refused, left in the queue"
                    else:
                        verdict = "failed again, left in the queue"
                        failed_again += 1
                    print(f"[{total}] {verdict}: {what}: {error_type}: {reason}")
    finally:
        # What stays becomes visible again at once, for the next run or a person.
        for message in kept:
            sqs.change_message_visibility(
                QueueUrl=message.queue_url, ReceiptHandle=message.receipt, VisibilityTimeout=0
            )
    if args.apply:
        print(f"{applied} applied, {len(kept)} left in the queues ({failed_again} failed again), of {total}")
    else:
        print(f"dry run: {total} waiting; run again with --apply to apply them")
    # Refused events stay by design; events that failed again mean the fix is not in yet.
    return 1 if failed_again else 0


if __name__ == "__main__":
    sys.exit(main())
