"""The one verdict record and the one exit-code function; the command line's help."""

import dataclasses
import json

import pytest

from backprop_repro.core import record
from backprop_repro.core.record import Kind, Observation, Status, exit_code


def _record(*statuses):
    return record.build("test", [Observation(Kind.QUANTITY, f"q{i}", s) for i, s in enumerate(statuses)])


@pytest.mark.parametrize("statuses, code", [
    ((), 0), (("pass", "unavailable"), 0), (("pass", "fail"), 1), (("missing-pin",), 1), (("error",), 1),
    (("fail", "interrupted"), 130),
])
def test_one_function_maps_observations_to_the_exit_code(statuses, code):
    built = _record(*statuses)
    assert exit_code(built) == built.exit_status == code


def test_records_and_observations_are_immutable():
    built = record.build("check", [Observation(Kind.CLAIM, "c", "pass")], payload={"claims": []}, status_key=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.exit_status = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.observations[0].status = Status.FAIL
    with pytest.raises(TypeError):
        built.payload["exit_status"] = 1
    assert dict(built) == {"claims": [], "exit_status": 0}


def test_statuses_and_kinds_are_enums_that_write_as_their_values():
    obs = Observation("printed-value", "x", "missing-pin")
    assert obs.kind is Kind.PRINTED_VALUE and obs.status is Status.MISSING_PIN
    assert json.dumps({"status": obs.status}) == '{"status": "missing-pin"}'
    with pytest.raises(ValueError):
        Observation(Kind.CLAIM, "x", "passed")


def test_a_check_record_has_one_observation_per_row_and_the_same_json(full_check):
    kinds = {k: sum(o.kind is k for o in full_check.observations) for k in Kind}
    assert kinds[Kind.QUANTITY] == len(full_check["results"])
    assert kinds[Kind.PRINTED_VALUE] == len(full_check["document_values"])
    assert kinds[Kind.CLAIM] == len(full_check["claims"])
    assert kinds[Kind.WARNINGS] == len(full_check["examples"])
    assert list(full_check.as_dict())[-1] == "exit_status" and full_check["exit_status"] == exit_code(full_check)


def test_a_changed_row_fails_the_record():
    from backprop_repro.sources import runner

    row = {"id": "a:b", "verdict": "not-reproduced", "status": "fail"}
    assert runner.assemble({}, claims=[row])["exit_status"] == 1
    assert runner.assemble({}, claims=[{**row, "status": "unavailable"}])["exit_status"] == 0


def test_selftest_bench_and_cpu_drift_records():
    from backprop_repro.sources import bench, cpu_drift, selftest

    row = {"id": "m", "why": "", "examples": ["x"], "killed_default": False, "killed_strict": False,
           "equivalent_here": "", "expected_default_survivor": "", "caught_by": []}
    assert exit_code(selftest.verdict([row])) == 1
    killed = selftest.verdict([{**row, "killed_default": True, "killed_strict": True}])
    assert exit_code(killed) == 0 and killed["kill_rate_default"] == 1.0
    assert exit_code(bench.verdict([bench.Gate("g", "s", 1.0, 2.0, False)])) == 1
    assert exit_code(bench.verdict([bench.Gate("g", "s", 1.0, 2.0, True)])) == 0
    runs = [{"name": "a", "exit": 0, "signal": None}, {"name": "b", "exit": 1, "signal": None}]
    assert exit_code(cpu_drift._verdict(runs[:1], [{"name": "c", "reason": "absent"}], {})) == 0
    assert exit_code(cpu_drift._verdict(runs, [], {})) == 1


def test_help_describes_every_command_and_lists_the_exit_codes(capsys):
    from backprop_repro.cli import build_parser

    parser = build_parser()
    text = parser.format_help()
    assert "`" not in parser.description and parser.description.rstrip().endswith(".")
    for code in ("0 ", "1 ", "2 ", "130 "):
        assert f"\n  {code}" in text
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():
        assert command.description and command.description.rstrip().endswith("."), name
    assert "--no-progress" not in sub.choices["sweep"].format_help()
    assert sub.choices["sweep"].parse_args(["xor_341", "--no-progress"]).quiet   # the old spelling still works
