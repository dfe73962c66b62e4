#!/bin/sh
# Build /mosquitto/auth/{passwd,acl} from the environment (no secret lives in the repository):
# the collector's user from MQTT_COLLECTOR_USERNAME / MQTT_COLLECTOR_PASSWORD, plus the
# hashed agent entries of /mosquitto/config/agents.passwd if that file exists.
# If 'hubsense provision' output is mounted at /mosquitto/provisioned (docs/security.md), its
# password file and ACL are used instead, and certs/{ca.crt,server.crt,server.key} there turn on
# the TLS listener on 8883 (written to /mosquitto/auth/conf.d/tls.conf).
set -eu
root="${MOSQUITTO_ROOT:-/mosquitto}"
out="$root/auth/passwd"
tmp="$out.new"
prov="$root/provisioned"
mkdir -p "$root/auth/conf.d"
: > "$tmp"
if [ -f "$prov/mosquitto/passwd" ] && [ -f "$prov/mosquitto/acl" ]; then
    if ! grep -q "^$MQTT_COLLECTOR_USERNAME:" "$prov/mosquitto/passwd"; then
        echo "error: HUBSENSE_MQTT_USERNAME ($MQTT_COLLECTOR_USERNAME) is not in the provisioned password" \
             "file: copy HUBSENSE_MQTT_USERNAME/PASSWORD from collector.env into .env" >&2
        exit 1
    fi
    cat "$prov/mosquitto/passwd" > "$tmp"
    cp "$prov/mosquitto/acl" "$root/auth/acl.new"
else
    if [ -f "$root/config/agents.passwd" ]; then
        grep -v '^#' "$root/config/agents.passwd" | grep ':' >> "$tmp" || true
    fi
    mosquitto_passwd -b "$tmp" "$MQTT_COLLECTOR_USERNAME" "$MQTT_COLLECTOR_PASSWORD"
    sed "s/^user COLLECTOR_USERNAME$/user $MQTT_COLLECTOR_USERNAME/" "$root/config/acl.template" \
        > "$root/auth/acl.new"
fi
chmod 0600 "$tmp" "$root/auth/acl.new"
chown mosquitto:mosquitto "$tmp" "$root/auth/acl.new" 2>/dev/null || true
mv "$tmp" "$out"
mv "$root/auth/acl.new" "$root/auth/acl"
tls="$root/auth/conf.d/tls.conf"
if [ -f "$prov/certs/ca.crt" ] && [ -f "$prov/certs/server.crt" ] && [ -f "$prov/certs/server.key" ]; then
    mkdir -p "$root/auth/certs"
    cp "$prov/certs/ca.crt" "$prov/certs/server.crt" "$prov/certs/server.key" "$root/auth/certs/"
    chmod 0600 "$root/auth/certs/server.key"
    chown -R mosquitto:mosquitto "$root/auth/certs" 2>/dev/null || true
    {
        echo "listener 8883"
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
echo "mosquitto passwd: $(wc -l < "$out") user(s)"
