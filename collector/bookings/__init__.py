"""Everything about bookings of bookable rooms (meeting, conference and project rooms).

* :mod:`~collector.bookings.calendar`: iCalendar data → :class:`~collector.bookings.calendar.Booking`
  occurrences (pure).
* :mod:`~collector.bookings.usage`: bookings vs sensed occupancy: booked and used time,
  no-shows, live release flags (pure).
* :mod:`~collector.bookings.sources`: where calendars come from (files, URLs), cached.
* :mod:`~collector.bookings.cli`: ``hubsense bookings show``.

The API routes are in :mod:`collector.api.bookings`.
"""
