#!/usr/bin/env bash
# Installs the system packages the test suites need on a fresh Debian (bookworm) machine, as root,
# without a terminal:
#   - Debian's real fail2ban (+ pyinotify) for the end-to-end suites (test/helpers/fail2ban.ts
#     runs it in a private scratch directory with its own socket, config and log);
#   - systemd-analyze (package systemd) for the unit lint in test/systemd/;
#   - lintian (checks the .deb of test/install/deb.test.ts) and binutils (strip, for scripts/package.ts);
#   - rsyslog, rsyslog-gnutls, rsyslog-relp, openssl and logrotate for the fleet suite
#     (test/e2e/rsyslog-fleet.test.ts: private rsyslogd instances in a scratch directory, TLS
#     material made with openssl, the contrib logrotate file run by the real logrotate).
# The package's maintainer scripts must NOT start the system fail2ban service (it would touch the
# host's packet filter) nor the system rsyslog (it would take /dev/log and write /var/log): a
# policy-rc.d that denies every start is put in place for the install, and a system fail2ban-server
# or rsyslogd that was started anyway is stopped.
# Idempotent: does nothing when everything is already there.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need=()
command -v fail2ban-server >/dev/null 2>&1 || need+=(fail2ban)
dpkg-query -W -f='${Status}' python3-pyinotify 2>/dev/null | grep -q 'ok installed' || need+=(python3-pyinotify)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v lintian >/dev/null 2>&1 || need+=(lintian)
command -v strip >/dev/null 2>&1 || need+=(binutils)
new_rsyslog=0
[ -x /usr/sbin/rsyslogd ] || { need+=(rsyslog); new_rsyslog=1; }
for pkg in rsyslog-gnutls rsyslog-relp; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || need+=("$pkg")
done
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v logrotate >/dev/null 2>&1 || need+=(logrotate)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-deps: fail2ban, python3-pyinotify, systemd-analyze, lintian, strip, rsyslog (+ gnutls, relp), openssl and logrotate already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: must run as root to install: ${need[*]}" >&2
  exit 1
fi

# invoke-rc.d / deb-systemd-invoke ask /usr/sbin/policy-rc.d; exit 101 = "action forbidden".
# Keep an existing one (Docker images ship one); otherwise add ours and remove it afterwards.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# added by f2b-sophosxg .ci/install-deps.sh for the duration of an install\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" -eq 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

echo "install-deps: installing ${need[*]}"
apt-get update -qq
# RUNLEVEL=1 makes invoke-rc.d skip starts as well, for images where policy-rc.d is ignored.
RUNLEVEL=1 apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null

# Belt and braces: if the system server runs anyway (e.g. a real systemd picked it up), stop it
# through the system socket only; the tests never use it.
if [ -S /run/fail2ban/fail2ban.sock ]; then
  fail2ban-client -s /run/fail2ban/fail2ban.sock stop >/dev/null 2>&1 || true
fi
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now fail2ban.service >/dev/null 2>&1 || true
  if [ "$new_rsyslog" -eq 1 ]; then systemctl disable --now rsyslog.service >/dev/null 2>&1 || true; fi
fi
# Without systemd, a system rsyslogd started anyway by THIS install has its pid in /run/rsyslogd.pid
# (the fleet suite's own instances use -i in their scratch directories, never this file). One that
# ran before the install is the machine's own and is left alone.
if [ "$new_rsyslog" -eq 1 ] && [ -s /run/rsyslogd.pid ]; then
  kill "$(cat /run/rsyslogd.pid)" >/dev/null 2>&1 || true
fi

fail2ban-server --version | head -n 1
systemd-analyze --version | head -n 1
lintian --version
/usr/sbin/rsyslogd -v | head -n 1
logrotate --version 2>&1 | head -n 1
