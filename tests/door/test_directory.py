"""User lookups: short cache, old servers' whole list, list fetched while PIN typed."""

from __future__ import annotations

import pytest
from conftest import FakeClock

from ivs_accessory.door.directory import UserDirectory

ALICE, BOB = "123456", "654321"


def lists(sim):
    """The whole-list requests the simulator saw (no ``cardNumber`` query)."""
    return [r for r in sim.requests() if r["path"] == "admin/users" and not r["query"]]


@pytest.fixture
def old(make_sim, make_client):
    """A 5.2 server (no card query) and a logged-in client, request log cleared."""
    sim = make_sim(version="5.2.0")
    client = make_client(sim)
    client.login()
    client.looks_up_cards_by_query()  # reads the version
    sim.clear_requests()
    return sim, client


def test_a_prefetched_list_answers_the_next_lookup_even_without_a_cache(old):
    sim, client = old
    directory = UserDirectory(client, ttl_s=0, clock=FakeClock())
    assert directory.prefetch() is True
    assert len(sim.requests()) == 1
    assert directory.find(ALICE).id == 2
    assert len(sim.requests()) == 1  # answered from the prefetched list
    # Used once: with ttl_s = 0 the lookup after it asks VALT again.
    assert directory.find(ALICE).id == 2
    assert len(lists(sim)) == 2


def test_an_unknown_pin_is_answered_from_the_prefetched_list_too(old):
    sim, client = old
    directory = UserDirectory(client, ttl_s=0, clock=FakeClock())
    directory.prefetch()
    assert directory.find("999999") is None
    assert len(sim.requests()) == 1


def test_a_prefetch_older_than_its_limit_is_not_used(old):
    sim, client = old
    clock = FakeClock()
    directory = UserDirectory(client, ttl_s=0, clock=clock)
    directory.prefetch()
    clock.now += UserDirectory.PREFETCH_VALID_S
    assert directory.find(BOB).id == 3
    assert len(lists(sim)) == 2


def test_no_prefetch_while_the_cached_list_is_fresh(old):
    sim, client = old
    clock = FakeClock()
    directory = UserDirectory(client, ttl_s=60, clock=clock)
    directory.find(ALICE)
    assert directory.prefetch() is False
    clock.now += 61
    assert directory.prefetch() is True
    assert len(lists(sim)) == 2


@pytest.mark.parametrize("version", ["6.5.0", "6.6.0"])
def test_a_newer_server_whose_list_lacks_card_numbers_is_asked_once(
    make_sim, make_client, version
):
    # 6.5+ may leave card numbers out of the whole list: then it answers nothing,
    # and PINs are looked up by query at Enter from then on.
    sim = make_sim(version=version)
    directory = UserDirectory(make_client(sim), ttl_s=0, clock=FakeClock())
    assert directory.prefetch() is False
    assert len(lists(sim)) == 1
    assert directory.find(ALICE).id == 2  # by query, not from the useless list
    assert sim.requests()[-1]["query"] == {"cardNumber": ALICE}
    assert directory.prefetch() is False
    assert len(lists(sim)) == 1  # learnt: not fetched again


@pytest.mark.parametrize("version", ["6.5.0", "6.6.0"])
def test_a_newer_server_that_lists_card_numbers_is_prefetched(
    make_sim, make_client, version
):
    sim = make_sim(version=version, card_numbers_listed=True)
    directory = UserDirectory(make_client(sim), ttl_s=0, clock=FakeClock())
    assert directory.prefetch() is True
    sim.clear_requests()
    assert directory.find(ALICE).id == 2
    assert sim.requests() == []
    # Its list may not show every card the query finds: a miss is asked.
    directory.prefetch()
    sim.clear_requests()
    assert directory.find("999999") is None
    assert [r["query"] for r in sim.requests()] == [{"cardNumber": "999999"}]


def test_clear_forgets_a_prefetched_list(old):
    sim, client = old
    directory = UserDirectory(client, ttl_s=0, clock=FakeClock())
    directory.prefetch()
    directory.clear()
    directory.find(ALICE)
    assert len(lists(sim)) == 2
