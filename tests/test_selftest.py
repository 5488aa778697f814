"""The mutation self-test: every realistic mutation of reference_impl/ makes the gate fail.

The baseline is built on the machine the test runs on, so this never skips for an environment reason.
"""

import json

import pytest

from backprop_repro.cli.commands import main
from backprop_repro.sources import selftest
from backprop_repro.core.errors import BadInput
from backprop_repro.core.spec import Mutation
from backprop_repro.sources.selftest import MUTATIONS, reachable_examples, run_selftest


@pytest.fixture(scope="module")
def selftest_rows():
    return {row["id"]: row for row in run_selftest()}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.id for m in MUTATIONS])
def test_mutation_is_killed_by_the_strict_gate(selftest_rows, mutation):
    row = selftest_rows[mutation.id]
    if row["equivalent_here"]:     # e.g. nep50-plain-add under NumPy 1.x: the strict gate proves no bit moved
        assert not row["killed_strict"], f"{mutation.id} claims to be equivalent here but changed bits"
    else:
        assert row["killed_strict"], f"mutation {mutation.id} ({mutation.why}) survived check --strict"


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.id for m in MUTATIONS])
def test_mutation_is_killed_by_the_default_gate_or_its_survival_is_explained(selftest_rows, mutation):
    row = selftest_rows[mutation.id]
    if row["equivalent_here"]:
        assert not row["killed_default"]
    elif mutation.default_survivor:
        assert not row["killed_default"], (f"{mutation.id} is now killed by the default gate: drop its "
                                           f"default_survivor note")
    else:
        assert row["killed_default"], f"mutation {mutation.id} ({mutation.why}) survived the default gate"


def test_catalogue_is_large_enough_and_unique():
    assert len(MUTATIONS) >= 15 and len({m.id for m in MUTATIONS}) == len(MUTATIONS)


def test_reachability_follows_imports():
    assert "feed_forward" not in reachable_examples("reference_impl.examples.cavar_single_layer")
    assert "toy_backprop" in reachable_examples("reference_impl.finite_differences")
    assert "feed_forward" not in reachable_examples("reference_impl.finite_differences")
    assert {"chain_rule", "toy_backprop"} <= set(reachable_examples("reference_impl.examples._toy_network"))
    # gradient_check reads every example's GRADIENT_PROBLEM through the registry: a change there reaches it
    assert reachable_examples("reference_impl.examples.xor_341") == ["gradient_check", "xor_341"]
    assert reachable_examples("reference_impl.examples.cavar_single_layer") == ["cavar_single_layer", "gradient_check"]


def test_every_mutation_names_a_module_and_its_own_defaults_to_the_declaring_example():
    from backprop_repro.core import registry

    by_id = {m.id: m for m in MUTATIONS}
    assert by_id["xor-seed"].module == registry.get("xor_341").module_name
    assert by_id["fd-step-last-digit"].module == "reference_impl.finite_differences"


def test_a_module_quoting_its_own_mutation_is_mutated_in_its_code_not_in_the_declaration():
    text = 'SEED = 0\n\nMUTATIONS = (\n    Mutation("s", "SEED = 0", "SEED = 1", "seed"),\n)\n'
    mutation = Mutation("s", "SEED = 0", "SEED = 1", "seed")
    assert selftest._mutated(text, mutation, "m.py").startswith("SEED = 1\n\nMUTATIONS = (\n    Mutation(\"s\", \"SEED = 0\"")
    twice = text.replace("SEED = 0\n\n", "SEED = 0\nSEED = 0\n\n", 1)
    with pytest.raises(BadInput, match="occurs 2 times in m.py"):
        selftest._mutated(twice, mutation, "m.py")
    with pytest.raises(BadInput, match="occurs 0 times"):   # only in the declaration: nothing to mutate
        selftest._mutated(text.replace("SEED = 0\n\n", "", 1), mutation, "m.py")


def test_selftest_command_writes_selftest_json(tmp_path, capsys):
    code = main(["selftest", "--only", "cavar-seed", "xor-seed", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    data = json.loads((tmp_path / "selftest.json").read_text())
    assert {m["name"] for m in data["mutations"]} == {"cavar-seed", "xor-seed"}
    assert all({"killed_default", "killed_strict", "caught_by"} <= set(m) for m in data["mutations"])
    assert "kill rate: default 2/2" in capsys.readouterr().out


def test_unknown_mutation_is_bad_input(tmp_path, capsys):
    assert main(["selftest", "--only", "no-such-mutation", "--out", str(tmp_path)]) == 2
    assert "--only no-such-mutation" in capsys.readouterr().err


def test_an_equivalence_claim_is_checked_not_assumed(monkeypatch):
    """A mutant declared equivalent in this environment must change no bit; if it does, the gate fails."""
    mutation = next(m for m in MUTATIONS if m.equivalent_when)
    monkeypatch.setitem(selftest.EQUIVALENT_WHEN, mutation.equivalent_when[0], lambda: True)
    row = {"equivalent_here": selftest.equivalent_here(mutation), "killed_strict": True, "killed_default": True,
           "expected_default_survivor": ""}
    assert row["equivalent_here"].startswith(mutation.equivalent_when[0]) and selftest.unexplained(row)
    assert not selftest.unexplained({**row, "killed_strict": False, "killed_default": False})
    monkeypatch.setitem(selftest.EQUIVALENT_WHEN, mutation.equivalent_when[0], lambda: False)
    assert selftest.equivalent_here(mutation) == ""
    assert selftest.unexplained({**row, "equivalent_here": "", "killed_strict": False})
