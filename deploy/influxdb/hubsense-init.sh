#!/bin/bash
# influxdb-init (docker-compose.yml): runs after InfluxDB is healthy, on every 'up'; idempotent.
# InfluxDB's own first-start setup (DOCKER_INFLUXDB_INIT_*) made the org, the admin and the
# long-term bucket.  This adds what hubsense needs; the influx CLI reads INFLUX_HOST, INFLUX_ORG
# and INFLUX_TOKEN (the admin token, which neither the collector nor Grafana ever gets):
#   bucket hubsense_raw          raw events and agent health, retention HUBSENSE_RAW_RETENTION
#   DBRP hubsense/autogen        -> bucket hubsense (default; hubsense speaks the v1 API)
#   DBRP hubsense/hubsense_raw   -> bucket hubsense_raw
#   v1 user hubsense-collector   read + write on those two buckets, nothing else (not all-access)
#   v1 user hubsense-grafana     read on those two buckets, nothing else
# Existing users get their password from .env again, so 'hubsense deploy init --rotate' applies.
set -euo pipefail
: "${INFLUX_TOKEN:?INFLUXDB_ADMIN_TOKEN is empty: run hubsense deploy init}"
db="${HUBSENSE_INFLUX_DATABASE:-hubsense}"
bucket="${HUBSENSE_INFLUX_BUCKET:-hubsense}"
raw_bucket="${bucket}_raw"
raw_rp="${HUBSENSE_INFLUX_RAW_RP:-hubsense_raw}"
raw_retention="${HUBSENSE_RAW_RETENTION:-90d}"

bucket_id() {  # the id of bucket $1, or nothing
    influx bucket list --name "$1" --hide-headers 2>/dev/null | awk '{print $1}' || true
}

ensure_dbrp() {  # RP BUCKET-ID [--default]
    if [ -z "$(influx v1 dbrp list --db "$db" --rp "$1" --hide-headers)" ]; then
        influx v1 dbrp create --db "$db" --rp "$1" --bucket-id "$2" "${@:3}" > /dev/null
        echo "hubsense: DBRP $db/$1 -> bucket $2"
    fi
}

ensure_user() {  # USERNAME PASSWORD PERMISSION-FLAGS...
    local name=$1 password=$2
    shift 2
    if [ -z "$password" ]; then
        echo "error: no InfluxDB password for $name in .env: run hubsense deploy init" >&2
        exit 1
    fi
    if [ -n "$(influx v1 auth list --username "$name" --hide-headers)" ]; then
        influx v1 auth set-password --username "$name" --password "$password" > /dev/null
        echo "hubsense: InfluxDB user $name: password set from .env"
    else
        influx v1 auth create --username "$name" --password "$password" --description "$name" "$@" > /dev/null
        echo "hubsense: InfluxDB user $name created"
    fi
}

long_id=$(bucket_id "$bucket")
if [ -z "$long_id" ]; then
    echo "error: InfluxDB has no bucket $bucket: its first-start setup did not finish" \
         "(README, troubleshooting: a failed first start)" >&2
    exit 1
fi
raw_id=$(bucket_id "$raw_bucket")
if [ -z "$raw_id" ]; then
    raw_id=$(influx bucket create --name "$raw_bucket" --retention "$raw_retention" --hide-headers | awk '{print $1}')
    echo "hubsense: bucket $raw_bucket ($raw_retention)"
fi
ensure_dbrp autogen "$long_id" --default
ensure_dbrp "$raw_rp" "$raw_id"
ensure_user "$HUBSENSE_INFLUX_USERNAME" "$HUBSENSE_INFLUX_PASSWORD" \
    --read-bucket "$long_id" --write-bucket "$long_id" --read-bucket "$raw_id" --write-bucket "$raw_id"
ensure_user "$GRAFANA_INFLUX_USERNAME" "$GRAFANA_INFLUX_PASSWORD" \
    --read-bucket "$long_id" --read-bucket "$raw_id"
