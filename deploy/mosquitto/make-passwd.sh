#!/bin/sh
# mosquitto-auth (docker-compose.yml): install the broker's password file and ACL from
# 'hubsense deploy init' (secrets/mosquitto, mounted at /mosquitto/provisioned/mosquitto) into the
# auth volume, owned by the mosquitto user.  secrets/certs/{ca.crt,server.crt,server.key}, mounted
# at /mosquitto/provisioned/certs by deploy/compose.tls.yml, turn on the TLS listener on 8883
# (conf.d/tls.conf, included by mosquitto.conf; an empty certs/require_certificate also demands
# client certificates).  No secret lives in the repository.
set -eu
root="${MOSQUITTO_ROOT:-/mosquitto}"
prov="$root/provisioned"
user="${MQTT_COLLECTOR_USERNAME:-hubsense-collector}"
if [ ! -f "$prov/mosquitto/passwd" ] || [ ! -f "$prov/mosquitto/acl" ]; then
    echo "error: secrets/mosquitto/passwd or acl is missing: run 'hubsense deploy init'" \
         "(docker compose run --rm deploy init)" >&2
    exit 1
fi
if ! grep -q "^$user:" "$prov/mosquitto/passwd"; then
    echo "error: the collector's user $user is not in secrets/mosquitto/passwd: run 'hubsense deploy init'" >&2
    exit 1
fi
mkdir -p "$root/auth/conf.d"
cp "$prov/mosquitto/passwd" "$root/auth/passwd.new"
cp "$prov/mosquitto/acl" "$root/auth/acl.new"
chmod 0600 "$root/auth/passwd.new" "$root/auth/acl.new"
chown mosquitto:mosquitto "$root/auth/passwd.new" "$root/auth/acl.new" 2>/dev/null || true
mv "$root/auth/passwd.new" "$root/auth/passwd"
mv "$root/auth/acl.new" "$root/auth/acl"
tls="$root/auth/conf.d/tls.conf"
if [ -f "$prov/certs/ca.crt" ] && [ -f "$prov/certs/server.crt" ] && [ -f "$prov/certs/server.key" ]; then
    mkdir -p "$root/auth/certs"
    cp "$prov/certs/ca.crt" "$prov/certs/server.crt" "$prov/certs/server.key" "$root/auth/certs/"
    chmod 0600 "$root/auth/certs/server.key"
    chown -R mosquitto:mosquitto "$root/auth/certs" 2>/dev/null || true
    {
        echo "listener 8883"
        echo "use_username_as_clientid true"
        echo "cafile $root/auth/certs/ca.crt"
        echo "certfile $root/auth/certs/server.crt"
        echo "keyfile $root/auth/certs/server.key"
        echo "tls_version tlsv1.2"
        if [ -f "$prov/certs/require_certificate" ]; then echo "require_certificate true"; fi
    } > "$tls"
    echo "mosquitto TLS listener on 8883"
else
    : > "$tls"
fi
echo "mosquitto passwd: $(wc -l < "$root/auth/passwd") user(s)"
