"""Telling people when it matters: signed outbound webhooks with an on-disk outbox, alert
conditions derived from the live state (agent offline, sensor stuck, clock skew, spool filling,
no data from a hub) and e-mail alerts for managers.  Wired by :class:`collector.service.Collector`;
described in ``docs/integrations.md``.
"""
