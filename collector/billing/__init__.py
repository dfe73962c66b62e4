"""Usage-based billing of bookable rooms per organisation (docs/bookings.md).

* :mod:`~collector.billing.policy`: what one booking costs under its room's tariff (pure, integer öre).
* :mod:`~collector.billing.statement`: the monthly statement per organisation (pure).
* :mod:`~collector.billing.load`: the statement from the calendars and the store.

The facts it prices (sensed minutes, overruns, releases) are :mod:`collector.bookings.facts`; the API
routes are in :mod:`collector.api.billing`.
"""
