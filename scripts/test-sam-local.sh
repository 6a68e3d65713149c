#!/usr/bin/env bash
# make test-sam-local: the function as `sam build` built it (make sam-build), served by
# `sam local start-api` against a private moto server, driven through API Gateway's emulation
# (tests/sam_local/contract.py), in COGNITO mode: sam local runs no Cognito authorizer, so the
# function's own check of access tokens (from a user pool on the same moto) is what is tested.
#
# Docker: a user's own engine is used as it is when DOCKER_HOST or the default socket answers.
# Otherwise, on a machine taken as disposable, this script installs Debian's docker.io (and QEMU
# for an arm64 function on x86-64) and runs a private engine: its socket and data under the
# build directory, vfs storage, no NAT, and forwarding from its bridge dropped, so that
# containers reach only the host's bridge address, where moto listens. Whatever happens, it
# stops what it started and removes the bridge and the firewall rule it added. Disposable:
# IMAGE_API_PROVISION=1 (which .ci/run sets); or, unless IMAGE_API_PROVISION=0, a root shell
# with apt-get on a machine systemd does not run (a container, a CI or sandbox VM), where
# installing docker.io starts no system service. Anywhere else it fails and says why.
#
# The base image: sam builds its container FROM public.ecr.aws/lambda/provided:al2023-<arch>.
# Where that cannot be pulled (no registry is reachable here), and only with the opt-in, a
# STAND-IN for Amazon Linux is built under that tag from Debian packages (the architecture's
# libc6, libgcc-s1 and busybox-static, with /bin/sh, mv and chmod for the steps sam adds on
# top). The function is a static-enough Rust binary that needs only glibc and libgcc, so the
# stand-in runs it; it is not Amazon Linux, and where the real image can be pulled it is used.
set -euo pipefail
cd "$(dirname "$0")/.."

target="$(scripts/target-dir)"
work="$target/sam-local"
mkdir -p "$work"
deploy_bin="$PWD/${DEPLOY_VENV:-.venv-deploy}/bin"
venv_bin="$PWD/${VENV:-.venv}/bin"
provision="${IMAGE_API_PROVISION:-}"
disposable() {
  [ "$(id -u)" = 0 ] && [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ] && command -v apt-get >/dev/null
}
arch="$(sed -n 's/^ *- *\(arm64\|x86_64\) *$/\1/p' template.yaml | head -1)"
arch="${arch:-arm64}"
image="public.ecr.aws/lambda/provided:al2023-$arch"

cleanups=()
cleanup() {
  local i
  for ((i = ${#cleanups[@]} - 1; i >= 0; i--)); do
    eval "${cleanups[$i]}" || true
  done
}
trap cleanup EXIT
say() { echo "test-sam-local: $*" >&2; }
refuse() {
  say "$1"
  say "start Docker (or set DOCKER_HOST), or on a disposable Debian machine run as root with IMAGE_API_PROVISION=1 (as .ci/run does; without systemd, root is enough)"
  exit 1
}
install_packages() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# --- 1. A Docker engine ----------------------------------------------------------------------
if [ -n "${DOCKER_HOST:-}" ] && docker info >/dev/null 2>&1; then
  say "using the Docker engine at $DOCKER_HOST"
elif docker -H unix:///var/run/docker.sock info >/dev/null 2>&1; then
  export DOCKER_HOST=unix:///var/run/docker.sock
  say "using the Docker engine at $DOCKER_HOST"
elif [ "$provision" = 1 ] || { [ -z "$provision" ] && disposable; }; then
  [ "$provision" = 1 ] || say "no Docker engine, root, no systemd: taking this machine as disposable (IMAGE_API_PROVISION=0 refuses)"
  provision=1
  install_packages docker.io iptables
  engine="$work/engine"
  rm -rf "$engine" && mkdir -p "$engine"
  bridge_was_there=no
  ip link show docker0 >/dev/null 2>&1 && bridge_was_there=yes
  dockerd --iptables=false --ip6tables=false --ip-forward=false --storage-driver=vfs \
    --data-root "$engine/data" --exec-root "$engine/exec" --pidfile "$engine/dockerd.pid" \
    -H "unix://$engine/docker.sock" >"$engine/dockerd.log" 2>&1 &
  dockerd_pid=$!
  cleanups+=("kill $dockerd_pid; wait $dockerd_pid")
  if [ "$bridge_was_there" = no ]; then
    cleanups+=("ip link delete docker0 2>/dev/null")
  fi
  export DOCKER_HOST="unix://$engine/docker.sock"
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2>/dev/null || { cat "$engine/dockerd.log" >&2; refuse "the private Docker engine did not start"; }
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || refuse "the private Docker engine does not answer"
  # Containers reach the host's bridge address and nothing else.
  iptables -I FORWARD -i docker0 -j DROP
  cleanups+=("iptables -D FORWARD -i docker0 -j DROP")
  say "a private Docker engine at $DOCKER_HOST (no NAT, forwarding from docker0 dropped)"
else
  refuse "no Docker engine answers (DOCKER_HOST, /var/run/docker.sock)"
fi

# --- 2. QEMU for a function of another architecture -------------------------------------------
host_arch="$(uname -m)"
if [ "$arch" = arm64 ] && [ "$host_arch" = x86_64 ] && [ -z "${DOCKER_HOST##unix://*}" ]; then
  if ! grep -qs enabled /proc/sys/fs/binfmt_misc/qemu-aarch64; then
    [ "$provision" = 1 ] || refuse "an arm64 function on this x86-64 host needs QEMU user-mode emulation (qemu-user-static, binfmt-support)"
    install_packages qemu-user-static binfmt-support
    mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    # binfmt-support's database, else the systemd-binfmt file the package ships; F: the
    # interpreter is opened now, so it works inside containers too.
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 ||
      cat /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register
    grep -qs enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 || refuse "QEMU's arm64 emulation could not be enabled"
  fi
fi

# --- 3. The base image -----------------------------------------------------------------------
if ! docker image inspect "$image" >/dev/null 2>&1 && ! timeout 60 docker pull -q "$image" >/dev/null 2>&1; then
  [ "$provision" = 1 ] || refuse "$image cannot be pulled"
  say "$image cannot be pulled: building a STAND-IN for it from Debian packages (not Amazon Linux)"
  debian_arch="$arch"
  [ "$arch" = x86_64 ] && debian_arch=amd64
  if [ "$debian_arch" != "$(dpkg --print-architecture)" ] && ! dpkg --print-foreign-architectures | grep -qx "$debian_arch"; then
    dpkg --add-architecture "$debian_arch"
    cleanups+=("dpkg --remove-architecture $debian_arch")
    apt-get update -qq
  fi
  stand_in="$work/stand-in"
  rm -rf "$stand_in" && mkdir -p "$stand_in/debs" "$stand_in/root/bin" "$stand_in/root/tmp"
  (cd "$stand_in/debs" && apt-get download -qq "libc6:$debian_arch" "libgcc-s1:$debian_arch" "busybox-static:$debian_arch")
  for deb in "$stand_in"/debs/*.deb; do dpkg -x "$deb" "$stand_in/root"; done
  for tool in sh mv chmod cat ls mkdir rm env; do
    ln -sf /bin/busybox "$stand_in/root/bin/$tool"
  done
  tar -C "$stand_in/root" -cf "$stand_in/rootfs.tar" .
  printf 'FROM scratch\nADD rootfs.tar /\nENV PATH=/bin:/usr/bin\n' >"$stand_in/Dockerfile"
  docker build -q --platform "linux/$arch" -t "$image" "$stand_in" >/dev/null
fi

# --- 4. moto, where containers can reach it --------------------------------------------------
bridge="$(ip -4 -o addr show docker0 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1)"
bridge="${bridge:-127.0.0.1}"
port="$(scripts/free-port)"
"$venv_bin/moto_server" -H "$bridge" -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
cleanups+=("kill $moto_pid; wait $moto_pid")
scripts/wait-for "http://$bridge:$port/moto-api/" "$moto_pid" "$work/moto.log"
endpoint="http://$bridge:$port"
name="sam-local-$$"
LOCALSTACK_ENDPOINT="$endpoint" BUCKET_NAME="$name" TABLE_NAME="$name" ./setup-localstack.sh >/dev/null

# --- 5. sam local start-api ------------------------------------------------------------------
cognito=$("$venv_bin/python" scripts/cognito_users.py "$endpoint" contract)
pool=$(scripts/json-get pool_id <<<"$cognito")
client=$(scripts/json-get client_id <<<"$cognito")
password=$(scripts/json-get users.contract <<<"$cognito")
token=$(curl -sf -X POST "$endpoint/" -H "Content-Type: application/x-amz-json-1.1" \
  -H "X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth" \
  -d "{\"AuthFlow\":\"USER_PASSWORD_AUTH\",\"ClientId\":\"$client\",\"AuthParameters\":{\"USERNAME\":\"contract\",\"PASSWORD\":\"$password\"}}" |
  scripts/json-get AuthenticationResult.AccessToken)
printf '{"ImageApiFunction":{"LOCALSTACK_ENDPOINT":"%s","BUCKET_NAME":"%s","TABLE_NAME":"%s","COGNITO_USER_POOL_ID":"%s","COGNITO_CLIENT_IDS":"%s","COGNITO_ENDPOINT":"%s"}}\n' \
  "$endpoint" "$name" "$name" "$pool" "$client" "$endpoint" >"$work/env.json"
# The template never sets COGNITO_ENDPOINT (in AWS the keys come from Cognito alone), and sam
# passes only the variables a template declares: this test's copy of the built template, beside
# it so that its CodeUri still resolves, declares it, so that the keys come from moto's pool.
built=.aws-sam/build/template.yaml
under_test=.aws-sam/build/template-sam-local-test.yaml
grep -q 'COGNITO_ENDPOINT' "$built" && { say "the built template sets COGNITO_ENDPOINT"; exit 1; }
sed 's/^\( *\)LOCALSTACK_ENDPOINT:/\1COGNITO_ENDPOINT: ""\n&/' "$built" >"$under_test"
grep -q '^ *COGNITO_ENDPOINT: ""$' "$under_test" || { say "cannot declare COGNITO_ENDPOINT in $under_test"; exit 1; }
cleanups+=("rm -f $under_test")
api_port="$(scripts/free-port)"
# EAGER: the container (slow to start under QEMU) is up before the first request.
setsid "$deploy_bin/sam" local start-api --skip-pull-image --warm-containers EAGER \
  --template "$under_test" --env-vars "$work/env.json" --host 127.0.0.1 --port "$api_port" \
  --container-host-interface "$bridge" --container-host "$bridge" \
  >"$work/sam.log" 2>&1 &
sam_pid=$!
cleanups+=("kill -INT -$sam_pid; for _ in \$(seq 40); do kill -0 $sam_pid 2>/dev/null || break; sleep 0.5; done; kill -KILL -$sam_pid 2>/dev/null")
ready=no
for _ in $(seq 240); do
  if curl -sf -o /dev/null --max-time 20 -H "Authorization: Bearer $token" "http://127.0.0.1:$api_port/images?limit=1"; then
    ready=yes
    break
  fi
  kill -0 "$sam_pid" 2>/dev/null || break
  sleep 1
done
if [ "$ready" != yes ]; then
  tail -40 "$work/sam.log" >&2
  say "sam local start-api did not serve the API"
  exit 1
fi

IMAGE_API_TOKEN="$token" "$venv_bin/python" tests/sam_local/contract.py "http://127.0.0.1:$api_port"
