"""Typed metrics: lazy definition per label values, names that Envoy's stats_tags can split."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from proxywasm import Counter, Gauge, Histogram
from proxywasm.types import MetricType
from tests.test_sdk_fakehost import FakeHost, installed


@pytest.fixture
def host() -> Iterator[FakeHost]:
    with installed() as fake:
        yield fake


def test_counter_is_defined_once_per_label_values(host: FakeHost) -> None:
    requests = Counter("requests", labels=("method", "code"))
    requests.increment(1, "GET", "200")
    requests.increment(2, "GET", "200")
    requests.increment(1, "POST", "500")
    assert host.called("define_metric") == [
        (MetricType.COUNTER, "requests.method.GET.code.200"),
        (MetricType.COUNTER, "requests.method.POST.code.500"),
    ]
    assert requests.get("GET", "200") == 3


def test_gauge_sets_and_moves_and_histogram_records(host: FakeHost) -> None:
    in_flight = Gauge("in_flight")
    in_flight.set(5)
    in_flight.increment(-2)
    sizes = Histogram("body_size")
    sizes.record(512)
    assert in_flight.get() == 3
    assert host.called("define_metric")[1] == (MetricType.HISTOGRAM, "body_size")
    assert host.metric_samples(2) == [512]


def test_wrong_label_count_and_negative_deltas_are_refused(host: FakeHost) -> None:
    requests = Counter("requests", labels=("method",))
    with pytest.raises(ValueError, match=r"has labels \('method',\), got values \(\)"):
        requests.increment()
    with pytest.raises(ValueError, match="cannot go down"):
        requests.increment(-1, "GET")
    with pytest.raises(ValueError, match="no negative samples"):
        Histogram("size").record(-5)


def test_label_values_with_dots_stay_one_segment() -> None:
    assert Counter("hits", labels=("host",)).full_name(["a.example.com"]) == (
        "hits.host.a_example_com"
    )


def test_stats_tags_regexes_extract_each_label_from_envoys_name() -> None:
    requests = Counter("requests", labels=("method", "code"))
    name = "wasmcustom." + requests.full_name(["GET", "200"])
    tags = {}
    for entry in requests.stats_tags():
        match = re.search(entry["regex"], name)
        assert match is not None
        tags[entry["tag_name"]] = match.group(2)
    assert tags == {"method": "GET", "code": "200"}
