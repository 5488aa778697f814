"""The one verdict record every command produces, and the one function that turns it into an exit code.

An :class:`Observation` is one thing compared: its kind, its subject (what), where it comes from, the expected and
actual values, the rule (policy, predicate, bound or gate) and the status. A :class:`VerdictRecord` holds the
command's observations, the environment fingerprint, its summaries and the JSON form the command writes (for
``check`` and ``sweep`` that is results.json, schema_version 1, unchanged). Both are frozen: sources build a record
once; renderers (console, CSV, HTML, JUnit, step summary) only read it, either its observations or, through the
read-only mapping interface, its JSON form. :func:`exit_code` is the one place that maps a record to an exit code.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from types import MappingProxyType

from backprop_repro.core.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_REGRESSION

__all__ = ["Status", "Kind", "Observation", "VerdictRecord", "NON_FAILING", "exit_code", "build",
           "results_observations"]


class Status(str, Enum):
    """The status of one observation (str-valued: it is written into JSON as its value)."""
    PASS = "pass"
    FAIL = "fail"
    MISSING_PIN = "missing-pin"
    ERROR = "error"
    #: a check that could not run here (e.g. the torch oracle without torch): reported as such, never as a pass
    UNAVAILABLE = "unavailable"
    INTERRUPTED = "interrupted"

    def __str__(self):
        return self.value


class Kind(str, Enum):
    """What an observation compares."""
    QUANTITY = "quantity"              # a quantity against its pin under a tolerance policy
    WARNINGS = "warnings"              # the RuntimeWarnings an example raised against the declared ones
    PRINTED_VALUE = "printed-value"    # a document's printed digits against a fresh value
    CLAIM = "claim"                    # a prose claim's predicate
    DETERMINISM = "determinism"        # bitwise equality across processes
    SWEEP = "sweep"                    # seed-sweep statistics against their pin (a sampling bound)
    BENCH_GATE = "bench-gate"          # a benchmark ratio against its threshold
    MUTATION = "mutation"              # a self-test mutation: killed, or survived with a recorded reason
    CPU_CONFIGURATION = "cpu-configuration"   # the default check under one SIMD level / BLAS kernel
    ENVIRONMENT = "environment"        # one environment of a drift matrix against the baseline
    NOTEBOOK = "notebook"              # a notebook's stored outputs against fresh runs
    PIN = "pin"                        # a regenerated pin against the stored one

    def __str__(self):
        return self.value


#: Statuses that do not fail the gate.
NON_FAILING = (Status.PASS, Status.UNAVAILABLE)


@dataclass(frozen=True)
class Observation:
    """One comparison: ``subject`` (what was compared) at ``where``, ``expected`` against ``actual`` by ``rule``."""
    kind: Kind
    subject: str
    status: Status
    where: str = ""
    expected: object = None
    actual: object = None
    rule: str | None = None
    note: str = ""

    def __post_init__(self):   # statuses and kinds read from JSON arrive as strings
        object.__setattr__(self, "kind", Kind(self.kind))
        object.__setattr__(self, "status", Status(self.status))


@dataclass(frozen=True, eq=False)
class VerdictRecord(Mapping):
    """What one command produced. The mapping interface reads the JSON form (``record["results"]``)."""
    command: str
    environment: Mapping = field(default_factory=dict)
    observations: tuple = ()
    summaries: Mapping = field(default_factory=dict)
    payload: Mapping = field(default_factory=dict)
    exit_status: int = EXIT_OK

    def __post_init__(self):
        object.__setattr__(self, "observations", tuple(self.observations))
        object.__setattr__(self, "summaries", MappingProxyType(dict(self.summaries)))
        object.__setattr__(self, "payload", MappingProxyType(dict(self.payload)))

    def __getitem__(self, key):
        return self.payload[key]

    def __iter__(self):
        return iter(self.payload)

    def __len__(self):
        return len(self.payload)

    def as_dict(self):
        """The JSON form (a new top-level dict; what the command writes)."""
        return dict(self.payload)

    def failing(self):
        """The observations that fail the gate."""
        return [o for o in self.observations if o.status not in NON_FAILING]


def exit_code(record):
    """The one place where a record becomes an exit code, for every command: 130 when the run was interrupted,
    1 when any observation fails (a regression), else 0. (Bad input, 2, never yields a record.)"""
    if any(o.status is Status.INTERRUPTED for o in record.observations):
        return EXIT_INTERRUPTED
    return EXIT_REGRESSION if record.failing() else EXIT_OK


def build(command, observations=(), *, environment=None, summaries=None, payload=None, status_key=False):
    """A record with its exit status from :func:`exit_code`; ``status_key`` also writes it into the JSON form as
    ``exit_status`` (results.json and sweep files carry it)."""
    draft = VerdictRecord(command, environment or {}, observations, summaries or {}, payload or {})
    code = exit_code(draft)
    new_payload = {**draft.payload, "exit_status": code} if status_key else draft.payload
    return replace(draft, payload=new_payload, exit_status=code)


def results_observations(payload):
    """The observations of a results.json-shaped record (``check`` and ``sweep``): one per quantity, example
    warnings, printed value, claim, determinism probe, sweep and bench gate."""
    obs = []
    for r in payload.get("results", []):
        obs.append(Observation(Kind.QUANTITY, f"{r['example']}:{r['quantity']}", r["status"], r["example"],
                               r.get("expected"), r.get("actual"), r.get("policy"), r.get("message", "")))
    for e in payload.get("examples", []):
        obs.append(Observation(Kind.WARNINGS, e["example"], e.get("warnings_status", "pass"), e.get("module", ""),
                               e.get("expected_warnings"), e.get("warnings"), None, e.get("warnings_note", "")))
    for d in payload.get("document_values", []):
        obs.append(Observation(Kind.PRINTED_VALUE, d.get("id", d["quantity"]), d["status"], d.get("document", ""),
                               d.get("expected_outcome"), d.get("outcome"), d.get("policy"), d.get("note", "")))
    for c in payload.get("claims", []):
        obs.append(Observation(Kind.CLAIM, c["id"], c["status"], c.get("document", ""), c.get("expected_verdict"),
                               c.get("verdict"), c.get("predicate"), c.get("note", "")))
    if payload.get("determinism"):
        d = payload["determinism"]
        obs.append(Observation(Kind.DETERMINISM, f"{d.get('repeats')} processes", d["status"],
                               note=f"{len(d.get('differences', []))} quantities differ"))
    for s in payload.get("sweeps", []):
        obs.append(Observation(Kind.SWEEP, s.get("example", ""), s.get("status", "pass"), rule=s.get("verdict_rule"),
                               note=s.get("note", "")))
    for g in (payload.get("bench") or {}).get("gates", []):
        obs.append(Observation(Kind.BENCH_GATE, g["name"], g.get("status", "pass"), g.get("subject", ""),
                               g.get("threshold"), g.get("measured"), note=g.get("note", "")))
    return obs
