"""``hubsense deploy``: the hub server's deployment folder for ``docker-compose.yml``.

``hubsense deploy init`` does everything before ``docker compose up`` (``.env`` with generated
secrets, broker users and ACL through :mod:`hubsense.provision`, the first manager token, owners
and modes of ``./secrets``); ``--check`` says what is wrong with a folder; ``--rotate`` rotates.
"""
