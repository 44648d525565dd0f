"""The cost model's arithmetic (bench/cost/) and the metering proxy's size rules: pure, no sockets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.cost.measure import children_type, measurement_copy, read_deployment, read_history
from bench.cost.prices import Inventory, billed_gb_seconds, express_gb_seconds
from bench.cost.report import Bill, rows_for
from bench.cost.usage import (
    DAILY_RUNS_PER_MONTH,
    HOURLY_RUNS_PER_MONTH,
    QUARTERS_PER_MONTH,
    WEEKS_PER_MONTH,
    CostModel,
    Deployment,
    Design,
    Flow,
    Measured,
    Usage,
    month_typical,
    usage_at,
)
from iracing_sync_local.stepfunctions import STATEMACHINE_DIR, TimedInvocation, load_definition
from iracing_sync_local.template import load_template
from tests.support.dynamodb_proxy import IndexShape, item_bytes, transact_write_units

MODEL = CostModel(archive_retention_days=90, log_retention_days=30)


def test_cost_model_prices_a_synthetic_run_at_the_list_prices() -> None:
    # Given a run that uses round amounts of everything
    usage = Usage(
        lambda_request=1e6,
        lambda_gb_second=1e5,
        sfn_transition=1e3,
        sfn_express_request=1e6,
        sfn_express_gb_second=1e3,
        dynamodb_read_unit=1e6,
        dynamodb_write_unit=1e6,
        s3_put=1e3,
        s3_get=1e4,
        s3_archived_gb=1,
        logs_ingest_gb=1,
        secret_api_call=1e4,
        kms_request=1e4,
        scheduler_invocation=1e6,
        xray_trace=1e6,
    )
    # When it is priced
    services = MODEL.by_service(usage)
    # Then each service costs what its us-east-1 list prices say
    assert services["Lambda"] == pytest.approx(0.20 + 1.33334)
    assert services["Step Functions"] == pytest.approx(0.025 + 1.00 + 0.01667)
    assert services["DynamoDB"] == pytest.approx(0.125 + 0.625)
    # An archived GB is kept 90 days: 3 GB-months
    assert services["S3"] == pytest.approx(0.005 + 0.004 + 3 * 0.023)
    # A logged GB is ingested once and kept 30 days: 1 GB-month
    assert services["CloudWatch Logs"] == pytest.approx(0.50 + 0.03)
    assert services["Secrets Manager"] == pytest.approx(0.05)
    assert services["KMS"] == pytest.approx(0.03)
    assert services["EventBridge Scheduler"] == pytest.approx(1.00)
    assert services["X-Ray"] == pytest.approx(5.00)
    assert MODEL.usd(usage) == pytest.approx(sum(services.values()))


def test_fixed_items_and_table_storage_are_priced_per_month() -> None:
    monthly = Inventory(secrets=1, alarm_metrics=12, custom_metrics=13, kms_keys=1).monthly()
    assert monthly == pytest.approx(
        {
            "Secrets Manager secret": 0.40,
            "CloudWatch alarms": 1.20,
            "CloudWatch custom metrics": 3.90,
            "KMS key": 1.00,
        }
    )
    assert MODEL.storage_month(table_gb=2.0) == pytest.approx(2 * (0.25 + 0.20))


@pytest.mark.parametrize(
    ("seconds", "memory_mb", "gb_seconds"),
    [(0.1234, 1024, 0.124), (0.0001, 512, 0.0005), (1.0, 512, 0.5), (0.5, 1024, 0.5)],
)
def test_lambda_duration_is_billed_per_started_millisecond_at_the_memory(
    seconds: float, memory_mb: int, gb_seconds: float
) -> None:
    assert billed_gb_seconds(seconds, memory_mb) == pytest.approx(gb_seconds)


@pytest.mark.parametrize(
    ("seconds", "memory_mb", "gb_seconds"),
    [(0.05, 64, 0.1 * 64 / 1024), (0.1, 64, 0.1 * 64 / 1024), (0.25, 64, 0.3 * 64 / 1024), (0.25, 100, 0.3 / 8)],
)
def test_express_duration_is_billed_in_100ms_and_64mb_steps(seconds: float, memory_mb: int, gb_seconds: float) -> None:
    assert express_gb_seconds(seconds, memory_mb) == pytest.approx(gb_seconds)


def _deployment(concurrency: int = 10) -> Deployment:
    return Deployment(
        memory_mb={"SeasonFunction": 1024, "SeriesFunction": 512},
        archive_retention_days=90,
        log_retention_days=30,
        map_concurrency=concurrency,
        inventory_base=Inventory(1, 1, 1, 1),
    )


def _current_run(items: int, children: str = "EXPRESS", sync_seconds: float = 0.2) -> Measured:
    """A current-seasons run over ``items`` seasons, every one a Map item taking ``sync_seconds``."""
    invocations = (
        TimedInvocation("SeasonFunction", "list_current", 0.5),
        *(TimedInvocation("SeasonFunction", "sync", sync_seconds) for _ in range(items)),
        TimedInvocation("SeasonFunction", "record_run", 0.1),
    )
    return Measured(
        invocations=invocations,
        flow=Flow(parent_transitions=7, child_transitions=items, child_seconds=(0.25,) * items),
        children=children,
        read_units=100.0,
        write_units=50.0,
        s3_puts=1,
        archived_bytes=0,
        log_bytes=0,
        seasons=items,
    )


def test_usage_at_scales_what_grows_with_seasons_and_keeps_what_each_run_pays_once() -> None:
    # Given a run measured over 10 seasons (two per-run invocations, ten Map items)
    run = _current_run(10)
    # When it is priced at 20 seasons
    usage = usage_at(run, 20, _deployment(), {"SeasonFunction": 1.0})
    # Then Map items double, the listing and the run record stay one each
    assert usage.lambda_request == 2 + 20
    assert usage.sfn_transition == 7 + 20  # the parent's states, one per child started
    assert usage.sfn_express_request == 20
    assert usage.sfn_express_gb_second == pytest.approx(20 * 0.3 * 64 / 1024)
    assert usage.dynamodb_read_unit == 200 and usage.dynamodb_write_unit == 100
    assert usage.s3_put == 1
    # And the run starts cold in MaxConcurrency (10) containers: ten INITs of 1 s at 1 GB, ten listing reads
    assert usage.s3_get == 10
    durations = 2 * (0.5 + 10 * 0.2 + 0.1)
    assert usage.lambda_gb_second == pytest.approx(durations + 10 * 1.0)


def test_standard_children_pay_their_transitions_and_no_express_charge() -> None:
    usage = usage_at(_current_run(10, "STANDARD"), 10, _deployment(), {"SeasonFunction": 0.0})
    assert usage.sfn_transition == 7 + 10 + 10
    assert usage.sfn_express_request == usage.sfn_express_gb_second == 0


def test_a_run_without_map_items_starts_one_container_and_reads_no_listing() -> None:
    usage = usage_at(_current_run(0), 180, _deployment(), {"SeasonFunction": 1.0})
    assert usage.s3_get == 0
    assert usage.lambda_request == 2
    assert usage.lambda_gb_second == pytest.approx(0.5 + 0.1 + 1.0)
    assert usage.secret_api_call == 1  # the listing builds an iRacing client: one secret read


def test_read_history_counts_transitions_of_parent_and_children_and_times_each_item() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    events: list[dict[str, Any]] = [
        {"id": 1, "type": "ExecutionStarted", "timestamp": t0},
        {"id": 2, "type": "TaskStateEntered", "timestamp": t0, "stateEnteredEventDetails": {"name": "List"}},
        {"id": 3, "type": "MapStateEntered", "timestamp": t0, "stateEnteredEventDetails": {"name": "Map"}},
        {"id": 4, "type": "MapIterationStarted", "timestamp": t0, "mapIterationStartedEventDetails": {"index": 0}},
        {"id": 5, "type": "TaskStateEntered", "timestamp": t0, "stateEnteredEventDetails": {"name": "Sync"}},
        {"id": 6, "type": "TaskScheduled", "timestamp": t0, "previousEventId": 5},
        {"id": 7, "type": "TaskFailed", "timestamp": t0, "previousEventId": 6},
        {"id": 8, "type": "TaskScheduled", "timestamp": t0, "previousEventId": 7},  # a retry
        {
            "id": 9,
            "type": "MapIterationSucceeded",
            "timestamp": t0 + timedelta(milliseconds=250),
            "mapIterationSucceededEventDetails": {"index": 0},
        },
        {"id": 10, "type": "SucceedStateEntered", "timestamp": t0, "stateEnteredEventDetails": {"name": "Done"}},
    ]
    flow = read_history(events, frozenset({"Sync"}))
    assert flow == Flow(parent_transitions=3, child_transitions=2, child_seconds=(0.25,))


def test_a_typical_month_is_weekly_changes_a_third_of_a_quarter_start_and_daily_reference_runs() -> None:
    design = Design(
        new=Usage(lambda_request=100),
        unchanged=Usage(lambda_request=1),
        changed=Usage(lambda_request=10),
        reference=Usage(lambda_request=1000),
    )
    unchanged_runs = HOURLY_RUNS_PER_MONTH - WEEKS_PER_MONTH - QUARTERS_PER_MONTH
    expected = unchanged_runs + 10 * WEEKS_PER_MONTH + 100 * QUARTERS_PER_MONTH + 1000 * DAILY_RUNS_PER_MONTH
    assert month_typical(design).lambda_request == pytest.approx(expected)


def _bill(unchanged_usd_worth: Usage) -> Bill:
    design = Design(
        new=unchanged_usd_worth, unchanged=unchanged_usd_worth, changed=unchanged_usd_worth, reference=Usage()
    )
    return Bill(design, table_gb=0.0, model=MODEL, inventory=Inventory(1, 1, 1, 1))


def test_the_targets_fail_when_an_unchanged_run_is_not_20x_cheaper_or_the_month_passes_the_budget() -> None:
    # Given our unchanged run costs a tenth of the baseline's, and a month of it more than $1
    ours, base = _bill(Usage(sfn_transition=100)), _bill(Usage(sfn_transition=1000))
    rows = rows_for(ours, base)
    hourly = next(r for r in rows if r.target == 20)
    budget = next(r for r in rows if r.baseline == "budget")
    # Then the 20x target is missed, and so is the $1 budget (720 runs of 100 transitions: $1.80)
    assert hourly.benchmark.startswith("hourly run, nothing changed") and hourly.met is False
    assert budget.value == pytest.approx(0.0025 * HOURLY_RUNS_PER_MONTH)
    assert budget.met is False
    assert [r for r in rows if r.target is not None] == [hourly, budget]
    # And a run 20x cheaper under the budget meets both
    cheap = _bill(Usage(sfn_transition=50))
    targets = [r.met for r in rows_for(cheap, base) if r.target is not None]
    assert targets == [True, True]


def test_the_deployment_is_read_from_template_and_definition() -> None:
    definition = load_definition("sync_current_seasons", retry_interval_scale=0)
    deployment = read_deployment(load_template(), definition)
    assert deployment.memory_mb["SeasonFunction"] == 1024  # its own MemorySize
    assert deployment.memory_mb["SeriesFunction"] == 512  # the Globals default
    assert deployment.archive_retention_days == 90 and deployment.log_retention_days == 30
    assert deployment.map_concurrency == 4
    assert deployment.inventory_base.kms_keys == 0 and deployment.inventory_base.secrets == 0
    alarms = [r for r in load_template()["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert deployment.inventory_base.alarm_metrics > len(alarms)  # the race guide's failure alarm reads two metrics


def test_the_measurement_copy_runs_the_same_item_processor_inline_one_item_at_a_time() -> None:
    definition = load_definition("sync_current_seasons", retry_interval_scale=0)
    copied, child_states = measurement_copy(definition)
    original = definition["States"]["SyncSeasons"]
    measured = copied["States"]["SyncSeasons"]
    assert measured["ItemProcessor"]["ProcessorConfig"] == {"Mode": "INLINE"}
    assert measured["ItemProcessor"]["States"] == original["ItemProcessor"]["States"]
    assert measured["ItemSelector"] == original["ItemSelector"] and measured["MaxConcurrency"] == 1
    assert "SyncSeason" in child_states and "ListCurrentSeasons" not in child_states
    assert original["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"  # the definition is untouched
    assert children_type(STATEMACHINE_DIR / "sync_current_seasons.asl.json") == "EXPRESS"


# --- the metering proxy's item sizes and transaction units ----------------------------------------------------


@pytest.mark.parametrize(
    ("item", "size"),
    [
        ({"pk": {"S": "abc"}}, 2 + 3),
        ({"n": {"N": "12345"}}, 1 + 3 + 1),
        ({"n": {"N": "-0.0012300"}}, 1 + 2 + 1),
        ({"b": {"BOOL": True}, "z": {"NULL": True}}, 2 + 2),
        ({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}, 1 + 3 + (1 + 2) + (1 + 2)),
        ({"m": {"M": {"k": {"S": "v"}}}}, 1 + 3 + (1 + 1 + 1)),
        ({"s": {"SS": ["a", "bc"]}}, 1 + 3),
        ({"é": {"S": "ü"}}, 2 + 2),
    ],
)
def test_item_bytes_follow_dynamodbs_size_rules(item: dict[str, Any], size: int) -> None:
    assert item_bytes(item) == size


def test_a_transaction_is_billed_two_units_per_kb_of_each_action_and_of_each_index_holding_it() -> None:
    index = IndexShape(keys=frozenset({"g"}), projection="ALL", table_keys=frozenset({"pk"}))
    big = {"pk": {"S": "a"}, "g": {"S": "x"}, "v": {"S": "x" * 1500}}  # 2 KB rounded up, in the table and the index
    unindexed = {"pk": {"S": "b"}}  # 1 KB, the table only
    request = {
        "TransactItems": [
            {"Put": {"TableName": "t", "Item": big}},
            {"Put": {"TableName": "t", "Item": unindexed}},
            {"Delete": {"TableName": "t", "Key": {"pk": {"S": "c"}}}},
        ]
    }
    assert transact_write_units(request, lambda table: [index]) == (2 * 2 + 2 * 2) + 2 + 2


def test_an_include_index_holds_the_keys_and_its_attributes_only() -> None:
    index = IndexShape(
        keys=frozenset({"g"}), projection="INCLUDE", table_keys=frozenset({"pk"}), included=frozenset({"name"})
    )
    item = {"pk": {"S": "a"}, "g": {"S": "x"}, "name": {"S": "n"}, "blob": {"S": "x" * 5000}}
    assert index.projected(item) == {"pk": {"S": "a"}, "g": {"S": "x"}, "name": {"S": "n"}}
    assert index.projected({"pk": {"S": "a"}}) is None
