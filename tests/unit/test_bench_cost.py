"""The cost model's arithmetic (bench/cost/) and the metering proxy's size rules: pure, no sockets."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.cost.fixed import Inventory
from bench.cost.measure import children_type, measurement_copy, read_deployment, read_history
from bench.cost.prices import billed_gb_seconds, express_gb_seconds
from bench.cost.report import Bill, Guide, rows_for
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
from iracing_sync_local.asl import STATEMACHINE_DIR, load_definition
from iracing_sync_local.stepfunctions import TimedInvocation
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
        parameter_api_call=1e6,
        kms_request=1e4,
        scheduler_invocation=1e6,
        xray_trace=1e6,
        custom_metric_hour=720,
        custom_event=1e6,
        sns_publish=1e6,
        sns_email=1e5,
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
    assert services["Parameter Store"] == 0  # standard parameters at standard throughput
    assert services["KMS"] == pytest.approx(0.03)
    assert services["EventBridge Scheduler"] == pytest.approx(1.00)
    assert services["X-Ray"] == pytest.approx(5.00)
    # A custom metric sent in every hour of a 30-day month is one metric-month
    assert services["CloudWatch custom metrics"] == pytest.approx(0.30)
    assert services["EventBridge"] == pytest.approx(1.00)
    assert services["SNS"] == pytest.approx(0.50 + 2.00)
    assert MODEL.usd(usage) == pytest.approx(sum(services.values()))


def test_table_storage_is_priced_per_month_with_point_in_time_recovery() -> None:
    assert MODEL.storage_month(table_gb=2.0) == pytest.approx(2 * (0.25 + 0.20))


def test_custom_metrics_are_priced_by_the_hours_they_are_sent_in() -> None:
    # Given two metrics sent by every hourly run of a month, and one sent in 36 hours only
    every_hour = Usage(custom_metric_hour=2) * HOURLY_RUNS_PER_MONTH
    some_hours = Usage(custom_metric_hour=1) * 36
    # Then the first are two metric-months ($0.60), the other a twentieth of one
    assert MODEL.usd(every_hour) == pytest.approx(0.60)
    assert MODEL.usd(some_hours) == pytest.approx(0.30 * 36 / 720)
    assert MODEL.usd(Usage(custom_metric_hour=0) * HOURLY_RUNS_PER_MONTH) == 0


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


def _deployment(concurrency: int = 10, credentials: str = "ssm", customer_key: bool = False) -> Deployment:
    return Deployment(
        memory_mb={"SeasonFunction": 1024, "SeriesFunction": 512, "ChangesRelayFunction": 256},
        archive_retention_days=90,
        log_retention_days=30,
        map_concurrency=concurrency,
        credentials=credentials,
        customer_key=customer_key,
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
    # The listing builds an iRacing client: one read of the credentials (Parameter Store), decrypted by aws/ssm
    assert usage.parameter_api_call == 1 and usage.secret_api_call == 0
    assert usage.kms_request == 1


def test_the_credentials_store_and_a_customer_key_decide_what_a_run_reads_and_requests() -> None:
    # Given the same run where the credentials were a secret and a customer managed key encrypted table and logs
    usage = usage_at(
        _current_run(0), 180, _deployment(credentials="secretsmanager", customer_key=True), {"SeasonFunction": 1.0}
    )
    # Then the read is a Secrets Manager call, and the key adds its requests: one for the execution, two per container
    assert usage.secret_api_call == 1 and usage.parameter_api_call == 0
    assert usage.kms_request == 1 + 1 + 2


def test_the_map_runs_in_min_max_concurrency_items_containers_read_from_the_definition() -> None:
    # Given the deployment read from template.yaml and the ASL (MaxConcurrency 4)
    deployment = read_deployment(load_template(), load_definition("sync_current_seasons", retry_interval_scale=0))
    init = {"SeasonFunction": 0.0}
    # Then a Map of 10 items runs in 4 containers (one listing GET each), a Map of 2 items in 2
    assert usage_at(_current_run(10), 10, deployment, init).s3_get == deployment.map_concurrency == 4
    assert usage_at(_current_run(2), 2, deployment, init).s3_get == 2


def test_changes_announced_are_custom_events_and_relay_invocations_that_grow_with_seasons() -> None:
    # Given a first sync of 10 seasons: 10 changes announced by one relay invocation of 0.2 s
    run = replace(_current_run(10), events=10, relay_seconds=(0.2,))
    # When it is priced at 20 seasons
    usage = usage_at(run, 20, _deployment(), {"SeasonFunction": 0.0, "ChangesRelayFunction": 0.5})
    # Then both double, and the relay's container starts cold once (INIT 0.5 s at 256 MB)
    assert usage.custom_event == 20
    assert usage.lambda_request == 2 + 20 + 2
    durations = 2 * (0.5 + 10 * 0.2 + 0.1) + 2 * 0.2 * 0.25
    assert usage.lambda_gb_second == pytest.approx(durations + 0.5 * 0.25)


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


NO_ITEMS = Inventory(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)


def _bill(unchanged_usd_worth: Usage, inventory: Inventory = NO_ITEMS, guide: Usage | None = None) -> Bill:
    design = Design(
        new=unchanged_usd_worth, unchanged=unchanged_usd_worth, changed=unchanged_usd_worth, reference=Usage()
    )
    polls = Guide(guide or Usage(), guide or Usage())
    return Bill(design, table_gb=0.0, model=MODEL, inventory=inventory, guide=polls)


def test_the_targets_fail_when_an_unchanged_run_is_not_20x_cheaper_or_the_month_passes_the_budget() -> None:
    # Given our unchanged run costs a tenth of the baseline's, and a month of it more than $1
    ours, base = _bill(Usage(sfn_transition=100)), _bill(Usage(sfn_transition=1000))
    rows = rows_for(ours, base, base)
    hourly = next(r for r in rows if r.target == 20)
    budget = next(r for r in rows if r.baseline == "budget" and r.benchmark.startswith("variable"))
    # Then the 20x target is missed, and so is the $1 budget (720 runs of 100 transitions: $1.80)
    assert hourly.benchmark.startswith("hourly run, nothing changed") and hourly.met is False
    assert budget.value == pytest.approx(0.0025 * HOURLY_RUNS_PER_MONTH)
    assert budget.met is False
    # And a run 20x cheaper under the budget meets both
    cheap = _bill(Usage(sfn_transition=50))
    targets = [
        r.met for r in rows_for(cheap, base, base) if r.target is not None and r.benchmark.startswith(("h", "v"))
    ]
    assert targets == [True, True]


def test_the_whole_typical_month_adds_fixed_items_runs_and_polls_and_fails_its_budget_above_1_50() -> None:
    # Given 8 alarm metrics ($0.80), a dashboard (free: not in the total), runs of $0.0005 an hour ($0.36 a month)
    items = Inventory(8, 0, 0, 0, 0, 1, 1, 42, 1, 1, 1)
    runs = Usage(sfn_transition=20)
    # When the polls cost $0.30 a month, and then $0.40
    within, over = (
        _bill(runs, items, Usage(sfn_express_request=300_000)),
        _bill(runs, items, Usage(sfn_express_request=400_000)),
    )
    # Then the whole month is their sum, and the $1.50 budget is met, then missed
    assert within.typical_month() == pytest.approx(0.80 + 0.0005 * HOURLY_RUNS_PER_MONTH + 0.30)
    assert over.typical_month() == pytest.approx(1.56)

    def whole_budget(bill: Bill) -> Any:
        rows = rows_for(bill, bill, bill)
        return next(r for r in rows if r.baseline == "budget" and r.benchmark.startswith("whole"))

    assert whole_budget(within).met is True and whole_budget(over).met is False
    # And the dashboard is a row of its own at list price
    dashboard = next(r for r in rows_for(within, within, within) if r.benchmark.startswith("CloudWatch dashboard"))
    assert dashboard.value == 3.00 and "42 metrics" in dashboard.benchmark


def test_a_declared_metric_hour_costs_what_a_measured_one_does() -> None:
    bill = replace(_bill(Usage()), declared_metric_hours=6660)
    assert bill.typical_month() == pytest.approx(6660 * 0.30 / 720)


def test_the_deployment_is_read_from_template_and_definition() -> None:
    definition = load_definition("sync_current_seasons", retry_interval_scale=0)
    deployment = read_deployment(load_template(), definition)
    assert deployment.memory_mb["SeasonFunction"] == 1024  # its own MemorySize
    assert deployment.memory_mb["SeriesFunction"] == 512  # the Globals default
    assert deployment.archive_retention_days == 90 and deployment.log_retention_days == 30
    assert deployment.map_concurrency == 4
    assert deployment.credentials == "ssm" and deployment.customer_key is False


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
