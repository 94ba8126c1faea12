"""A contact center as it stands now, for the wallboard (`make wallboard`, its browser test, its
read cost): the Connect events that put each contact where it is, one file per event, dated
from now (OUT_DIR/events/), and the names Connect would give its queues and agents
(OUT_DIR/names.json, for the Connect stand-in).

    wallboard_center.py OUT_DIR [--center small|large] [--now EPOCH_SECONDS]

`small` is the board the browser test reads (its contacts, waits and phases below: the test
asserts them); `large` is the read-cost figure's center: 50 queues with 10 waiting each, 200
agents with a contact each. Everything uses the documentation account 111122223333.
"""

import argparse
import json
import time
from datetime import datetime, timezone
from pathlib import Path

INSTANCE = "arn:aws:connect:us-east-1:111122223333:instance/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def queue_arn(n):
    return f"{INSTANCE}/queue/{n:08d}-0000-4000-8000-000000000000"


def agent_arn(n):
    return f"{INSTANCE}/agent/{n:08d}-1111-4111-8111-111111111111"


def contact_id(n):
    return f"{n:08d}-2222-4222-8222-222222222222"


# The small center: (contact, channel, queue, waited s, agent, s with agent, phase).
# Waits against the default thresholds (60 s amber, 180 s red): 200 red, 95 and 65 amber.
SMALL_QUEUES = {1: "Sales", 2: "Support", 3: "Billing", 4: "Callbacks"}
SMALL_AGENTS = {1: "alice", 2: "bob", 3: "carol", 4: "dave"}
SMALL_WAITING = [
    (1, "VOICE", 1, 200),
    (2, "VOICE", 1, 95),
    (3, "VOICE", 1, 20),
    (4, "CHAT", 2, 30),
    (5, "TASK", 3, 65),
]
# (contact, channel, queue, agent, s with agent, last event): contact thresholds 600 / 1200 s.
SMALL_HANDLED = [
    (11, "VOICE", 1, 1, 120, "CONNECTED_TO_AGENT"),
    (12, "TASK", 3, 2, 300, "PAUSED"),
    (13, "VOICE", 2, 3, 660, "DISCONNECTED"),
    (14, "CHAT", 2, 4, 1500, "CONNECTED_TO_AGENT"),
]


def iso(epoch, millis=True):
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def event(number, event_type, contact, channel, at, detail):
    """One EventBridge envelope as Connect sends it (camelCase detail), `time` at `at`."""
    return {
        "version": "0",
        "id": f"{number:08d}-3333-4333-8333-333333333333",
        "detail-type": "Amazon Connect Contact Event",
        "source": "aws.connect",
        "account": "111122223333",
        "time": iso(at, millis=False),
        "region": "us-east-1",
        "resources": [f"{INSTANCE}/contact/{contact}", INSTANCE],
        "detail": {
            "eventType": event_type,
            "contactId": contact,
            "channel": channel,
            "instanceArn": INSTANCE,
            "initiationMethod": "INBOUND" if channel != "TASK" else "API",
            **detail,
        },
    }


def waiting_events(contact, channel, queue, waited, now):
    enqueued = now - waited
    queue_info = {"queueArn": queue_arn(queue), "queueType": "STANDARD", "enqueueTimestamp": iso(enqueued)}
    return [("QUEUED", contact, channel, enqueued, {"initiationTimestamp": iso(enqueued - 5), "queueInfo": queue_info})]


def handled_events(contact, channel, queue, agent, with_agent, last, now):
    connected = now - with_agent
    enqueued = connected - 40
    queue_info = {"queueArn": queue_arn(queue), "queueType": "STANDARD", "enqueueTimestamp": iso(enqueued)}
    agent_info = {"agentArn": agent_arn(agent), "connectedToAgentTimestamp": iso(connected)}
    common = {"initiationTimestamp": iso(enqueued - 5), "queueInfo": queue_info}
    events = [
        ("QUEUED", contact, channel, enqueued, common),
        ("CONNECTED_TO_AGENT", contact, channel, connected, {**common, "agentInfo": agent_info}),
    ]
    if last == "PAUSED":
        events.append(("PAUSED", contact, channel, connected + 30, {**common, "agentInfo": agent_info}))
    if last == "DISCONNECTED":
        gone = connected + 60
        events.append(("DISCONNECTED", contact, channel, gone,
                       {**common, "agentInfo": agent_info, "disconnectTimestamp": iso(gone)}))
    return events


def center(kind, now):
    if kind == "small":
        queues, agents = SMALL_QUEUES, SMALL_AGENTS
        waiting = [(contact_id(c), ch, q, w) for c, ch, q, w in SMALL_WAITING]
        handled = [(contact_id(c), ch, q, a, s, last) for c, ch, q, a, s, last in SMALL_HANDLED]
    else:
        queues = {q: f"Queue {q:02d}" for q in range(1, 51)}
        agents = {a: f"agent{a:03d}" for a in range(1, 201)}
        waiting = [(contact_id(q * 100 + i), "VOICE", q, 5 + 17 * i) for q in queues for i in range(10)]
        handled = [(contact_id(100_000 + a), "VOICE", 1 + a % 50, a, 30 + a * 7, "CONNECTED_TO_AGENT")
                   for a in agents]
    events = []
    for contact, channel, queue, waited in waiting:
        events += waiting_events(contact, channel, queue, waited, now)
    for contact, channel, queue, agent, seconds, last in handled:
        events += handled_events(contact, channel, queue, agent, seconds, last, now)
    names = {
        "instanceArn": INSTANCE,
        "queues": {queue_arn(q): name for q, name in queues.items()},
        "users": {agent_arn(a): name for a, name in agents.items()},
    }
    return [event(n, *e) for n, e in enumerate(events, start=1)], names


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--center", choices=["small", "large"], default="small")
    parser.add_argument("--now", type=float, default=None)
    args = parser.parse_args()
    events, names = center(args.center, args.now if args.now is not None else time.time())
    write(args.out, events, names)
    print(len(events))


def write(out, events, names):
    (out / "events").mkdir(parents=True, exist_ok=True)
    for old in (out / "events").glob("*.json"):
        old.unlink()
    for n, e in enumerate(events, start=1):
        (out / "events" / f"event-{n:05d}.json").write_text(json.dumps(e, indent=1))
    (out / "names.json").write_text(json.dumps(names, indent=1))


if __name__ == "__main__":
    main()
