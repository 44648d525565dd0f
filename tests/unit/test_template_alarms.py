"""Every schedule dead-letters to a queue that alarms (the run alarms and failure routes: test_notices.py)."""

from __future__ import annotations

from tests.support.template import (
    props,
    ref_target,
    resources,
    state_machines,
    template,
)


def test_every_schedule_dead_letters_to_an_encrypted_queue_that_alarms() -> None:
    schedules = [
        (name, event["Properties"])
        for name, machine in state_machines().items()
        for event in machine["Properties"].get("Events", {}).values()
        if event["Type"] == "ScheduleV2"
    ]
    assert schedules
    alarms = resources("AWS::CloudWatch::Alarm").values()
    for name, schedule in schedules:
        # Given the schedule names its dead-letter queue by ARN (SAM then grants its role sqs:SendMessage on it)
        queue = ref_target(schedule["DeadLetterConfig"]["Arn"])
        assert queue is not None and template()["Resources"][queue]["Type"] == "AWS::SQS::Queue", name
        # Then the queue is encrypted, and a message in it alarms to the topic
        assert props(queue).get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props(queue), queue
        watching = [
            a["Properties"]
            for a in alarms
            if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and [ref_target(d["Value"]) for d in a["Properties"]["Dimensions"]] == [queue]
        ]
        assert len(watching) == 1, queue
        assert (watching[0]["Threshold"], watching[0]["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
        assert [ref_target(a) for a in watching[0]["AlarmActions"]] == ["AlarmTopic"]
