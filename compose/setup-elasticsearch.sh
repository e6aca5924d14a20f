#!/usr/bin/env bash
# One-shot setup of the secured Elasticsearch node (the compose `setup` service).
#
# Runs as root in the Elasticsearch image, with the `certs` volume at config/certs:
#   1. a CA and a certificate for the `elasticsearch` host, made once with
#      elasticsearch-certutil (kept in the volume: a second run reuses them);
#   2. file modes: keys readable by root and group 0 only (Elasticsearch and Kibana run as
#      uid 1000, gid 0), the CA certificate readable by everyone (the crawler, uid 10001,
#      needs it to verify Elasticsearch; it is public);
#   3. once Elasticsearch answers: the kibana_system password, a role limited to the
#      onionlab-* indices and templates with its user `onionlab` (crawler and index setup),
#      and a read-only `trainee` user for Kibana.
# Secrets come from the environment (.env): never from this file.
set -euo pipefail

: "${ELASTIC_PASSWORD:?set ELASTIC_PASSWORD in .env}"
: "${KIBANA_PASSWORD:?set KIBANA_PASSWORD in .env}"
: "${ONIONLAB_ES_PASSWORD:?set ONIONLAB_ES_PASSWORD in .env}"
: "${TRAINEE_PASSWORD:?set TRAINEE_PASSWORD in .env}"

CERTS=config/certs
ES_URL=https://elasticsearch:9200

if [ ! -f "$CERTS/ca/ca.crt" ]; then
    echo "creating the certificate authority"
    bin/elasticsearch-certutil ca --silent --pem --out "$CERTS/ca.zip"
    unzip -q -o "$CERTS/ca.zip" -d "$CERTS"
    rm -f "$CERTS/ca.zip"
fi
if [ ! -f "$CERTS/elasticsearch/elasticsearch.crt" ]; then
    echo "creating the certificate of the elasticsearch host"
    cat > "$CERTS/instances.yml" <<'YAML'
instances:
  - name: elasticsearch
    dns: [elasticsearch, localhost]
    ip: [127.0.0.1]
YAML
    bin/elasticsearch-certutil cert --silent --pem --out "$CERTS/certs.zip" \
        --in "$CERTS/instances.yml" --ca-cert "$CERTS/ca/ca.crt" --ca-key "$CERTS/ca/ca.key"
    unzip -q -o "$CERTS/certs.zip" -d "$CERTS"
    rm -f "$CERTS/certs.zip"
fi
chown -R root:root "$CERTS"
find "$CERTS" -type d -exec chmod 0755 {} +
find "$CERTS" -type f -exec chmod 0644 {} +
find "$CERTS" -type f -name '*.key' -exec chmod 0640 {} +

# Every request below authenticates as `elastic` and verifies the server with the new CA.
es() {
    local method=$1 path=$2 body=$3
    curl --silent --show-error --fail --cacert "$CERTS/ca/ca.crt" \
        --user "elastic:$ELASTIC_PASSWORD" --request "$method" \
        --header 'Content-Type: application/json' --data "$body" "$ES_URL$path" > /dev/null
}

echo "waiting for Elasticsearch at $ES_URL"
until curl --silent --cacert "$CERTS/ca/ca.crt" "$ES_URL" | grep -q 'missing authentication credentials'; do
    sleep 5
done

echo "setting the kibana_system password"
until es POST /_security/user/kibana_system/_password "{\"password\": \"$KIBANA_PASSWORD\"}"; do
    sleep 5
done

echo "creating the onionlab_writer role and the onionlab and trainee users"
es PUT /_security/role/onionlab_writer '{
  "cluster": ["monitor", "manage_index_templates", "manage_ilm"],
  "indices": [{"names": ["onionlab-*"], "privileges": ["all"]}]
}'
es PUT /_security/user/onionlab "{
  \"password\": \"$ONIONLAB_ES_PASSWORD\",
  \"roles\": [\"onionlab_writer\"],
  \"full_name\": \"onionlab crawler and index setup\"
}"
es PUT /_security/user/trainee "{
  \"password\": \"$TRAINEE_PASSWORD\",
  \"roles\": [\"viewer\"],
  \"full_name\": \"onionlab trainee (read-only Kibana)\"
}"
echo "setup done"
