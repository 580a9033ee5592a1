# tests/e2e/lib/fleet.sh - a fleet of hosts on this machine for end-to-end
# tests of the `ssh` target (docs/fleet.md "Test bed"), sourced after
# tests/cli/lib.sh and tests/e2e/lib/local.sh.
#
#   need_fleet                  skip the whole test (counted as skipped, with
#                               the reason) without root, network namespaces,
#                               sshd, ssh or rsync
#   make_fleet N [REGIONS...]   N hosts h1..hN: each a network namespace with
#                               a veth on a private bridge (10.231.X.0/24, X
#                               from the test's pid; the bridge has .1, host i
#                               has .(10+i); no route leaves the machine), and
#                               its own sshd (own host key, root login by the
#                               test's generated key only).  Writes
#                               $T/proj/hosts.yaml (host i in REGIONS[i %
#                               count], default "r1"), $T/proj/ssh/id_ed25519
#                               and $T/proj/ssh/known_hosts.
#   fleet_addr I                address of host hI
#   fleet_ns I                  its namespace name
#   fleet_cut I / fleet_heal I  link of host hI down / up (a partition)
# Teardown runs from the test's EXIT trap (at_exit), also after a failure:
# every process of every namespace is killed, namespaces and bridge deleted.

FLEET_ID=$(( $$ % 100000 ))
FLEET_NET="10.231.$(( $$ % 250 + 1 ))"
FLEET_BR="swfb$FLEET_ID"
FLEET_N=0

need_fleet() {
  local why=""
  if [ "$(id -u)" != 0 ]; then why="needs root (network namespaces, veth, a bridge)"
  elif ! command -v ip >/dev/null 2>&1; then why="needs iproute2 (ip)"
  elif [ ! -x /usr/sbin/sshd ]; then why="needs Debian's openssh-server (tools/deps.sh fleet)"
  elif ! command -v ssh >/dev/null 2>&1 || ! command -v rsync >/dev/null 2>&1; then why="needs ssh and rsync (tools/deps.sh fleet)"
  elif ! ip netns add "swfprobe$FLEET_ID" 2>/dev/null; then why="cannot create network namespaces here"
  else ip netns del "swfprobe$FLEET_ID"
  fi
  if [ -n "$why" ]; then echo "1..1"; echo "ok 1 - fleet test # SKIP $why"; exit 0; fi
}

fleet_ns() { echo "swf$FLEET_ID-h$1"; }
fleet_addr() { echo "$FLEET_NET.$(( 10 + $1 ))"; }

_fleet_teardown() {
  local i ns p
  for i in $(seq 1 "$FLEET_N"); do
    ns=$(fleet_ns "$i")
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
  done
  sleep 0.3
  for i in $(seq 1 "$FLEET_N"); do
    ns=$(fleet_ns "$i")
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  ip link del "$FLEET_BR" 2>/dev/null
  # the controller's shared SSH connections (ControlPersist) end with their sockets
  for p in "$SLIPWAY_STATE_DIR"/ssh/*; do
    [ -S "$p" ] && ssh -o ControlPath="$p" -O exit fleet-host >/dev/null 2>&1
  done
  return 0
}

make_fleet() { # N [REGIONS...]
  local n=$1 i ns addr d regions
  shift
  regions=("$@")
  [ ${#regions[@]} -gt 0 ] || regions=(r1)
  at_exit _fleet_teardown
  # killed (tests/run's timeout, ^C): the EXIT trap still tears the fleet down
  trap 'exit 143' TERM
  trap 'exit 130' INT
  mkdir -p "$T/fleet" "$T/proj/ssh"
  ip link add "$FLEET_BR" type bridge || return 1
  ip addr add "$FLEET_NET.1/24" dev "$FLEET_BR"
  ip link set "$FLEET_BR" up
  ssh-keygen -q -t ed25519 -N "" -C slipway-test -f "$T/proj/ssh/id_ed25519" || return 1
  cp "$T/proj/ssh/id_ed25519.pub" "$T/fleet/authorized_keys"
  chmod 600 "$T/fleet/authorized_keys"
  : >"$T/proj/ssh/known_hosts"
  mkdir -p /run/sshd
  printf 'ssh:\n  user: root\n  identity: ssh/id_ed25519\n  known_hosts: ssh/known_hosts\n  connect_timeout: 3s\nhosts:\n' >"$T/proj/hosts.yaml"
  for i in $(seq 1 "$n"); do
    ns=$(fleet_ns "$i"); addr=$(fleet_addr "$i"); d="$T/fleet/h$i"
    FLEET_N=$i
    mkdir -p "$d/root"
    ip netns add "$ns" || return 1
    ip link add "swf${FLEET_ID}v$i" type veth peer name "swf${FLEET_ID}p$i" || return 1
    ip link set "swf${FLEET_ID}v$i" master "$FLEET_BR" up
    ip link set "swf${FLEET_ID}p$i" netns "$ns"
    ip -n "$ns" link set "swf${FLEET_ID}p$i" name eth0
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    ssh-keygen -q -t ed25519 -N "" -f "$d/host_key" || return 1
    cat >"$d/sshd_config" <<CFG
ListenAddress $addr
Port 22
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $T/fleet/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
StrictModes no
MaxStartups 100
MaxSessions 100
CFG
    ip netns exec "$ns" /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log" || { cat "$d/sshd.log"; return 1; }
    echo "$addr $(cut -d' ' -f1,2 "$d/host_key.pub")" >>"$T/proj/ssh/known_hosts"
    printf '  - {name: h%d, address: "%s", region: %s, dir: "%s/root"}\n' "$i" "$addr" \
      "${regions[$(( (i - 1) % ${#regions[@]} ))]}" "$d" >>"$T/proj/hosts.yaml"
  done
  for i in $(seq 1 "$n"); do
    local k
    for k in $(seq 1 50); do
      ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$T/proj/ssh/known_hosts" \
        -o ConnectTimeout=2 -i "$T/proj/ssh/id_ed25519" "root@$(fleet_addr "$i")" true 2>/dev/null && break
      sleep 0.1
    done
  done
}

fleet_cut() { ip -n "$(fleet_ns "$1")" link set eth0 down; }
fleet_heal() { ip -n "$(fleet_ns "$1")" link set eth0 up; }
