#!/usr/bin/env bash
# Runs the layer-3 suite once on the `containers` backend, for real, on machines with no Docker
# engine and no registry: enables rootful Podman (environment provisioning, shared/ci), builds the
# embedded Toxiproxy server image on the local Node base image, then runs and gates l3 with
# `--backend containers` into their own results and reports.
#
#   scripts/l3-containers.sh [PATH/TO/enable-podman.sh]     (default ../shared/ci/enable-podman.sh)
#
# When an engine already answers (DOCKER_HOST, or /var/run/docker.sock as on GitHub Actions),
# Podman is not enabled and the image is used as configured (FAULTLINE_TOXIPROXY_IMAGE, default the
# real ghcr.io/shopify/toxiproxy:2.12.0 there). Then faultline's own containers-interrupt test runs on
# the same engine. Exit status: the run's if it failed, else the gate's, else that test's.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ENABLE=${1:-$ROOT/../shared/ci/enable-podman.sh}
RESULTS=${FAULTLINE_CONTAINERS_RESULTS:-.faultline/results-containers}
OUT=${FAULTLINE_CONTAINERS_REPORTS:-reports/containers}

# Does a Docker-compatible API answer at $1 (a unix socket path)?
engine_answers() {
  node -e '
    const req = require("node:http").request({ socketPath: process.argv[1], path: "/_ping", timeout: 2000 },
      (res) => process.exit(res.statusCode === 200 ? 0 : 1));
    req.on("error", () => process.exit(1)); req.on("timeout", () => process.exit(1)); req.end();' "$1"
}

podman_enabled=0
if [ -n "${DOCKER_HOST:-}" ] && [[ $DOCKER_HOST == unix://* ]] && engine_answers "${DOCKER_HOST#unix://}"; then
  echo "l3-containers: using the engine at $DOCKER_HOST"
elif [ -z "${DOCKER_HOST:-}" ] && [ -S /var/run/docker.sock ] && engine_answers /var/run/docker.sock; then
  echo "l3-containers: using the engine at /var/run/docker.sock"
else
  if [ ! -f "$ENABLE" ]; then
    echo "l3-containers: no container engine answers and $ENABLE does not exist" >&2
    exit 2
  fi
  echo "l3-containers: enabling Podman with $ENABLE"
  # NODE_BIN makes it build localhost/node:local (the host's node + libs + busybox) too.
  NODE_BIN=$(command -v node) bash "$ENABLE"
  export DOCKER_HOST=unix:///run/podman/podman.sock
  podman_enabled=1
fi
is_podman=0
if [ "$podman_enabled" = 1 ] || [[ ${DOCKER_HOST:-} == *podman* ]]; then
  is_podman=1
  # The Ryuk reaper image cannot be pulled here; containers are removed by close(), the exit
  # hook, the runner (by attempt label, when it kills a worker), and the trap below.
  export TESTCONTAINERS_RYUK_DISABLED=true
  cleanup() {
    # Only what testcontainers started (label org.testcontainers=true), not the machine's other containers.
    podman ps -aq --filter label=org.testcontainers=true | xargs -r podman rm -f >/dev/null 2>&1 || true
    podman network ls -q --filter label=org.testcontainers=true | xargs -r podman network rm -f >/dev/null 2>&1 || true
  }
  trap cleanup EXIT
fi

# No registry next to Podman here: build the embedded server image unless an image was chosen
# (an explicit localhost/faultline-toxiproxy:* tag is (re)built too).
if { [ -z "${FAULTLINE_TOXIPROXY_IMAGE:-}" ] && [ "$is_podman" = 1 ]; } ||
  [[ ${FAULTLINE_TOXIPROXY_IMAGE:-} == localhost/faultline-toxiproxy:* ]]; then
  node packages/netfaults/scripts/build-image.ts ${FAULTLINE_TOXIPROXY_IMAGE:+--tag "$FAULTLINE_TOXIPROXY_IMAGE"}
  export FAULTLINE_TOXIPROXY_IMAGE=${FAULTLINE_TOXIPROXY_IMAGE:-localhost/faultline-toxiproxy:local}
fi
echo "l3-containers: Toxiproxy image ${FAULTLINE_TOXIPROXY_IMAGE:-ghcr.io/shopify/toxiproxy:2.12.0 (default)}"

status=0
npx faultline run --layer l3 --backend containers --results "$RESULTS" || status=$?
gate=0
npx faultline gate --layer l3 --results "$RESULTS" --out "$OUT" || gate=$?
if [ "$status" -eq 0 ]; then status=$gate; fi

# faultline's own guarantee on this engine: SIGINT to `faultline run` while a test holds a Toxiproxy
# container removes the container within 2 s (faultline.matrix.yaml, issue interrupt). `npm test` has
# no engine and skips that test; here a missing engine fails it (SELF_REQUIRE_ENGINE=1).
self=0
(cd suites/self && SELF_REQUIRE_ENGINE=1 npx vitest run test/interrupt-containers.test.ts) || self=$?
if [ "$status" -eq 0 ]; then status=$self; fi
exit "$status"
