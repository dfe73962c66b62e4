#!/bin/sh
# Build /mosquitto/auth/{passwd,acl} from the environment (no secret lives in the repository):
# the collector's user from MQTT_COLLECTOR_USERNAME / MQTT_COLLECTOR_PASSWORD, plus the
# hashed agent entries of /mosquitto/config/agents.passwd if that file exists.
set -eu
root="${MOSQUITTO_ROOT:-/mosquitto}"
out="$root/auth/passwd"
tmp="$out.new"
: > "$tmp"
if [ -f "$root/config/agents.passwd" ]; then
    grep -v '^#' "$root/config/agents.passwd" | grep ':' >> "$tmp" || true
fi
mosquitto_passwd -b "$tmp" "$MQTT_COLLECTOR_USERNAME" "$MQTT_COLLECTOR_PASSWORD"
chmod 0600 "$tmp"
chown mosquitto:mosquitto "$tmp" 2>/dev/null || true
mv "$tmp" "$out"
sed "s/^user COLLECTOR_USERNAME$/user $MQTT_COLLECTOR_USERNAME/" "$root/config/acl.template" \
    > "$root/auth/acl"
echo "mosquitto passwd: $(wc -l < "$out") user(s)"
