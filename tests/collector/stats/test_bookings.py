import pytest

from collector.bookings import Booking
from collector.stats.bookings import booked_occupancy
from collector.stats.history import History
from tests.collector.stats._hubs import FREE, OCC, UNK, change, local


def test_occupied_share_of_booked_time():
    day = (2026, 6, 2)
    bookings = [Booking("r0", local(*day, 9), local(*day, 11)), Booking("r0", local(*day, 10), local(*day, 12)),
                Booking("other", local(*day, 8), local(*day, 18)), Booking("r0", local(*day, 16), local(*day, 17))]
    changes = [change(FREE, local(*day, 0), "r0"), change(OCC, local(*day, 9, 15), "r0"),
               change(FREE, local(*day, 10, 45), "r0"), change(UNK, local(*day, 16, 30), "r0")]
    history = History.from_changes(changes, local(*day).timestamp(), local(*day, 17).timestamp(),
                                   local(*day, 17).timestamp())
    usage = booked_occupancy(history, "r0", bookings)
    assert usage.booked_s == 4 * 3600  # 9-12 merged, 16-17
    assert usage.known_s == pytest.approx(3.5 * 3600)
    assert usage.occupied_s == pytest.approx(1.5 * 3600)
