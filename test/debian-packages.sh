#!/usr/bin/env bash
# The Debian packages the tests use, installed when missing (as root, with apt-get), or named with the
# command that installs them. Each is recognised by the program the tests run, so a package installed
# another way counts too.
#   mosquitto          the MQTT peer of the benchmark smoke test
#   mosquitto-clients  mosquitto_pub / mosquitto_sub, a second MQTT client
#   amqp-tools         rabbitmq-c's amqp-publish / amqp-consume: a second AMQP client (test/amqp-tools.test.ts)
#   chromium           the headless browser playwright-core drives (test/browser-live-page.test.ts)
#   rabbitmq-server    the AMQP peer of the benchmark and of the bridge tests
#   prometheus         promtool, Prometheus's own parser of /metrics (test/metrics.test.ts), and the
#                      Prometheus server that runs the Grafana dashboard's queries (test/grafana-dashboard.test.ts)
set -euo pipefail

declare -A program=(
  [mosquitto]=/usr/sbin/mosquitto
  [mosquitto-clients]=/usr/bin/mosquitto_pub
  [amqp-tools]=/usr/bin/amqp-publish
  [chromium]=/usr/bin/chromium
  [rabbitmq-server]=/usr/sbin/rabbitmq-server
  [prometheus]=/usr/bin/promtool
)
missing=()
for pkg in mosquitto mosquitto-clients amqp-tools chromium rabbitmq-server prometheus; do
  [ -x "${program[$pkg]}" ] || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

install="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "npm test: the tests need the Debian packages ${missing[*]}, which are not installed." >&2
  echo "Install them (as root), then run npm test again:  sudo sh -c '$install'" >&2
  exit 1
fi
echo "npm test: installing the Debian packages the tests need: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for pkg in "${missing[@]}"; do
  [ -x "${program[$pkg]}" ] || { echo "npm test: apt-get installed $pkg but ${program[$pkg]} is still missing" >&2; exit 1; }
done
