#!/usr/bin/env bash
# Test-only system packages: rsyslog (the real syslog collector the ship tests talk to),
# chromium (renders the HTML report headless), jq (the export benchmark's baseline), and
# ssh-keygen and gpg (real signed commits in the git tests).
# Installs only what is missing; without root or apt it says so and exits 0, and the tests
# that need a missing tool skip with that reason.
set -euo pipefail

missing=()
command -v rsyslogd >/dev/null 2>&1 || [ -x /usr/sbin/rsyslogd ] || missing+=(rsyslog)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)  # SSH-signed commits
command -v gpg >/dev/null 2>&1 || missing+=(gnupg)                   # GPG-signed commits
[ "${#missing[@]}" -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: apt-get not found; install ${missing[*]} yourself" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install-test-deps: not root; install ${missing[*]} yourself (tests will skip)" >&2
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
# An empty package index (fresh container) makes every install fail: refresh it first.
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}" ||
        echo "install-test-deps: could not install ${missing[*]} (tests will skip)" >&2
fi
