#!/usr/bin/env bash
# Makes a development PKI for the site broker (docs/security.md):
#   ca.crt / ca.key                 the development CA (EC P-256, 10 years)
#   broker.crt / broker.key         Mosquitto's server certificate, SAN DNS:localhost + IP:127.0.0.1 (+ --broker-name)
#   cloud-bridge.crt / .key         the cloud bridge's client certificate (CN = cloud-bridge)
#   site-controller.crt / .key      the site infrastructure's client certificate (e-stop panels, zone controllers)
#   devices/<id>.crt / .key         one client certificate per robot, CN = the robot id (= its MQTT username,
#                                   its Sparkplug edge node id and the <robot> of its wh/v1 topics)
# Usage: make-dev-pki.sh OUT_DIR [--devices robot-1,robot-2] [--broker-name host] [--days N]
# Re-running keeps an existing CA (so issued certificates stay valid) and re-issues the leaf certificates.
# Development only: keys are unencrypted (mode 600); production keys live in a TPM/HSM or at least a vault.
set -euo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
[[ $# -ge 1 ]] || usage 2
[[ "$1" == "-h" || "$1" == "--help" ]] && usage 0
out=$1; shift
devices="robot-1"
broker_name=""
days=825
while [[ $# -gt 0 ]]; do
  case "$1" in
    --devices) devices=$2; shift 2 ;;
    --broker-name) broker_name=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "make-dev-pki.sh: unknown option '$1'" >&2; usage 2 ;;
  esac
done
command -v openssl >/dev/null || { echo "make-dev-pki.sh: openssl is not installed" >&2; exit 1; }
id_re='^[A-Za-z0-9_-]{1,64}$'  # the FleetTopics id rule: an identity can never inject topic levels or wildcards
mkdir -p "$out/devices"
umask 077
ext=$(mktemp); trap 'rm -f "$ext"' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [[ ! -s "$out/ca.key" || ! -s "$out/ca.crt" ]]; then
  key "$out/ca.key"
  openssl req -x509 -new -key "$out/ca.key" -sha256 -days 3650 -subj "/O=WarehouseHybrid dev/CN=WarehouseHybrid dev CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$out/ca.crt"
fi

# issue NAME CN PURPOSE [SAN]
issue() {
  local path=$1 cn=$2 purpose=$3 san=${4:-}
  key "$path.key"
  openssl req -new -key "$path.key" -subj "/O=WarehouseHybrid dev/CN=$cn" -out "$path.csr"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyAgreement"
    echo "extendedKeyUsage=$purpose"
    [[ -n "$san" ]] && echo "subjectAltName=$san"
  } > "$ext"
  openssl x509 -req -in "$path.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial -sha256 -days "$days" -extfile "$ext" -out "$path.crt" 2>/dev/null
  rm -f "$path.csr"
}

san="DNS:localhost,IP:127.0.0.1"
[[ -n "$broker_name" ]] && san="$san,DNS:$broker_name"
issue "$out/broker" "${broker_name:-localhost}" serverAuth "$san"
issue "$out/cloud-bridge" cloud-bridge clientAuth
issue "$out/site-controller" site-controller clientAuth
IFS=',' read -ra ids <<< "$devices"
for id in "${ids[@]}"; do
  [[ "$id" =~ $id_re ]] || { echo "make-dev-pki.sh: device id '$id' must be 1-64 of [A-Za-z0-9_-]" >&2; exit 2; }
  [[ "$id" == cloud-bridge || "$id" == site-controller ]] && { echo "make-dev-pki.sh: '$id' is a reserved identity" >&2; exit 2; }
  issue "$out/devices/$id" "$id" clientAuth
done
chmod 600 "$out"/*.key "$out"/devices/*.key
chmod 644 "$out"/*.crt "$out"/devices/*.crt
echo "dev PKI in $out: CA, broker (SAN $san), cloud-bridge, site-controller, devices: ${devices}"
