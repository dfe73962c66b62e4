#!/bin/bash
# Runs once, on the first start of the influxdb:2.7 container, after DOCKER_INFLUXDB_INIT_*
# created the org, the long-term bucket (DOCKER_INFLUXDB_INIT_BUCKET) and the admin token.
# hubsense talks to InfluxDB through the v1 API (database + retention policy), so this maps:
#   hubsense/autogen       -> the long-term bucket   (state changes; default)
#   hubsense/hubsense_raw  -> a raw bucket, 90 days  (raw sensor events, agent health)
set -euo pipefail
db="${HUBSENSE_INFLUX_DATABASE:-hubsense}"
raw_rp="${HUBSENSE_INFLUX_RAW_RP:-hubsense_raw}"
raw_retention="${HUBSENSE_RAW_RETENTION:-90d}"

raw_id=$(influx bucket create --org "$DOCKER_INFLUXDB_INIT_ORG" --name "${db}_raw" \
    --retention "$raw_retention" --hide-headers | awk '{print $1}')

influx v1 dbrp create --org "$DOCKER_INFLUXDB_INIT_ORG" --db "$db" --rp autogen \
    --bucket-id "$DOCKER_INFLUXDB_INIT_BUCKET_ID" --default
influx v1 dbrp create --org "$DOCKER_INFLUXDB_INIT_ORG" --db "$db" --rp "$raw_rp" \
    --bucket-id "$raw_id"
echo "hubsense: DBRP $db/autogen -> $DOCKER_INFLUXDB_INIT_BUCKET, $db/$raw_rp -> ${db}_raw ($raw_retention)"
